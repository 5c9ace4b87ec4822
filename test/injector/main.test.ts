import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import jsonpatch from 'fast-json-patch';
import { parseAllDocuments } from 'yaml';
import { loadInjectorConfig, sidecarSettings } from '../../injector/config.ts';
import { decide, decisionPolicy } from '../../injector/decision.ts';
import { diff } from '../../injector/json-patch.ts';
import { chooseMode, parseKubeVersionText } from '../../injector/mode.ts';
import { meshWiringStep } from '../../injector/mesh-wiring.ts';
import { injectSidecar } from '../../injector/mutation.ts';
import type { Pod } from '../../injector/pod.ts';
import { INJECTOR_VERSION } from '../../injector/version.ts';
import { tempDir } from './certs.ts';
import { assertValidPod } from './support.ts';

interface Workload {
  kind: string;
  metadata: { name?: string };
  spec: { template?: Pod; jobTemplate?: { spec: { template: Pod } } };
}

function documents(text: string): Workload[] {
  const docs = parseAllDocuments(text);
  assert.ok(Array.isArray(docs));
  return docs.map((d) => d.toJS() as Workload);
}

const MAIN = fileURLToPath(new URL('../../injector/main.ts', import.meta.url));

function run(args: string[], input?: string) {
  // process.execPath: the Node 24 that runs the tests (the machine's own node is older).
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', input, timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const CONFIG = `
sidecar:
  image: ghcr.io/example/tracebridge:0.1.0
  native: auto
  config_map: tracebridge-sidecar
  exporter: { traces_endpoint: https://xray.us-east-1.amazonaws.com/v1/traces, region: us-east-1 }
`;

const MANIFEST = `# the shop
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: { tracebridge.io/inject: "true" }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers: [{ name: web, image: shop/web:1 }]
---
apiVersion: v1
kind: Service   # left exactly as written
metadata: { name: web, namespace: shop }
spec: { ports: [{ port: 80 }] }
---
apiVersion: batch/v1
kind: CronJob
metadata: { name: report, namespace: batch }
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: report
              image: shop/report:2
              env: [{ name: OTEL_EXPORTER_OTLP_ENDPOINT, value: "http://gateway:4318" }]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: agent, namespace: kube-system }
spec:
  selector: { matchLabels: { app: agent } }
  template:
    metadata: { labels: { app: agent } }
    spec:
      hostNetwork: true
      containers: [{ name: agent, image: x/agent:1, env: [{ name: OTEL_TRACES_EXPORTER, value: otlp }] }]
---
apiVersion: v1
kind: Pod
metadata: { name: debug, namespace: shop, annotations: { tracebridge.io/inject: "false" } }
spec:
  containers: [{ name: sh, image: busybox }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: db, namespace: data }
spec:
  serviceName: db
  selector: { matchLabels: { app: db } }
  template:
    metadata: { labels: { app: db } }
    spec:
      containers: [{ name: db, image: postgres:17 }]
---
apiVersion: batch/v1
kind: Job
metadata: { generateName: migrate-, namespace: shop }
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{ name: migrate, image: shop/migrate:1 }]
`;

describe('tracebridge-injector inject (child process)', () => {
  let dir: string;
  before(() => {
    dir = tempDir('tb-inject-');
    writeFileSync(join(dir, 'injector.yaml'), CONFIG);
    writeFileSync(join(dir, 'manifest.yaml'), MANIFEST);
  });

  it('injects Deployments, CronJobs, Jobs and Pods, prints each reason on stderr', () => {
    const r = run(['inject', '--config', join(dir, 'injector.yaml'), '-f', join(dir, 'manifest.yaml'), '--kube-version', '1.31']);
    assert.equal(r.code, 0, r.stderr);
    const objs = documents(r.stdout);
    assert.deepEqual(
      objs.map((o) => o.kind),
      ['Namespace', 'Deployment', 'Service', 'CronJob', 'DaemonSet', 'Pod', 'StatefulSet', 'Job'],
    );
    const templateOf = (o: Workload): Pod => {
      const t = o.kind === 'CronJob' ? o.spec.jobTemplate!.spec.template : o.spec.template!;
      return { apiVersion: 'v1', kind: 'Pod', metadata: t.metadata ?? {}, spec: t.spec };
    };
    const injected = (p: Pod) => (p.spec?.initContainers ?? []).some((c) => c.name === 'tracebridge');
    const web = templateOf(objs[1]!);
    assert.ok(injected(web), 'namespace opt-in read from the Namespace in the manifest');
    assert.equal(web.metadata!.labels!.app, 'web');
    assertValidPod(web);
    const report = templateOf(objs[3]!);
    assert.ok(injected(report));
    assertValidPod(report);
    assert.ok(!injected(templateOf(objs[4]!)), 'kube-system / hostNetwork DaemonSet left alone');
    assert.equal((objs[5] as unknown as Pod).spec!.initContainers, undefined, 'opted-out Pod left alone');
    assert.ok(!injected(templateOf(objs[6]!)), 'no signal');
    assert.ok(injected(templateOf(objs[7]!)), 'Job in the opted-in namespace');
    // Untouched documents keep their comments.
    assert.match(r.stdout, /^kind: Service {3}# left exactly as written$/m);
    assert.match(r.stdout, /^# the shop/);

    const lines = r.stderr.trim().split('\n');
    assert.deepEqual(
      lines.map((l) => l.split(':')[0]),
      ['deployment/web (shop)', 'cronjob/report (batch)', 'daemonset/agent (kube-system)', 'pod/debug (shop)', 'statefulset/db (data)', 'job/migrate-* (shop)'],
    );
    assert.match(lines[0]!, /injected \(opt-in-namespace: .*\); native sidecar \(sidecar\.native: auto and Kubernetes v1\.31/);
    assert.match(lines[1]!, /injected \(auto-otel-env: .*namespace metadata unknown \(offline: namespace batch is not in the manifest\), decided on the pod alone/);
    assert.match(lines[2]!, /unchanged \(namespace-skipped/);
    assert.match(lines[3]!, /unchanged \(opt-out/);
    assert.match(lines[4]!, /unchanged \(no-span-signal/);
  });

  it('is idempotent: injecting its own output changes nothing', () => {
    const first = run(['inject', '--config', join(dir, 'injector.yaml'), '-f', join(dir, 'manifest.yaml')]);
    const second = run(['inject', '--config', join(dir, 'injector.yaml'), '-f', '-'], first.stdout);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout, first.stdout);
    assert.match(second.stderr, /deployment\/web \(shop\): unchanged \(already-injected/);
  });

  it('without --kube-version, native: auto assumes a supported Kubernetes (native) and says so; 1.28 gives classic', () => {
    const r = run(['inject', '--config', join(dir, 'injector.yaml'), '-f', join(dir, 'manifest.yaml')]);
    assert.match(r.stderr, /native sidecar \(sidecar\.native: auto; offline, no --kube-version: assuming Kubernetes >= 1\.29 \(native sidecars\)\)/);
    const web = documents(r.stdout)[1]!.spec.template!;
    assert.ok(web.spec!.initContainers!.some((c) => c.name === 'tracebridge' && c.restartPolicy === 'Always'));
    const old = run(['inject', '--config', join(dir, 'injector.yaml'), '-f', join(dir, 'manifest.yaml'), '--kube-version', '1.28']);
    assert.match(old.stderr, /classic sidecar \(sidecar\.native: auto and Kubernetes v1\.28 < 1\.29\)/);
    assert.ok(documents(old.stdout)[1]!.spec.template!.spec!.containers!.some((c) => c.name === 'tracebridge'));
  });

  it('prints exactly what the webhook would produce for the same pod', () => {
    const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'shop' }, spec: { containers: [{ name: 'a', image: 'a:1', env: [{ name: 'OTEL_TRACES_EXPORTER', value: 'otlp' }] }] } };
    const r = run(['inject', '--config', join(dir, 'injector.yaml'), '-f', '-', '--kube-version', 'v1.29.0'], JSON.stringify(pod));
    assert.equal(r.code, 0, r.stderr);
    const offline = documents(r.stdout)[0] as unknown as Pod;

    const cfg = loadInjectorConfig(join(dir, 'injector.yaml'), { requireTls: false });
    const ns = { known: false as const, name: 'shop', why: 'offline: namespace shop is not in the manifest' };
    const decision = decide(pod, ns, decisionPolicy(cfg));
    const mode = chooseMode('auto', parseKubeVersionText('v1.29.0')!);
    const { pod: expected } = injectSidecar(pod, { settings: sidecarSettings(cfg), mode, decision, version: INJECTOR_VERSION }, [meshWiringStep(cfg, ns)]);
    // The webhook's JSON Patch applied to the pod lands on the same object.
    const patched = jsonpatch.applyPatch(structuredClone(pod), diff(pod, expected) as jsonpatch.Operation[], true, false).newDocument;
    assert.deepEqual(offline, patched);
    assertValidPod(offline);
  });

  it('shows the mesh wiring of meshed Deployments (Istio namespace, Linkerd annotation)', () => {
    const meshed = `apiVersion: v1
