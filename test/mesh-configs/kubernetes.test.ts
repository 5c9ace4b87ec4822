// The Kubernetes manifests, the injector's config and the injector itself agree: ports, paths,
// names, selectors, TLS wiring, RBAC, the webhook's admission settings and its ordering. The last
// test runs the injector with the shipped config and calls it the way the manifests say the API
// server and the kubelet will.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join, posix } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { decodeInjectorConfig, type InjectorConfig } from '../../injector/config.ts';
import { runProcess, startProcess } from '../support/process.ts';
import { INJECTOR_CONFIG_FILE, ROOT, at, configMapData, findObject, hostPort, isObj, tempDir, type Obj } from './support.ts';
import { DEFAULT_UID } from '../../injector/sidecar-container.ts';

const K = 'mesh-configs/kubernetes';
const deployment = findObject(`${K}/deployment.yaml`, 'Deployment');
const podSpec = at(deployment, 'spec.template.spec') as Obj;
const podLabels = at(deployment, 'spec.template.metadata.labels') as Record<string, string>;
const container = (at(podSpec, 'containers') as Obj[]).find((c) => c.name === 'injector')!;
const service = findObject(`${K}/service.yaml`, 'Service');
const webhookConfig = findObject(`${K}/webhook.yaml`, 'MutatingWebhookConfiguration');
const webhook = (at(webhookConfig, 'webhooks') as Obj[])[0]!;
const injectorConfigText = configMapData(INJECTOR_CONFIG_FILE);
const cfg: InjectorConfig = decodeInjectorConfig(parseYaml(injectorConfigText), { requireTls: true });
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

// Mutating webhook configurations the ordering must beat.
const MESH_WEBHOOKS = ['istio-revision-tag-default', 'istio-sidecar-injector', 'linkerd-proxy-injector-webhook-config', 'pod-identity-webhook'];

function containerPort(name: unknown): number {
  const port = (container.ports as Obj[]).find((p) => p.name === name || p.containerPort === name);
  assert.ok(port !== undefined, `container port ${String(name)}`);
  return port.containerPort as number;
}

function volume(name: string): Obj {
  const v = (at(podSpec, 'volumes') as Obj[]).find((x) => x.name === name);
  assert.ok(v !== undefined, `volume ${name}`);
  return v;
}

function mountPath(volumeName: string): string {
  const m = (container.volumeMounts as Obj[]).find((x) => x.name === volumeName);
  assert.ok(m !== undefined, `mount of ${volumeName}`);
  return m.mountPath as string;
}

describe('mesh-configs/kubernetes: injector config', () => {
  it('passes `tracebridge-injector validate`', async () => {
    const dir = tempDir('tb-mesh-');
    const file = join(dir, 'config.yaml');
    writeFileSync(file, injectorConfigText);
    const res = await runProcess('injector/main.ts', ['validate', '--config', file]);
    assert.equal(res.code, 0, res.stderr);
  });

  it('is mounted where the Deployment tells the injector to read it, under the key the command names', () => {
    const args = container.args as string[];
    const configPath = args[args.indexOf('--config') + 1]!;
    const vol = (at(podSpec, 'volumes') as Obj[]).find((v) => isObj(v.configMap) && v.configMap.name === 'tracebridge-injector');
    assert.ok(vol !== undefined, 'volume of the injector ConfigMap');
    assert.equal(configPath, posix.join(mountPath(vol.name as string), 'config.yaml'));
    assert.deepEqual(container.command, ['node', '/app/dist/injector/main.js']);
  });

  it('runs the image the injector injects, tagged with the package version', () => {
    assert.equal(container.image, cfg.sidecar.image);
    assert.match(String(container.image), new RegExp(`:${pkg.version.replace(/\./g, '\\.')}$`));
  });
});

