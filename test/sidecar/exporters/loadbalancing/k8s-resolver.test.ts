// The k8s resolver against a nock'd Kubernetes API: the EndpointSlices of one Service listed, then
// watched from the list's resourceVersion; endpoints emitted as the exporter's backends.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { K8sResolver, type K8sResolverOptions } from '../../../../sidecar/exporters/loadbalancing/k8s-resolver.ts';
import { createLogger } from '../../../../sidecar/telemetry/logger.ts';
import { MetricsRegistry } from '../../../../sidecar/telemetry/metrics.ts';
import { makeKeyPair } from '../../../injector/certs.ts';
import { nockOff, nockOn, type Nock } from '../../../injector/nock.ts';

const API = 'https://kube.test:6443';
const ENV = { KUBERNETES_SERVICE_HOST: 'kube.test', KUBERNETES_SERVICE_PORT: '6443' };
const slicesPath = (ns: string) => `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`;
let nock: typeof Nock;

interface Ep {
  addresses: string[];
  ready?: boolean | null;
  hostname?: string;
}

function slice(name: string, endpoints: Ep[], addressType = 'IPv4', service = 'otel-gateway'): Record<string, unknown> {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: 'observability', labels: { 'kubernetes.io/service-name': service } },
    addressType,
    ports: [{ name: 'otlp-grpc', port: 4317, protocol: 'TCP' }],
    endpoints: endpoints.map((e) => ({
      addresses: e.addresses,
      ...(e.ready === undefined ? {} : { conditions: e.ready === null ? {} : { ready: e.ready } }),
      ...(e.hostname === undefined ? {} : { hostname: e.hostname }),
    })),
  };
}

