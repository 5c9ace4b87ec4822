import assert from 'node:assert/strict';
import https from 'node:https';
import { mergeConfig } from '../../sidecar/config/load.ts';
import { decodeInjectorConfig } from '../../injector/config.ts';
import { createLogger } from '../../injector/logger.ts';
import { startInjector, type RunningInjector } from '../../injector/service.ts';
import { makeKeyPair, tempDir, type TestKeyPair } from './certs.ts';
import { at, configMapData, findObject, type Obj } from '../mesh-configs/support.ts';
import { BASE_CONFIG, memoryLog } from './support.ts';

const UID = 'b1c2d3e4-0000-4000-8000-000000000001';
const LABELS = { 'app.kubernetes.io/name': 'tracebridge-sidecar' };

function post(port: number, ca: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, method: 'POST', path: '/validate-configmap?timeout=10s', ca, agent: false, headers: { 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function configMap(data: Record<string, string> | undefined, labels: Record<string, string> = LABELS): unknown {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'tracebridge-sidecar', namespace: 'shop', labels }, ...(data ? { data } : {}) };
}

function cmReview(object: unknown, operation = 'CREATE'): string {
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: UID,
      kind: { group: '', version: 'v1', kind: 'ConfigMap' },
      resource: { group: '', version: 'v1', resource: 'configmaps' },
      namespace: 'shop',
      name: 'tracebridge-sidecar',
      operation,
      userInfo: { username: 'alice' },
      object: operation === 'DELETE' ? null : object,
      oldObject: operation === 'DELETE' ? object : null,
      dryRun: false,
    },
  });
}

interface Response {
  uid: string;
  allowed: boolean;
  warnings?: string[];
  status?: { code: number; message: string };
}

const TYPO = `receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:4317 }
processors:
  batch: { send_batch_sise: 8192 }
exporters:
  otlphttp:
    traces_endpoint: https://collector.example:4318/v1/traces
service:
  pipelines:
    traces: { receivers: [otlp], processors: [batch], exporters: [otlphttp] }
`;

// Every value the pod's env gives: the endpoint (a URL), a port inside a host:port and a number.
const ENV_ONLY = `receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:\${env:UNSET_GRPC_PORT}" }
processors:
  batch: { send_batch_size: "\${env:UNSET_BATCH}" }
exporters:
  otlphttp:
    traces_endpoint: \${env:UNSET}
service:
  pipelines:
    traces: { receivers: [otlp], processors: [batch], exporters: [otlphttp] }
`;