describe('mesh-configs/kubernetes: ports, probes and TLS agree', () => {
  it('Service 443 → the container port the injector listens on (its config endpoint)', () => {
    const port = (at(service, 'spec.ports') as Obj[])[0]!;
    assert.equal(port.port, 443);
    assert.equal(containerPort(port.targetPort), hostPort(cfg.endpoint).port);
    assert.equal(hostPort(cfg.endpoint).host, '0.0.0.0', 'the API server connects from outside the pod');
  });

  it('the Service selects the injector pods', () => {
    for (const [k, val] of Object.entries(at(service, 'spec.selector') as Record<string, string>)) assert.equal(podLabels[k], val, k);
  });

  it('probes use /healthz and /readyz over HTTPS on the webhook port', () => {
    const probe = (name: string) => at(container, `${name}.httpGet`) as Obj;
    assert.equal(probe('livenessProbe').path, '/healthz');
    assert.equal(probe('readinessProbe').path, '/readyz');
    for (const p of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
      assert.equal(probe(p).scheme, 'HTTPS', p);
      assert.equal(containerPort(probe(p).port), hostPort(cfg.endpoint).port, p);
    }
  });

  it('the TLS Secret cert-manager writes is mounted where the config reads the key pair', () => {
    const dir = mountPath('tls');
    assert.equal(cfg.tls.cert_file, posix.join(dir, 'tls.crt'));
    assert.equal(cfg.tls.key_file, posix.join(dir, 'tls.key'));
    const [ns, certName] = String((at(webhookConfig, 'metadata.annotations') as Record<string, string>)['cert-manager.io/inject-ca-from']).split('/');
    const cert = findObject(`${K}/certificates.yaml`, 'Certificate', certName);
    assert.equal(cert.metadata.namespace, ns);
    assert.equal(at(volume('tls'), 'secret.secretName'), at(cert, 'spec.secretName'));
  });

  it('the serving certificate names the Service the webhook dials, and chains to a CA issuer', () => {
    const [, certName] = String((at(webhookConfig, 'metadata.annotations') as Record<string, string>)['cert-manager.io/inject-ca-from']).split('/');
    const cert = findObject(`${K}/certificates.yaml`, 'Certificate', certName);
    const svc = at(webhook, 'clientConfig.service') as Obj;
    assert.ok((at(cert, 'spec.dnsNames') as string[]).includes(`${String(svc.name)}.${String(svc.namespace)}.svc`));
    assert.ok((at(cert, 'spec.usages') as string[]).includes('server auth'));
    const issuer = findObject(`${K}/certificates.yaml`, 'Issuer', at(cert, 'spec.issuerRef.name') as string);
    const caSecret = at(issuer, 'spec.ca.secretName');
    const ca = findObject(`${K}/certificates.yaml`, 'Certificate', 'tracebridge-ca');
    assert.equal(at(ca, 'spec.secretName'), caSecret);
    assert.equal(at(ca, 'spec.isCA'), true);
    const root = findObject(`${K}/certificates.yaml`, 'Issuer', at(ca, 'spec.issuerRef.name') as string);
    assert.ok(isObj(at(root, 'spec.selfSigned')));
  });
});