const list = (resourceVersion: string, items: Record<string, unknown>[]) => ({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSliceList', metadata: { resourceVersion }, items });

interface Harness {
  resolver: K8sResolver;
  updates: (readonly string[])[];
  logs: string[];
  metrics: MetricsRegistry;
  dir: string;
  latest(): readonly string[] | undefined;
}

function harness(cfg: Partial<{ service: string; ports: number[]; return_hostnames: boolean; timeout: number }> = {}, opts: Partial<K8sResolverOptions> = {}): Harness {
  const dir = mkdtempSync(join(tmpdir(), 'tb-k8s-resolver-'));
  writeFileSync(join(dir, 'token'), 'sa-token-1\n');
  writeFileSync(join(dir, 'namespace'), 'team-a');
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const metrics = new MetricsRegistry();
  const resolver = new K8sResolver(
    { logger: createLogger('debug', sink), metrics, id: 'loadbalancing' },
    { service: 'otel-gateway.observability', ports: [4317], timeout: 1000, return_hostnames: false, ...cfg },
    { serviceAccountDir: dir, env: ENV, backoff: { initialMs: 10, maxMs: 50 }, ...opts },
  );
  const updates: (readonly string[])[] = [];
  return { resolver, updates, logs, metrics, dir, latest: () => updates.at(-1) };
}

async function start(h: Harness): Promise<void> {
  await h.resolver.start((eps) => h.updates.push(eps));
}

async function waitFor(what: string, cond: () => boolean, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A LIST answered with `body` (or an error status). */
function mockList(ns: string, status: number, body: Record<string, unknown>, reqheaders?: Record<string, string>) {
  return nock(API, reqheaders === undefined ? {} : { reqheaders })
    .get(slicesPath(ns))
    .query((q) => q.labelSelector === 'kubernetes.io/service-name=otel-gateway' && q.watch === undefined)
    .reply(status, body);
}

/** A WATCH from `rv` whose event stream the test writes; `events.end()` closes it. */
function mockWatch(ns: string, rv: string, reqheaders?: Record<string, string>) {
  const events = new PassThrough();
  const scope = nock(API, reqheaders === undefined ? {} : { reqheaders })
    .get(slicesPath(ns))
    .query(
      (q) =>
        q.labelSelector === 'kubernetes.io/service-name=otel-gateway' &&
        q.watch === '1' &&
        q.resourceVersion === rv &&
        q.allowWatchBookmarks === 'true' &&
        typeof q.timeoutSeconds === 'string',
    )
    .reply(200, () => events);
  const send = (type: string, object: unknown) => events.write(`${JSON.stringify({ type, object })}\n`);
  return { scope, events, send };
}

const resolutions = (m: MetricsRegistry, success: boolean) => {
  const line = m.render().split('\n').find((l) => l.startsWith('otelcol_loadbalancer_num_resolutions_total{') && l.includes('exporter="loadbalancing"') && l.includes('resolver="k8s"') && l.includes(`success="${success}"`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
};

describe('loadbalancing exporter: k8s resolver (nock)', () => {
  let h: Harness | undefined;
  before(async () => {
    nock = await nockOn();
    nock.disableNetConnect();
  });
  afterEach(async () => {
    await h?.resolver.shutdown();
    h = undefined;
    nock.cleanAll();
  });
  after(() => nockOff(nock));

  it('lists the Service\'s EndpointSlices with the service account token and emits ready endpoints as ip:port, sorted', async () => {
    h = harness();
    const listed = mockList(
      'observability',
      200,
      list('100', [
        slice('otel-gateway-abc', [{ addresses: ['10.0.0.9'], ready: true }, { addresses: ['10.0.0.7'], ready: false }]),
        // conditions.ready absent: "unknown", which the API says to read as ready.
        slice('otel-gateway-def', [{ addresses: ['10.0.0.10'] }, { addresses: ['10.0.0.8'], ready: null }]),
      ]),
      { authorization: 'Bearer sa-token-1' },
    );
    mockWatch('observability', '100');
    await start(h);
    assert.ok(listed.isDone());
    assert.deepEqual(h.updates, [['10.0.0.10:4317', '10.0.0.8:4317', '10.0.0.9:4317']], 'the first result is emitted before start() resolves');
    assert.equal(resolutions(h.metrics, true), 1);
  });

  it('follows the watch: ADDED, MODIFIED (an endpoint no longer ready), DELETED; BOOKMARKs move the resume point', async () => {
    h = harness();
    mockList('observability', 200, list('100', [slice('gw-a', [{ addresses: ['10.0.0.1'], ready: true }])]));
    const w = mockWatch('observability', '100');
    await start(h);
    assert.deepEqual(h.latest(), ['10.0.0.1:4317']);
    await waitFor('the watch', () => w.scope.isDone());

    w.send('ADDED', slice('gw-b', [{ addresses: ['10.0.0.2'], ready: true }, { addresses: ['10.0.0.3'], ready: true }]));
    await waitFor('ADDED', () => h!.latest()?.length === 3);
    assert.deepEqual(h.latest(), ['10.0.0.1:4317', '10.0.0.2:4317', '10.0.0.3:4317']);

    w.send('MODIFIED', slice('gw-b', [{ addresses: ['10.0.0.2'], ready: true }, { addresses: ['10.0.0.3'], ready: false }]));
    await waitFor('MODIFIED', () => h!.latest()?.length === 2);
    assert.deepEqual(h.latest(), ['10.0.0.1:4317', '10.0.0.2:4317']);

    const before = h.updates.length;
    w.send('BOOKMARK', { kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', metadata: { resourceVersion: '150' } });
    w.send('DELETED', slice('gw-a', [{ addresses: ['10.0.0.1'], ready: true }]));
    await waitFor('DELETED', () => h!.latest()?.length === 1);
    assert.deepEqual(h.latest(), ['10.0.0.2:4317']);
    assert.equal(h.updates.length, before + 1, 'a bookmark changes nothing');

    // The API server ends a watch after timeoutSeconds: the resolver watches again from the last
    // resourceVersion it saw (the bookmark's, as the DELETED object carries none newer here).
    const again = mockWatch('observability', '150');
    w.events.end();
    await waitFor('the re-watch from the bookmark', () => again.scope.isDone());
    assert.deepEqual(h.latest(), ['10.0.0.2:4317'], 'the list survives the reconnect');
    assert.equal(resolutions(h.metrics, true), 4, 'one list and three applied events');
  });

  it('re-lists after 410 Gone (an ERROR event, or the watch request itself), replacing what it knew', async () => {
    h = harness();
    mockList('observability', 200, list('100', [slice('gw-a', [{ addresses: ['10.0.0.1'] }]), slice('gw-b', [{ addresses: ['10.0.0.2'] }])]));
    const w = mockWatch('observability', '100');
    await start(h);
    await waitFor('the watch', () => w.scope.isDone());

    // While the resolver was not watching, gw-a went away: only a fresh list can tell.
    const relisted = mockList('observability', 200, list('300', [slice('gw-b', [{ addresses: ['10.0.0.2'] }]), slice('gw-c', [{ addresses: ['10.0.0.4'] }])]));
    nock(API).get(slicesPath('observability')).query((q) => q.watch === '1' && q.resourceVersion === '300').reply(410, { kind: 'Status', code: 410, reason: 'Expired' });
    const relisted2 = mockList('observability', 200, list('400', [slice('gw-c', [{ addresses: ['10.0.0.4'] }])]));
    const w2 = mockWatch('observability', '400');
    w.send('ERROR', { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'too old resource version: 100 (250)', reason: 'Expired', code: 410 });

    await waitFor('the re-list after the ERROR event', () => relisted.isDone());
    await waitFor('the second re-list after HTTP 410', () => relisted2.isDone() && w2.scope.isDone());
    assert.deepEqual(h.updates, [['10.0.0.1:4317', '10.0.0.2:4317'], ['10.0.0.2:4317', '10.0.0.4:4317'], ['10.0.0.4:4317']]);
  });

  it('keeps the last known list while the API server is unreachable, and reconnects with backoff', async () => {
    h = harness();
    mockList('observability', 200, list('100', [slice('gw-a', [{ addresses: ['10.0.0.1'] }])]));
    const w = mockWatch('observability', '100');
    await start(h);
    await waitFor('the watch', () => w.scope.isDone());

    const failing = nock(API).get(slicesPath('observability')).query((q) => q.watch === '1').times(3).replyWithError('connect ECONNREFUSED 10.96.0.1:443');
    const back = mockWatch('observability', '100');
    w.events.destroy(new Error('socket hang up'));
    await waitFor('three failed attempts, then the watch again', () => failing.isDone() && back.scope.isDone());
    back.send('ADDED', slice('gw-b', [{ addresses: ['10.0.0.2'] }]));
    await waitFor('the event after the reconnect', () => h!.latest()?.length === 2);
    assert.deepEqual(h.updates, [['10.0.0.1:4317'], ['10.0.0.1:4317', '10.0.0.2:4317']], 'never an empty list in between');
    assert.ok(resolutions(h.metrics, false) >= 4, 'each failed attempt counted');
    assert.equal(h.logs.filter((l) => l.includes('"level":"warn"')).length, 1, 'one warning for the episode');
  });

  it('backs off from a watch that ends at once without an event (no busy loop against the API server)', async () => {
    h = harness({}, { backoff: { initialMs: 200, maxMs: 200 } });
    mockList('observability', 200, list('100', []));
    const w = mockWatch('observability', '100');
    await start(h);
    await waitFor('the watch', () => w.scope.isDone());
    let again = 0;
    nock(API)
      .get(slicesPath('observability'))
      .query((q) => q.watch === '1')
      .reply(() => {
        again = Date.now();
        return [200, ''];
      });
    const ended = Date.now();
    w.events.end();
    await waitFor('the next watch', () => again > 0);
    // The jittered delay is at least half of 200 ms; timers never fire early.
    assert.ok(again - ended >= 95, `re-watched after ${again - ended} ms`);
  });

  it('re-reads the service account token for each connection (bound tokens rotate)', async () => {
    h = harness();
    mockList('observability', 200, list('100', []), { authorization: 'Bearer sa-token-1' });
    const w = mockWatch('observability', '100', { authorization: 'Bearer sa-token-1' });
    await start(h);
    assert.deepEqual(h.updates, [[]], 'a Service without endpoints is a result too');
    await waitFor('the watch', () => w.scope.isDone());
    writeFileSync(join(h.dir, 'token'), 'sa-token-2\n');
    const rotated = mockWatch('observability', '100', { authorization: 'Bearer sa-token-2' });
    w.events.end();
    await waitFor('the watch with the rotated token', () => rotated.scope.isDone());
  });

  it('without a namespace in `service`, uses the pod\'s own (the service account namespace file)', async () => {
    h = harness({ service: 'otel-gateway' });
    const listed = mockList('team-a', 200, list('7', [slice('gw', [{ addresses: ['10.1.0.1'] }])]));
    mockWatch('team-a', '7');
    await start(h);
    assert.ok(listed.isDone());
    assert.deepEqual(h.latest(), ['10.1.0.1:4317']);
  });

  it('without a namespace anywhere, uses "default" and says so (as the collector does)', async () => {
    h = harness({ service: 'otel-gateway' });
    rmSync(join(h.dir, 'namespace'));
    const listed = mockList('default', 200, list('7', []));
    mockWatch('default', '7');
    await start(h);
    assert.ok(listed.isDone());
    assert.ok(h.logs.some((l) => l.includes('"level":"warn"') && l.includes('using \\"default\\"')), h.logs.join(''));
  });

  it('accepts the Service\'s DNS name (name.namespace.svc.cluster.local)', async () => {
    h = harness({ service: 'otel-gateway.observability.svc.cluster.local' });
    const listed = mockList('observability', 200, list('7', [slice('gw', [{ addresses: ['10.1.0.1'] }])]));
    mockWatch('observability', '7');
    await start(h);
    assert.ok(listed.isDone());
  });

  it('emits one backend per address and port; IPv6 addresses in brackets', async () => {
    h = harness({ ports: [4317, 14317] });
    mockList(
      'observability',
      200,
      list('100', [slice('gw-v4', [{ addresses: ['10.0.0.1'] }, { addresses: ['10.0.0.1'] }]), slice('gw-v6', [{ addresses: ['fd00:10::5'] }], 'IPv6')]),
    );
    mockWatch('observability', '100');
    await start(h);
    assert.deepEqual(h.latest(), ['10.0.0.1:14317', '10.0.0.1:4317', '[fd00:10::5]:14317', '[fd00:10::5]:4317']);
  });

  it('return_hostnames: emits <hostname>.<service>.<namespace>:port, skipping endpoints without a hostname', async () => {
    h = harness({ return_hostnames: true });
    mockList(
      'observability',
      200,
      list('100', [slice('gw', [{ addresses: ['10.0.0.1'], hostname: 'otel-gateway-0' }, { addresses: ['10.0.0.2'], hostname: 'otel-gateway-1' }, { addresses: ['10.0.0.3'] }])]),
    );
    mockWatch('observability', '100');
    await start(h);
    assert.deepEqual(h.latest(), ['otel-gateway-0.otel-gateway.observability:4317', 'otel-gateway-1.otel-gateway.observability:4317']);
    assert.ok(h.logs.some((l) => l.includes('"level":"warn"') && l.includes('hostname')));
  });

  it('a 403 names the missing RBAC grant; start() still resolves and the resolver keeps trying', async () => {
    h = harness();
    mockList('observability', 403, { kind: 'Status', code: 403, reason: 'Forbidden', message: 'endpointslices.discovery.k8s.io is forbidden' });
    await start(h);
    assert.deepEqual(h.updates, []);
    assert.ok(h.logs.some((l) => /forbidden/i.test(l) && l.includes('endpointslices') && /list.*watch/.test(l)), h.logs.join(''));
    const listed = mockList('observability', 200, list('5', [slice('gw', [{ addresses: ['10.0.0.1'] }])]));
    mockWatch('observability', '5');
    await waitFor('the retry', () => listed.isDone());
    await waitFor('the first result', () => h!.updates.length === 1);
  });

  it('without ports, uses 4317 (as the collector documents)', async () => {
    h = harness({ ports: [] });
    mockList('observability', 200, list('1', [slice('gw', [{ addresses: ['10.0.0.1'] }])]));
    mockWatch('observability', '1');
    await start(h);
    assert.deepEqual(h.latest(), ['10.0.0.1:4317']);
  });

  it('a LIST slower than `timeout` is abandoned and retried', async () => {
    h = harness({ timeout: 100 });
    nock(API).get(slicesPath('observability')).query(true).delay(1000).reply(200, list('1', []));
    await start(h);
    assert.deepEqual(h.updates, []);
    assert.ok(h.logs.some((l) => l.includes('timed out after 100ms')), h.logs.join(''));
    const listed = mockList('observability', 200, list('2', [slice('gw', [{ addresses: ['10.0.0.1'] }])]));
    mockWatch('observability', '2');
    await waitFor('the retried list', () => listed.isDone() && h!.updates.length === 1);
  });

  it('a consumer that throws does not stop the watch', async () => {
    h = harness();
    mockList('observability', 200, list('100', [slice('gw-a', [{ addresses: ['10.0.0.1'] }])]));
    const w = mockWatch('observability', '100');
    const seen: (readonly string[])[] = [];
    await h.resolver.start((eps) => {
      seen.push(eps);
      if (eps.length === 2) throw new Error('ring rebuild failed');
    });
    await waitFor('the watch', () => w.scope.isDone());
    w.send('ADDED', slice('gw-b', [{ addresses: ['10.0.0.2'] }]));
    w.send('ADDED', slice('gw-c', [{ addresses: ['10.0.0.3'] }]));
    await waitFor('the event after the throw', () => seen.length === 3);
    assert.ok(h.logs.some((l) => l.includes('"level":"error"') && l.includes('ring rebuild failed')));
  });

  it('start() fails with a clear error outside a Kubernetes pod', async () => {
    h = harness({}, { env: {} });
    await assert.rejects(start(h), (err: Error) => err.name === 'ConfigError' && /exporters\.loadbalancing\.resolver\.k8s: KUBERNETES_SERVICE_HOST.*resolver\.dns/.test(err.message));
  });

  it('rejects a Service name that is not a DNS label', () => {
    assert.throws(() => harness({ service: 'Otel_Gateway' }), /resolver\.k8s\.service/);
    assert.throws(() => harness({ service: '' }), /resolver\.k8s\.service/);
  });

  it('shutdown stops the watch: no request and no callback after it; safe to call twice', async () => {
    h = harness();
    mockList('observability', 200, list('100', [slice('gw-a', [{ addresses: ['10.0.0.1'] }])]));
    const w = mockWatch('observability', '100');
    await start(h);
    await waitFor('the watch', () => w.scope.isDone());
    await h.resolver.shutdown();
    await h.resolver.shutdown();
    w.send('ADDED', slice('gw-b', [{ addresses: ['10.0.0.2'] }]));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(h.updates.length, 1);
    assert.deepEqual(nock.pendingMocks(), []);
  });
});

describe('loadbalancing exporter: k8s resolver against a real HTTPS server', () => {
  let server: Server | undefined;
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.resolver.shutdown();
    h = undefined;
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r) ?? r(undefined));
    server = undefined;
  });

  /** An API server with a self-signed certificate; the watch writes its events in split chunks. */
  async function apiServer(dir: string): Promise<{ port: number; requests: string[]; watch: Promise<ServerResponse> }> {
    const pair = makeKeyPair(dir, 'apiserver');
    const requests: string[] = [];
    let gotWatch!: (res: ServerResponse) => void;
    const watch = new Promise<ServerResponse>((r) => (gotWatch = r));
    server = createServer({ cert: pair.cert, key: readFileSync(pair.keyFile) }, (req, res) => {
      requests.push(`${req.headers.authorization ?? '-'} ${req.url ?? ''}`);
      const url = new URL(req.url ?? '/', 'https://x');
      if (url.searchParams.get('watch') === '1') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
        gotWatch(res);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(list('42', [slice('gw-a', [{ addresses: ['10.0.0.1'] }])])));
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return { port: (server.address() as AddressInfo).port, requests, watch };
  }

  it('trusts the service account CA, sends the token, and reads events split across chunks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tb-k8s-tls-'));
    const api = await apiServer(dir);
    h = harness({}, { env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(api.port) } });
    copyFileSync(join(dir, 'apiserver.crt'), join(h.dir, 'ca.crt'));
    await start(h);
    assert.deepEqual(h.latest(), ['10.0.0.1:4317']);
    const res = await api.watch;
    const line = `${JSON.stringify({ type: 'ADDED', object: slice('gw-b', [{ addresses: ['10.0.0.2'] }]) })}\n`;
    res.write(line.slice(0, 17));
    await new Promise((r) => setTimeout(r, 30));
    res.write(line.slice(17));
    await waitFor('the ADDED event', () => h!.latest()?.length === 2);
    assert.equal(api.requests.length, 2);
    assert.ok(api.requests.every((r) => r.startsWith('Bearer sa-token-1 /apis/discovery.k8s.io/v1/namespaces/observability/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dotel-gateway')), api.requests.join('\n'));
  });

  it('refuses an API server whose certificate the CA does not sign', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tb-k8s-tls-'));
    const api = await apiServer(dir);
    h = harness({}, { env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(api.port) } });
    writeFileSync(join(h.dir, 'ca.crt'), makeKeyPair(dir, 'other-ca').cert);
    await start(h);
    assert.deepEqual(h.updates, []);
    assert.deepEqual(api.requests, []);
    assert.ok(h.logs.some((l) => l.includes('"level":"warn"') && /certificate/i.test(l)), h.logs.join(''));
  });
});
