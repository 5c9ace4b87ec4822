// `tracebridge-injector inject`, run with the shipped injector config over the sample meshed
// applications in mesh-configs/examples/: the output is valid Kubernetes, the sidecar it adds is
// the one the manifests and the sidecar ConfigMap describe, and the mesh wiring points the proxy
// at the sidecar's loopback ports.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1';
import { decodeInjectorConfig, type InjectorConfig } from '../../injector/config.ts';
import { runProcess } from '../support/process.ts';
import { INJECTOR_CONFIG_FILE, SIDECAR_CONFIGMAP_FILE, at, configMapData, hostPort, isObj, tempDir, type Obj } from './support.ts';

const injectorText = configMapData(INJECTOR_CONFIG_FILE);
const cfg: InjectorConfig = decodeInjectorConfig(parseYaml(injectorText), { requireTls: true });
const sidecarConfig = parseYaml(configMapData(SIDECAR_CONFIGMAP_FILE)) as Obj;
const dir = tempDir('tb-inject-');
const configFile = join(dir, 'injector.yaml');
writeFileSync(configFile, injectorText);

interface Injected {
  objects: Obj[];
  reports: string;
}

async function inject(example: string): Promise<Injected> {
  const res = await runProcess('injector/main.ts', ['inject', '--config', configFile, '-f', `mesh-configs/examples/${example}`, '--kube-version', '1.30']);
  assert.equal(res.code, 0, res.stderr);
  const objects = parseAllDocuments(res.stdout)
    .map((d) => d.toJS() as unknown)
    .filter(isObj);
  return { objects, reports: res.stderr };
}

function template(objects: Obj[], name: string): { metadata: Obj & { annotations: Record<string, string> }; spec: Obj } {
  const dep = objects.find((o) => o.kind === 'Deployment' && isObj(o.metadata) && o.metadata.name === name);
  assert.ok(dep !== undefined, `deployment ${name} in the output`);
  return at(dep, 'spec.template') as { metadata: Obj & { annotations: Record<string, string> }; spec: Obj };
}

function sidecarOf(tpl: { spec: Obj }): Obj {
  const all = [...((tpl.spec.initContainers as Obj[] | undefined) ?? []), ...((tpl.spec.containers as Obj[] | undefined) ?? [])];
  const sidecar = all.find((c) => c.name === cfg.sidecar.container_name);
  assert.ok(sidecar !== undefined, 'the tracebridge container');
  return sidecar;
}

function envOf(c: Obj): Record<string, string> {
  return Object.fromEntries(((c.env as { name: string; value?: string }[] | undefined) ?? []).map((e) => [e.name, e.value ?? '']));
}

const port = (path: string) => hostPort(at(sidecarConfig, path)).port;