describe('mesh-configs/kubernetes: the webhook', () => {
  it(`is named ${String(webhookConfig.metadata.name)}, sorting before every mesh injector and pod-identity-webhook`, () => {
    assert.equal(webhookConfig.metadata.name, cfg.mesh.webhook_configuration);
    // The API server orders configurations by name, byte-wise (Go's sort.Strings).
    const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
    const order = [String(webhookConfig.metadata.name), ...MESH_WEBHOOKS].sort(byteOrder);
    assert.equal(order[0], webhookConfig.metadata.name, order.join(' < '));
  });

  it('never blocks pod creation and is safe to call twice', () => {
    assert.equal(webhook.failurePolicy, 'Ignore');
    assert.equal(webhook.sideEffects, 'None');
    assert.ok((webhook.timeoutSeconds as number) <= 5 && (webhook.timeoutSeconds as number) >= 1);
    assert.equal(webhook.reinvocationPolicy, 'IfNeeded');
    assert.deepEqual(webhook.admissionReviewVersions, ['v1']);
  });

  it('is called for pod CREATE only, at /mutate on the injector Service', () => {
    assert.deepEqual(webhook.rules, [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' }]);
    const svc = at(webhook, 'clientConfig.service') as Obj;
    assert.equal(svc.path, '/mutate');
    assert.equal(svc.name, service.metadata.name);
    assert.equal(svc.namespace, service.metadata.namespace);
    assert.equal(svc.port, (at(service, 'spec.ports') as Obj[])[0]!.port);
  });

  it('skips the same namespaces as the injector policy, kube-system and its own included', () => {
    const expr = (at(webhook, 'namespaceSelector.matchExpressions') as Obj[]).find((e) => e.key === 'kubernetes.io/metadata.name')!;
    assert.equal(expr.operator, 'NotIn');
    const skipped = expr.values as string[];
    assert.ok(skipped.includes('kube-system'));
    assert.ok(skipped.includes(String(deployment.metadata.namespace)));
    assert.deepEqual([...skipped].sort(), [...cfg.policy.skip_namespaces].sort());
  });

  it('never sends the injector its own pods (objectSelector = policy.injector_labels = the pod labels)', () => {
    const exprs = at(webhook, 'objectSelector.matchExpressions') as Obj[];
    for (const [k, val] of Object.entries(cfg.policy.injector_labels)) {
      assert.equal(podLabels[k], val, `pod label ${k}`);
      assert.ok(
        exprs.some((e) => e.key === k && e.operator === 'NotIn' && (e.values as string[]).includes(val)),
        `objectSelector excludes ${k}=${val}`,
      );
    }
  });

  it('has matchConditions that use only the variables CEL offers there and mirror the "never" rules', () => {
    const conditions = at(webhook, 'matchConditions') as { name: string; expression: string }[];
    assert.ok(conditions.length > 0 && conditions.length <= 64);
    assert.equal(new Set(conditions.map((c) => c.name)).size, conditions.length, 'unique names');
    for (const c of conditions) {
      assert.deepEqual(celRootIdentifiers(c.expression).filter((v) => !CEL_VARIABLES.has(v)), [], c.name);
      assert.ok(balanced(c.expression), `${c.name}: unbalanced quotes or brackets`);
    }
    const all = conditions.map((c) => c.expression).join('\n');
    for (const needle of ['hostNetwork', "'tracebridge.io/inject'", "'windows'", "'tracebridge.io/status'"]) assert.ok(all.includes(needle), needle);
  });

  it('the CEL check catches a variable matchConditions do not have', () => {
    assert.deepEqual(celRootIdentifiers("pod.spec.hostNetwork == true && 'x' in object.metadata.labels"), ['pod', 'object']);
  });
});

describe('mesh-configs/kubernetes: the injector Deployment', () => {
  it('runs 2 replicas spread over nodes and zones, with a PodDisruptionBudget that keeps one', () => {
    assert.equal(at(deployment, 'spec.replicas'), 2);
    const keys = (at(podSpec, 'topologySpreadConstraints') as Obj[]).map((t) => t.topologyKey);
    assert.ok(keys.includes('kubernetes.io/hostname') && keys.includes('topology.kubernetes.io/zone'));
    assert.ok(isObj(at(podSpec, 'affinity.podAntiAffinity')));
    const pdb = findObject(`${K}/pdb.yaml`, 'PodDisruptionBudget');
    assert.equal(at(pdb, 'spec.minAvailable'), 1);
    for (const [k, val] of Object.entries(at(pdb, 'spec.selector.matchLabels') as Record<string, string>)) assert.equal(podLabels[k], val);
  });

  it('passes the Pod Security "restricted" profile, as the numeric user the image runs as', () => {
    assert.equal(at(podSpec, 'securityContext.runAsNonRoot'), true);
    assert.equal(at(podSpec, 'securityContext.seccompProfile.type'), 'RuntimeDefault');
    const sc = container.securityContext as Obj;
    assert.equal(sc.allowPrivilegeEscalation, false);
    assert.equal(sc.readOnlyRootFilesystem, true);
    assert.deepEqual(at(sc, 'capabilities.drop'), ['ALL']);
    const uid = at(podSpec, 'securityContext.runAsUser');
    // The injected sidecar runs as the same UID (`auto`: 65532 unless the platform assigns one).
    assert.equal(uid, cfg.sidecar.run_as_user === 'auto' ? DEFAULT_UID : cfg.sidecar.run_as_user);
    const dockerUser = /^USER\s+(\d+)/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
    assert.equal(Number(dockerUser?.[1]), uid, 'Dockerfile USER');
  });

  it('sets requests and a memory limit', () => {
    for (const path of ['resources.requests.cpu', 'resources.requests.memory', 'resources.limits.memory']) {
      assert.match(String(at(container, path)), /^\d+(?:m|Mi|Gi)?$/, path);
    }
  });
});

describe('mesh-configs/kubernetes: RBAC', () => {
  const role = findObject(`${K}/rbac.yaml`, 'ClusterRole');
  const binding = findObject(`${K}/rbac.yaml`, 'ClusterRoleBinding');

  it('reads namespaces and webhook configurations, and nothing else, and writes nothing', () => {
    const rules = at(role, 'rules') as { apiGroups: string[]; resources: string[]; verbs: string[] }[];
    const grant = (group: string, resource: string) => rules.filter((r) => r.apiGroups.includes(group) && r.resources.includes(resource)).flatMap((r) => r.verbs);
    assert.deepEqual(grant('', 'namespaces').sort(), ['get', 'list', 'watch']);
    assert.deepEqual(grant('admissionregistration.k8s.io', 'mutatingwebhookconfigurations').sort(), ['get', 'list']);
    for (const r of rules) {
      assert.deepEqual(r.verbs.filter((verb) => !['get', 'list', 'watch'].includes(verb)), [], 'read-only');
      assert.ok(!r.resources.includes('*') && !r.apiGroups.includes('*'), 'no wildcards');
    }
  });

  it('is bound to the service account the Deployment runs as', () => {
    assert.equal(at(binding, 'roleRef.name'), role.metadata.name);
    const subject = (at(binding, 'subjects') as Obj[])[0]!;
    assert.equal(subject.kind, 'ServiceAccount');
    assert.equal(subject.name, podSpec.serviceAccountName);
    assert.equal(subject.namespace, deployment.metadata.namespace);
    findObject(`${K}/rbac.yaml`, 'ServiceAccount', podSpec.serviceAccountName as string);
  });
});

describe('mesh-configs/kubernetes: the injector, run with the shipped config', () => {
  it('listens with the mounted key pair, answers its probe paths and mutates a pod at /mutate', async function () {
    const dir = tempDir('tb-mesh-tls-');
    const certFile = join(dir, 'tls.crt');
    const keyFile = join(dir, 'tls.key');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=tracebridge-injector.tracebridge.svc', '-addext', 'subjectAltName=IP:127.0.0.1'],
      { stdio: 'ignore' },
    );
    // The shipped config, moved to a free loopback port and to the temporary key pair.
    const raw = parseYaml(injectorConfigText) as Obj;
    raw.endpoint = '127.0.0.1:0';
    raw.tls = { ...(raw.tls as Obj), cert_file: certFile, key_file: keyFile };
    const file = join(dir, 'config.yaml');
    writeFileSync(file, stringify(raw));
    const proc = startProcess('injector/main.ts', ['--config', file], { KUBERNETES_SERVICE_HOST: undefined, KUBERNETES_SERVICE_PORT: undefined });
    try {
      const line = await proc.waitFor(/^.*"msg":"webhook listening".*$/m);
      const port = Number(/"port":(\d+)/.exec(line)?.[1]);
      const ca = readFileSync(certFile);
      const call = (method: string, path: string, body?: string) =>
        new Promise<{ status: number; text: string }>((resolve, reject) => {
          const req = request({ host: '127.0.0.1', port, method, path, ca, headers: body === undefined ? {} : { 'content-type': 'application/json' } }, (res) => {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          });
          req.on('error', reject);
          req.end(body);
        });
      for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
        const path = at(container, `${probe}.httpGet.path`) as string;
        assert.equal((await call('GET', path)).status, 200, `${probe} ${path}`);
      }
      const svc = at(webhook, 'clientConfig.service') as Obj;
      const review = {
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: {
          uid: 'u-1',
          kind: { group: '', version: 'v1', kind: 'Pod' },
          operation: 'CREATE',
          namespace: 'shop',
          object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'shop', annotations: { 'tracebridge.io/inject': 'true' } }, spec: { containers: [{ name: 'app', image: 'app:1' }] } },
        },
      };
      const res = await call('POST', svc.path as string, JSON.stringify(review));
      assert.equal(res.status, 200, res.text);
      const answer = JSON.parse(res.text) as { response: { uid: string; allowed: boolean; patchType?: string; patch?: string } };
      assert.equal(answer.response.uid, 'u-1');
      assert.equal(answer.response.allowed, true);
      assert.equal(answer.response.patchType, 'JSONPatch');
      const patch = Buffer.from(answer.response.patch!, 'base64').toString();
      assert.match(patch, new RegExp(`"image":"${cfg.sidecar.image!.replace(/[.]/g, '\\.')}"`));
    } finally {
      proc.child.kill('SIGTERM');
    }
    assert.equal(await proc.exited, 0, proc.stderr());
  });
});