kind: Namespace
metadata: { name: bookinfo, labels: { istio-injection: enabled } }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: reviews, namespace: bookinfo }
spec:
  selector: { matchLabels: { app: reviews } }
  template:
    metadata:
      labels: { app: reviews }
      annotations: { proxy.istio.io/config: '{"holdApplicationUntilProxyStarts":true}' }
    spec:
      containers: [{ name: reviews, image: bookinfo/reviews:1 }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: emoji, namespace: emojivoto }
spec:
  selector: { matchLabels: { app: emoji } }
  template:
    metadata:
      labels: { app: emoji }
      annotations: { linkerd.io/inject: enabled }
    spec:
      containers: [{ name: emoji, image: emojivoto/emoji:1 }]
`;
    writeFileSync(join(dir, 'meshed.yaml'), meshed);
    const r = run(['inject', '--config', join(dir, 'injector.yaml'), '-f', join(dir, 'meshed.yaml'), '--kube-version', '1.33']);
    assert.equal(r.code, 0, r.stderr);
    const [, reviews, emoji] = documents(r.stdout);
    const ra = reviews!.spec.template!.metadata!.annotations!;
    assert.deepEqual(JSON.parse(ra['proxy.istio.io/config']!), {
      holdApplicationUntilProxyStarts: true,
      tracing: { zipkin: { address: '127.0.0.1:9411' }, sampling: 1, max_path_tag_length: 256 },
    });
    assert.equal(ra['traffic.sidecar.istio.io/excludeInboundPorts'], '13133,8888');
    const ea = emoji!.spec.template!.metadata!.annotations!;
    assert.deepEqual(JSON.parse(ea['config.linkerd.io/proxy-additional-env']!), [
      { name: 'LINKERD2_PROXY_TRACE_COLLECTOR_SVC_ADDR', value: '127.0.0.1:4317' },
      { name: 'LINKERD2_PROXY_TRACE_PROTOCOL', value: 'opentelemetry' },
    ]);
    assert.equal(ea['config.linkerd.io/skip-inbound-ports'], '13133,8888');
    assert.match(r.stderr, /deployment\/reviews \(bookinfo\): injected \(auto-istio: .*istio wiring applied: .*zipkin 127\.0\.0\.1:9411/);
    assert.match(r.stderr, /deployment\/emoji \(emojivoto\): injected \(auto-linkerd: .*linkerd wiring applied: .*LINKERD2_PROXY_TRACE_COLLECTOR_SVC_ADDR=127\.0\.0\.1:4317/);
  });

  it('shows the header bridge: sidecar env, app HTTP_PROXY/NO_PROXY, containers left alone and why', () => {
    const bridged = `apiVersion: apps/v1
