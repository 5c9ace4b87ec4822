import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import tls from 'node:tls';
import { gzipSync } from 'node:zlib';
import jsonpatch from 'fast-json-patch';
import { mergeConfig } from '../../sidecar/config/load.ts';
import { decodeInjectorConfig } from '../../injector/config.ts';
import { createLogger } from '../../injector/logger.ts';
import type { Pod } from '../../injector/pod.ts';
import { startInjector, type RunningInjector } from '../../injector/service.ts';
import { makeKeyPair, tempDir, type TestKeyPair } from './certs.ts';
import { nockOff, nockOn, type Nock } from './nock.ts';
import { podFixtures } from './fixtures/pods.ts';
import { assertValidPod, BASE_CONFIG, memoryLog, review } from './support.ts';

const API = 'https://kube.test:6443';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  peerCert: string;
}

/** A real TLS client that trusts only the given certificate. */
function request(port: number, ca: string, method: string, path: string, body?: Buffer | string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, method, path, ca, agent: false, headers: body !== undefined ? { 'content-type': 'application/json' } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const socket = res.socket as tls.TLSSocket;
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString(), peerCert: socket.getPeerX509Certificate()?.fingerprint256 ?? '' });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function handshake(port: number, opts: tls.ConnectionOptions): Promise<{ protocol: string | null; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: undefined, ...opts }, () => {
      const out = { protocol: socket.getProtocol(), fingerprint: socket.getPeerX509Certificate()?.fingerprint256 ?? '' };
      socket.end();
      resolve(out);
    });
    socket.on('error', reject);
  });
}

const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;