describe('mesh-configs/examples: tracebridge-injector inject (Istio sample)', () => {
  let out: Injected;
  before(async () => {
    out = await inject('istio-meshed-app.yaml');
  });

  it('injects both workloads and says why', () => {
    assert.match(out.reports, /deployment\/checkout \(shop\): injected \(auto-istio: namespace shop has istio-injection=enabled\)/);
    assert.match(out.reports, /deployment\/invoice-worker \(shop\): injected \(auto-xray-env/);
  });

  it('prints Deployments that pass the Kubernetes schema, other objects unchanged', () => {
    for (const o of out.objects.filter((x) => x.kind === 'Deployment')) new Deployment(o).validate();
    assert.ok(out.objects.some((o) => o.kind === 'Service'));
    assert.ok(out.objects.some((o) => o.kind === 'Namespace'));
  });

  it('adds the sidecar the manifests describe: image, native mode, ConfigMap, probe port, restricted securityContext', () => {
    const tpl = template(out.objects, 'checkout');
    const sidecar = sidecarOf(tpl);
    assert.equal(sidecar.image, cfg.sidecar.image);
    assert.equal(sidecar.restartPolicy, 'Always', 'native sidecar on Kubernetes 1.30');
    assert.equal(at(sidecar, 'startupProbe.httpGet.port'), port('extensions.health_check.endpoint'));
    assert.equal(at(sidecar, 'livenessProbe.httpGet.port'), port('extensions.health_check.endpoint'));
    assert.equal(at(sidecar, 'securityContext.readOnlyRootFilesystem'), true);
    assert.equal(at(sidecar, 'securityContext.runAsUser'), 65532);
    const env = envOf(sidecar);
    assert.equal(env.TRACEBRIDGE_CONFIG, '/etc/tracebridge/config.yaml');
    assert.equal(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, cfg.sidecar.exporter.traces_endpoint);
    assert.equal(env.AWS_REGION, cfg.sidecar.exporter.region);
    const volume = (tpl.spec.volumes as Obj[]).find((v) => isObj(v.configMap) && v.configMap.name === cfg.sidecar.config_map);
    assert.ok(volume !== undefined, 'the sidecar ConfigMap volume');
    assert.equal(at(volume, 'configMap.optional'), true);
    const declared = (sidecar.ports as { containerPort: number; protocol: string }[]).map((p) => `${p.containerPort}/${p.protocol}`);
    for (const path of ['receivers.otlp.protocols.grpc.endpoint', 'receivers.otlp.protocols.http.endpoint', 'receivers.zipkin.endpoint', 'extensions.health_check.endpoint']) {
      assert.ok(declared.includes(`${port(path)}/TCP`), path);
    }
    assert.ok(declared.includes(`${port('receivers.awsxray.endpoint')}/UDP`));
  });

  it("leaves apps whose SDK defaults already reach the sidecar's loopback receivers as they are", () => {
    // The sidecar config of the manifests keeps the SDK default ports, so nothing needs setting.
    assert.equal(port('receivers.otlp.protocols.grpc.endpoint'), 4317);
    assert.equal(port('receivers.otlp.protocols.http.endpoint'), 4318);
    assert.equal(port('receivers.awsxray.endpoint'), 2000);
    const checkout = template(out.objects, 'checkout');
    const app = envOf((checkout.spec.containers as Obj[]).find((c) => c.name === 'app')!);
    assert.deepEqual(Object.keys(app).filter((k) => k.startsWith('OTEL_EXPORTER_') || k.startsWith('AWS_XRAY')), []);
    const status = JSON.parse(checkout.metadata.annotations['tracebridge.io/status']!) as { appEnv: Record<string, { reaches: boolean; set: string[] }> };
    assert.deepEqual(status.appEnv.app, { ...status.appEnv.app, reaches: true, set: [] });
    const worker = envOf((template(out.objects, 'invoice-worker').spec.containers as Obj[])[0]!);
    assert.equal(worker.AWS_XRAY_DAEMON_ADDRESS, '127.0.0.1:2000', "the app's own value is kept");
  });

  it('records the decision in tracebridge.io/status', () => {
    const status = JSON.parse(template(out.objects, 'checkout').metadata.annotations['tracebridge.io/status']!) as Obj;
    assert.equal(status.reason, 'auto-istio');
    assert.equal(status.mode, 'native');
  });

  it("wires Envoy's Zipkin tracer to the sidecar (proxy.istio.io/config) and keeps its ports out of Envoy", function () {
    const annotations = template(out.objects, 'checkout').metadata.annotations;
    const proxyConfig = annotations['proxy.istio.io/config'];
    if (proxyConfig === undefined) {
      this.test!.title += ' (pending: the injector does not write Istio wiring yet, issue 7)';
      this.skip();
    }
    const tracing = at(parseYaml(proxyConfig), 'tracing') as Obj;
    assert.equal(at(tracing, 'zipkin.address'), `127.0.0.1:${port('receivers.zipkin.endpoint')}`);
    assert.equal(tracing.sampling, cfg.mesh.istio.sampling);
    const excluded = String(annotations['traffic.sidecar.istio.io/excludeInboundPorts']).split(',');
    assert.ok(excluded.includes(String(cfg.sidecar.ports.health)) && excluded.includes(String(cfg.sidecar.ports.metrics)), excluded.join(','));
  });
});

describe('mesh-configs/examples: tracebridge-injector inject (Linkerd sample)', () => {
  let out: Injected;
  before(async () => {
    out = await inject('linkerd-meshed-app.yaml');
  });

  it('injects the meshed workload and says why', () => {
    assert.match(out.reports, /deployment\/ledger \(payments\): injected \(auto-linkerd/);
    for (const o of out.objects.filter((x) => x.kind === 'Deployment')) new Deployment(o).validate();
    sidecarOf(template(out.objects, 'ledger'));
  });

  it('points linkerd-proxy at the sidecar over OTLP (address and protocol) and keeps its ports out of the proxy', function () {
    const annotations = template(out.objects, 'ledger').metadata.annotations;
    const extra = annotations['config.linkerd.io/proxy-additional-env'];
    if (extra === undefined) {
      this.test!.title += ' (pending: the injector does not write Linkerd wiring yet, issue 7)';
      this.skip();
    }
    const env = Object.fromEntries((JSON.parse(extra) as { name: string; value: string }[]).map((e) => [e.name, e.value]));
    assert.equal(env.LINKERD2_PROXY_TRACE_COLLECTOR_SVC_ADDR, `127.0.0.1:${port('receivers.otlp.protocols.grpc.endpoint')}`);
    // linkerd2-proxy defaults to OpenCensus when both protocols are supported (http_tracing.rs,
    // `#[default] OpenCensus`; Linkerd edge-24.10.1 notes); the sidecar receives OTLP only.
    assert.equal(env.LINKERD2_PROXY_TRACE_PROTOCOL, 'opentelemetry', 'without it the proxy speaks OpenCensus to the OTLP port');
    const skipped = String(annotations['config.linkerd.io/skip-inbound-ports']).split(',');
    assert.ok(skipped.includes(String(cfg.sidecar.ports.health)) && skipped.includes(String(cfg.sidecar.ports.metrics)), skipped.join(','));
  });
});