kind: Deployment
metadata: { name: storefront, namespace: shop }
spec:
  selector: { matchLabels: { app: storefront } }
  template:
    metadata:
      labels: { app: storefront }
      annotations: { tracebridge.io/inject: "true", tracebridge.io/header-bridge: "true" }
    spec:
      initContainers: [{ name: migrate, image: shop/migrate:1 }]
      containers:
        - { name: web, image: shop/web:3 }
        - { name: egress, image: shop/egress:1, env: [{ name: HTTP_PROXY, value: "http://squid.corp:3128" }] }
`;
    writeFileSync(join(dir, 'bridged.yaml'), bridged);
    const r = run(['inject', '--config', join(dir, 'injector.yaml'), '-f', join(dir, 'bridged.yaml'), '--kube-version', '1.33']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /deployment\/storefront \(shop\): injected \(opt-in-pod: .*; header bridge http:\/\/127\.0\.0\.1:13128; HTTP_PROXY set on web; left alone: egress \(HTTP_PROXY already set/);
    const tpl = documents(r.stdout)[0]!.spec.template!;
    assertValidPod({ apiVersion: 'v1', kind: 'Pod', metadata: tpl.metadata ?? {}, spec: tpl.spec });
    const [migrate, sidecar] = tpl.spec!.initContainers!;
    assert.equal(migrate!.env, undefined, 'init container untouched');
    assert.ok(sidecar!.env!.some((e) => e.name === 'TRACEBRIDGE_HEADER_BRIDGE' && e.value === 'true'));
    const [web, egress] = tpl.spec!.containers!;
    const env = new Map(web!.env!.map((e) => [e.name, e.value]));
    assert.equal(env.get('HTTP_PROXY'), 'http://127.0.0.1:13128');
    assert.match(env.get('NO_PROXY')!, /^127\.0\.0\.1,localhost,::1,\$\(TRACEBRIDGE_POD_IP\),/);
    assert.equal(env.get('HTTPS_PROXY'), undefined);
    assert.deepEqual(egress!.env!.map((e) => e.name), ['HTTP_PROXY'], 'its own proxy kept; SDK defaults reach the sidecar');
  });

  it('reports config errors with their paths and exits 1', () => {
    writeFileSync(join(dir, 'bad.yaml'), 'sidecar: { imge: x, native: maybe }\npolicy: { autp: true }\n');
    const r = run(['inject', '--config', join(dir, 'bad.yaml'), '-f', join(dir, 'manifest.yaml')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /sidecar\.imge: unknown key/);
    assert.match(r.stderr, /sidecar\.native: expected auto, true or false/);
    assert.match(r.stderr, /policy\.autp: unknown key/);
    assert.equal(r.stdout, '');
  });

  it('validate: the webhook needs a key pair', () => {
    const r = run(['validate', '--config', join(dir, 'injector.yaml')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /tls\.cert_file: required to serve the webhook/);
  });

  it('the webhook refuses to start without a readable key pair, before listening', () => {
    writeFileSync(join(dir, 'serve.yaml'), `${CONFIG}\nendpoint: 127.0.0.1:0\ntls: { cert_file: ${join(dir, 'none.crt')}, key_file: ${join(dir, 'none.key')} }\n`);
    const r = run(['--config', join(dir, 'serve.yaml')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /tls\.cert_file .*none\.crt/);
    assert.doesNotMatch(r.stderr, /webhook listening/);
  });
});