// Variables a webhook's matchConditions may use (Kubernetes API reference, MatchCondition).
const CEL_VARIABLES = new Set(['object', 'oldObject', 'request', 'authorizer']);
const CEL_WORDS = new Set(['has', 'size', 'in', 'true', 'false', 'null', 'exists', 'all', 'matches', 'startsWith', 'endsWith', 'contains']);

/** Identifiers that start a member chain (not after a dot, not a string, not a function or keyword). */
function celRootIdentifiers(expression: string): string[] {
  const code = expression.replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, "''");
  const roots: string[] = [];
  for (const m of code.matchAll(/(?<![.\w])([A-Za-z_]\w*)/g)) {
    const word = m[1]!;
    const next = code.slice(m.index + word.length).trimStart();
    if (CEL_WORDS.has(word) || next.startsWith('(')) continue;
    if (!roots.includes(word)) roots.push(word);
  }
  return roots;
}

function balanced(expression: string): boolean {
  const code = expression.replace(/'(?:[^'\\]|\\.)*'/g, "''");
  if ((code.match(/'/g)?.length ?? 0) % 2 !== 0) return false;
  let depth = 0;
  for (const ch of code) {
    if (ch === '(' || ch === '[') depth++;
    if (ch === ')' || ch === ']') depth--;
    if (depth < 0) return false;
  }
  return depth === 0;
}