describe('injector webhook over HTTPS (real TLS client, nock for the API server)', function () {
  let dir: string;
  let first: TestKeyPair;
  let second: TestKeyPair;
  let live: { certFile: string; keyFile: string };
  let injector: RunningInjector;
  let log: ReturnType<typeof memoryLog>;
  let nock: typeof Nock;

  before(async () => {
    dir = tempDir('tb-webhook-');
    first = makeKeyPair(dir, 'first');
    second = makeKeyPair(dir, 'second');
    live = { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') };
    copyFileSync(first.certFile, live.certFile);
    copyFileSync(first.keyFile, live.keyFile);
    writeFileSync(join(dir, 'token'), 'sa-token');

    nock = await nockOn();
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    nock(API).get('/version').reply(200, { major: '1', minor: '30', gitVersion: 'v1.30.4' });
    nock(API)
      .get('/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations')
      .reply(200, {
        kind: 'MutatingWebhookConfigurationList',
        items: [
          { metadata: { name: '0-tracebridge-injector' }, webhooks: [{ name: 'inject.tracebridge.io' }] },
          { metadata: { name: '0-istio-early' }, webhooks: [{ name: 'namespace.sidecar-injector.istio.io' }] },
          { metadata: { name: 'pod-identity-webhook' }, webhooks: [{ name: 'iam-for-pods.amazonaws.com' }] },
        ],
      });

    const cfg = decodeInjectorConfig(
      mergeConfig(BASE_CONFIG, {
        endpoint: '127.0.0.1:0',
        tls: { cert_file: live.certFile, key_file: live.keyFile, reload_interval: '50ms' },
        max_request_body: 65536,
        // A memory limit below what the sidecar needs: warned about at start-up, still injected.
        sidecar: { native: 'auto', resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '96Mi' } } },
        kubernetes: { api_server: API, token_file: join(dir, 'token'), ca_file: first.certFile, timeout: '500ms', retry_after_failure: '0s', namespace_cache_ttl: '0s', namespace_cache_max_stale: '0s' },
      }),
      { requireTls: true },
    );
    log = memoryLog();
    injector = await startInjector(cfg, createLogger('info', log.stream), {});
  });

  after(async () => {
    await injector.shutdown();
    await injector.shutdown(); // safe twice
    nockOff(nock);
  });

  const mutate = (object: unknown, extra: Record<string, unknown> = {}) =>
    request(injector.port, first.cert, 'POST', '/mutate?timeout=10s', JSON.stringify(review(object, extra)));

  it('answers an AdmissionReview: uid echoed, native mode from /version, patch valid', async () => {
    nock(API).get('/api/v1/namespaces/shop').reply(200, { metadata: { name: 'shop', labels: {} } });
    const pod = podFixtures[0]!.pod as Pod;
    const res = await mutate(pod);
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /application\/json/);
    const body = JSON.parse(res.body) as { response: { uid: string; allowed: boolean; patchType: string; patch: string } };
    assert.equal(body.response.uid, '705ab4f5-6393-11e8-b7cc-42010a800002');
    assert.equal(body.response.patchType, 'JSONPatch');
    const patched = jsonpatch.applyPatch(structuredClone(pod), JSON.parse(Buffer.from(body.response.patch, 'base64').toString()) as jsonpatch.Operation[], true, false)
      .newDocument;
    assertValidPod(patched);
    assert.equal(patched.spec!.initContainers!.at(-1)!.restartPolicy, 'Always', 'Kubernetes v1.30: native sidecar');
  });

  it('namespace opt-in through the API; with the API down the pod alone decides and says so', async () => {
    const plain = podFixtures.find((f) => f.name.startsWith('plain nginx'))!.pod;
    nock(API).get('/api/v1/namespaces/shop').reply(200, { metadata: { name: 'shop', labels: { 'tracebridge.io/inject': 'true' } } });
    const up = JSON.parse((await mutate(plain)).body) as { response: { patch?: string } };
    assert.ok(up.response.patch !== undefined, 'namespace opt-in injected');

    nock(API).get('/api/v1/namespaces/shop').replyWithError('connect ECONNREFUSED 10.96.0.1:443');
    const down = JSON.parse((await mutate(plain)).body) as { response: { patch?: string; allowed: boolean } };
    assert.equal(down.response.allowed, true);
    assert.equal(down.response.patch, undefined, 'no pod signal and namespace unknown: not injected');

    nock(API).get('/api/v1/namespaces/shop').replyWithError('connect ECONNREFUSED 10.96.0.1:443');
    const otel = JSON.parse((await mutate(podFixtures[0]!.pod)).body) as { response: { patch: string } };
    const ops = JSON.parse(Buffer.from(otel.response.patch, 'base64').toString()) as { path: string; value: Record<string, string> }[];
    const status = JSON.parse(ops.find((o) => o.path === '/metadata/annotations')!.value['tracebridge.io/status']!) as { namespace: string };
    assert.match(status.namespace, /^unknown: Kubernetes API unreachable/);
    const line = log.lines().filter((l) => l.msg === 'sidecar injected').at(-1)!;
    assert.match(String(line.namespaceUnknown), /ECONNREFUSED/);
    assert.ok(injector.metrics.namespaceUnknown.get() >= 2);
  });

  it('checked the webhook order at start-up and warned about a mesh injector that runs first', () => {
    assert.equal(injector.metrics.webhookOrderProblems.get(), 1);
    const warn = log.lines().find((l) => l.configuration === '0-istio-early')!;
    assert.equal(warn.level, 'warn');
    assert.match(String(warn.msg), /sorts before 0-tracebridge-injector/);
  });

  it('warned at start-up that the sidecar memory limit leaves the sidecar no room for data, and injects it all the same', async () => {
    const warn = log.lines().find((l) => String(l.msg).startsWith('sidecar.resources.limits.memory:'));
    assert.ok(warn, log.lines().map((l) => l.msg).join('\n'));
    assert.equal(warn.level, 'warn');
    assert.match(String(warn.msg), /96Mi is below 136Mi/);
    nock(API).get('/api/v1/namespaces/shop').reply(200, { metadata: { name: 'shop', labels: {} } });
    const res = await mutate(podFixtures[0]!.pod);
    const body = JSON.parse(res.body) as { response: { allowed: boolean; patch: string } };
    assert.equal(body.response.allowed, true);
    assert.match(Buffer.from(body.response.patch, 'base64').toString(), /"memory":"96Mi"/);
  });

  it('dry-run requests are answered like any other', async () => {
    nock(API).get('/api/v1/namespaces/shop').reply(200, { metadata: { name: 'shop' } });
    const res = JSON.parse((await mutate(podFixtures[0]!.pod, { dryRun: true })).body) as { response: { patch?: string } };
    assert.ok(res.response.patch !== undefined);
  });

  it('malformed bodies get 400, oversized ones 413, other paths 404 and wrong methods 405', async () => {
    assert.equal((await request(injector.port, first.cert, 'POST', '/mutate', '{"kind":')).status, 400);
    assert.equal((await request(injector.port, first.cert, 'POST', '/mutate', JSON.stringify({ kind: 'AdmissionReview', apiVersion: 'admission.k8s.io/v1beta1', request: { uid: 'u' } }))).status, 400);
    assert.equal((await request(injector.port, first.cert, 'POST', '/mutate', Buffer.alloc(70_000, 0x20))).status, 413);
    assert.equal((await request(injector.port, first.cert, 'GET', '/mutate')).status, 405);
    assert.equal((await request(injector.port, first.cert, 'GET', '/nope')).status, 404);
  });

  it('serves /healthz, /readyz and Prometheus /metrics', async () => {
    assert.equal((await request(injector.port, first.cert, 'GET', '/healthz')).status, 200);
    assert.equal((await request(injector.port, first.cert, 'GET', '/readyz')).status, 200);
    const metrics = await request(injector.port, first.cert, 'GET', '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(String(metrics.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.match(metrics.body, /^tracebridge_injector_decisions_total\{inject="true",reason="auto-otel-env"\} \d+$/m);
    assert.match(metrics.body, /^tracebridge_injector_errors_total\{kind="malformed"\} 2$/m);
    assert.match(metrics.body, /^tracebridge_injector_errors_total\{kind="body_too_large"\} 1$/m);
    assert.match(metrics.body, /^tracebridge_injector_http_requests_total\{code="200",path="\/mutate"\} \d+$/m);
    assert.match(metrics.body, /^tracebridge_injector_tls_certificate_not_after_seconds \d+$/m);
  });

  it('bounds a chunked body (no Content-Length) too, and reads a gzip-encoded review', async () => {
    const before = injector.metrics.errors.get({ kind: 'body_too_large' });
    const status = await new Promise<number>((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port: injector.port, method: 'POST', path: '/mutate', ca: first.cert, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      // The server may close before the last chunk is written: only the answer matters.
      req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
      req.write(Buffer.alloc(40_000, 0x20));
      req.end(Buffer.alloc(40_000, 0x20));
    });
    assert.equal(status, 413);
    assert.equal(injector.metrics.errors.get({ kind: 'body_too_large' }), before + 1);

    const zipped = gzipSync(JSON.stringify(review(podFixtures[0]!.pod)));
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = https.request(
        { host: '127.0.0.1', port: injector.port, method: 'POST', path: '/mutate', ca: first.cert, agent: false, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        },
      );
      req.on('error', reject);
      req.end(zipped);
    });
    assert.equal(answer.status, 200, answer.body);
    assert.equal((JSON.parse(answer.body) as { response: { patchType?: string } }).response.patchType, 'JSONPatch');
  });

  describe('TLS (interception off: raw TLS sockets must reach the server untouched)', () => {
    before(() => nock.restore());
    after(() => nock.activate());

    it('speaks TLS 1.2 and 1.3, refuses older versions', async () => {
      assert.equal((await handshake(injector.port, { ca: first.cert, maxVersion: 'TLSv1.2' })).protocol, 'TLSv1.2');
      assert.equal((await handshake(injector.port, { ca: first.cert })).protocol, 'TLSv1.3');
      await assert.rejects(handshake(injector.port, { ca: first.cert, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' }));
    });

    it('reloads a rotated key pair without a restart, and keeps the old one while the pair is half written', async () => {
      const port = injector.port;
      assert.equal((await handshake(port, { ca: first.cert })).fingerprint, fingerprint(first.cert));

      // cert-manager writes the certificate first: until the key follows, the pair does not match.
      copyFileSync(second.certFile, live.certFile);
      assert.equal(injector.keyPair.check(), false, 'mismatched pair not installed');
      assert.equal((await handshake(port, { ca: first.cert })).fingerprint, fingerprint(first.cert));

      copyFileSync(second.keyFile, live.keyFile);
      // The poller (50ms) installs it; wait for it without asserting on timing (bounded).
      let seen = '';
      for (let i = 0; i < 100 && seen !== fingerprint(second.cert); i++) {
        await new Promise((r) => setTimeout(r, 20));
        seen = (await handshake(port, { ca: second.cert }).catch(() => ({ fingerprint: '' }))).fingerprint;
      }
      assert.equal(seen, fingerprint(second.cert), 'new certificate served on the same port');
      assert.equal(injector.port, port);
      assert.ok(injector.metrics.tlsReloads.get({ result: 'ok' }) >= 1);
      assert.ok(injector.metrics.tlsReloads.get({ result: 'error' }) >= 1);
      // The old certificate is no longer trusted by a client pinned to it.
      await assert.rejects(handshake(port, { ca: first.cert }));
      // And the webhook still answers through the new pair.
      assert.equal((await request(port, second.cert, 'GET', '/readyz')).status, 200);
    });
  });
});