describe('injector validating webhook for the sidecar ConfigMap (POST /validate-configmap over HTTPS)', function () {
  let keys: TestKeyPair;
  const running: RunningInjector[] = [];

  async function start(action?: 'warn' | 'deny'): Promise<{ injector: RunningInjector; log: ReturnType<typeof memoryLog> }> {
    const cfg = decodeInjectorConfig(
      mergeConfig(BASE_CONFIG, {
        endpoint: '127.0.0.1:0',
        tls: { cert_file: keys.certFile, key_file: keys.keyFile },
        mesh: { check_webhook_order: false },
        sidecar: { native: true },
        ...(action !== undefined ? { configmap_validation: { action } } : {}),
      }),
      { requireTls: true },
    );
    const log = memoryLog();
    const injector = await startInjector(cfg, createLogger('info', log.stream), {});
    running.push(injector);
    return { injector, log };
  }

  let warn: RunningInjector;
  let deny: RunningInjector;

  before(async () => {
    keys = makeKeyPair(tempDir('tb-validate-cm-'), 'webhook');
    warn = (await start()).injector;
    deny = (await start('deny')).injector;
  });

  after(async () => {
    for (const r of running) await r.shutdown();
  });

  const validate = async (target: RunningInjector, body: string): Promise<Response> => {
    const res = await post(target.port, keys.cert, body);
    assert.equal(res.status, 200, res.body);
    const parsed = JSON.parse(res.body) as { apiVersion: string; kind: string; response: Response };
    assert.equal(parsed.apiVersion, 'admission.k8s.io/v1');
    assert.equal(parsed.kind, 'AdmissionReview');
    assert.equal(parsed.response.uid, UID);
    return parsed.response;
  };

  it('a typo in a batch key: allowed, with a warning naming processors.batch.send_batch_sise (default action warn)', async () => {
    const r = await validate(warn, cmReview(configMap({ 'config.yaml': TYPO })));
    assert.equal(r.allowed, true);
    assert.ok(r.warnings !== undefined && r.warnings.length === 1, JSON.stringify(r.warnings));
    assert.match(r.warnings[0]!, /^processors\.batch\.send_batch_sise: unknown key/);
    // Kubernetes truncates a warning over 256 characters; no "Warning:" prefix (kubectl adds it).
    for (const w of r.warnings) assert.ok(w.length <= 256 && !w.startsWith('Warning'), w);
    assert.match(warn.metrics.render(), /tracebridge_injector_configmap_validations_total\{outcome="warned"\} 1/);
  });

  it('with action: deny the same ConfigMap is refused: allowed false, 400, the error in the message', async () => {
    const r = await validate(deny, cmReview(configMap({ 'config.yaml': TYPO }), 'UPDATE'));
    assert.equal(r.allowed, false);
    assert.equal(r.status?.code, 400);
    assert.match(r.status?.message ?? '', /processors\.batch\.send_batch_sise: unknown key/);
    assert.match(deny.metrics.render(), /tracebridge_injector_configmap_validations_total\{outcome="denied"\} 1/);
  });

  it('the shipped mesh-configs/kubernetes/sidecar-configmap.yaml: allowed, no warnings, even with deny', async () => {
    const shipped = findObject('mesh-configs/kubernetes/sidecar-configmap.yaml', 'ConfigMap');
    for (const target of [warn, deny]) {
      const r = await validate(target, cmReview(shipped));
      assert.equal(r.allowed, true);
      assert.deepEqual(r.warnings ?? [], []);
    }
    assert.ok(configMapData('mesh-configs/kubernetes/sidecar-configmap.yaml').includes('${env:'), 'the shipped config uses env references');
  });

  it('${env:NAME} references are the pod\'s: never reported as unset nor as a bad value, while a real error next to them is', async () => {
    const r = await validate(deny, cmReview(configMap({ 'config.yaml': ENV_ONLY })));
    assert.equal(r.allowed, true, JSON.stringify(r));
    assert.deepEqual(r.warnings ?? [], []);

    const withTypo = ENV_ONLY.replace('send_batch_size', 'send_batch_sise');
    const bad = await validate(warn, cmReview(configMap({ 'config.yaml': withTypo })));
    assert.deepEqual(bad.warnings?.map((w) => w.split(':')[0]), ['processors.batch.send_batch_sise']);
  });

  it('YAML that does not parse: a warning naming config.yaml and the line', async () => {
    const r = await validate(warn, cmReview(configMap({ 'config.yaml': 'receivers:\n  otlp: [\n' })));
    assert.equal(r.allowed, true);
    assert.equal(r.warnings?.length, 1);
    assert.match(r.warnings?.[0] ?? '', /^config\.yaml: /);
  });

  it('not labelled, no config.yaml key, or DELETE: allowed without warnings', async () => {
    const broken = { 'config.yaml': TYPO };
    for (const body of [
      cmReview(configMap(broken, { app: 'other' })),
      cmReview(configMap({ 'other.yaml': 'x: [' })),
      cmReview(configMap(undefined)),
      cmReview(configMap(broken), 'DELETE'),
    ]) {
      const r = await validate(deny, body);
      assert.equal(r.allowed, true, body);
      assert.equal(r.warnings, undefined, body);
    }
    assert.match(deny.metrics.render(), /tracebridge_injector_configmap_validations_total\{outcome="skipped"\} 4/);
  });

  it('a malformed review answers 400 like /mutate, and the server keeps serving', async () => {
    for (const body of ['not json', JSON.stringify({ kind: 'AdmissionReview', apiVersion: 'admission.k8s.io/v1' })]) {
      const res = await post(warn.port, keys.cert, body);
      assert.equal(res.status, 400);
      assert.match((JSON.parse(res.body) as { error: string }).error, /JSON|request/);
    }
    assert.match(warn.metrics.render(), /tracebridge_injector_configmap_validations_total\{outcome="malformed"\} 2/);
    const r = await validate(warn, cmReview(configMap({ 'config.yaml': TYPO })));
    assert.equal(r.allowed, true);
  });

  it('many errors: each warning at most 256 characters, all of them within Kubernetes\' 4096-character budget', async () => {
    const keysText = Array.from({ length: 200 }, (_, i) => `    unknown_key_number_${i}_${'x'.repeat(40)}: 1`).join('\n');
    const text = TYPO.replace('  batch: { send_batch_sise: 8192 }', `  batch:\n${keysText}`);
    const r = await validate(warn, cmReview(configMap({ 'config.yaml': text })));
    assert.equal(r.allowed, true);
    const warnings = r.warnings ?? [];
    assert.ok(warnings.length > 1);
    assert.ok(warnings.join('').length <= 4096, String(warnings.join('').length));
    for (const w of warnings) assert.ok(w.length <= 256, w);
    assert.match(warnings.at(-1)!, /more.*tracebridge-sidecar validate/);
  });

  it('mesh-configs/kubernetes/webhook.yaml sends labelled ConfigMaps on CREATE/UPDATE to this endpoint, failing open, CA from cert-manager', () => {
    const file = 'mesh-configs/kubernetes/webhook.yaml';
    const validating = findObject(file, 'ValidatingWebhookConfiguration');
    const mutating = findObject(file, 'MutatingWebhookConfiguration');
    const caFrom = (o: { metadata: Obj }) => (o.metadata.annotations as Obj)['cert-manager.io/inject-ca-from'];
    assert.equal(caFrom(validating), 'tracebridge/tracebridge-injector-tls');
    assert.equal(caFrom(validating), caFrom(mutating));
    const hook = (at(validating, 'webhooks') as Obj[])[0]!;
    assert.deepEqual(at(hook, 'clientConfig.service'), { ...(at((at(mutating, 'webhooks') as Obj[])[0]!, 'clientConfig.service') as Obj), path: '/validate-configmap' });
    assert.equal(hook.failurePolicy, 'Ignore');
    assert.equal(hook.sideEffects, 'None');
    assert.deepEqual(hook.admissionReviewVersions, ['v1']);
    assert.deepEqual(at(hook, 'objectSelector.matchLabels'), LABELS);
    assert.deepEqual(hook.rules, [{ operations: ['CREATE', 'UPDATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'], scope: 'Namespaced' }]);
    // The shipped ConfigMap carries the label the selector matches.
    assert.deepEqual({ ...(findObject('mesh-configs/kubernetes/sidecar-configmap.yaml', 'ConfigMap').metadata.labels as Obj) }, { ...LABELS, 'app.kubernetes.io/part-of': 'tracebridge' });
  });
});
