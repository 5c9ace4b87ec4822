import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeClient, resolveApiServer } from '../../injector/kube-client.ts';
import { KubeVersionSource } from '../../injector/kube-version.ts';
import { chooseMode, parseKubeVersion } from '../../injector/mode.ts';
import { NamespaceCache } from '../../injector/namespace-cache.ts';
import { tempDir } from './certs.ts';
import { nockOff, nockOn, type Nock } from './nock.ts';

const API = 'https://kube.test:6443';
let nock: typeof Nock;

function setup(now: { t: number }) {
  const dir = tempDir('tb-kube-');
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, 'sa-token-1\n');
  const client = new KubeClient({ apiServer: API, tokenFile, caFile: join(dir, 'missing-ca.crt'), timeoutMs: 300, now: () => now.t });
  const results: string[] = [];
  const cache = new NamespaceCache(
    (name) => client.get(`/api/v1/namespaces/${name}`),
    { ttlMs: 30_000, maxStaleMs: 600_000, retryAfterFailureMs: 5000, now: () => now.t },
    (r) => results.push(r),
  );
  return { client, cache, results, tokenFile };
}

const namespaceBody = (name: string, labels: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels, annotations: { owner: 'shop' } } });

describe('injector Kubernetes API (nock)', () => {
  before(async () => {
    nock = await nockOn();
    nock.disableNetConnect();
  });
  afterEach(() => nock.cleanAll());
  after(() => nockOff(nock));

  it('reads a namespace with the service account token and caches it for the TTL', async () => {
    const now = { t: 1_000_000 };
    const { cache, client } = setup(now);
    const first = nock(API, { reqheaders: { authorization: 'Bearer sa-token-1' } })
      .get('/api/v1/namespaces/shop')
      .once()
      .reply(200, namespaceBody('shop', { 'tracebridge.io/inject': 'true' }));
    const a = await cache.get('shop');
    assert.deepEqual(a, { known: true, name: 'shop', labels: { 'tracebridge.io/inject': 'true' }, annotations: { owner: 'shop' } });
    assert.ok(first.isDone());
    now.t += 29_000;
    assert.deepEqual(await cache.get('shop'), a, 'served from cache without a request');
    now.t += 2_000;
    const second = nock(API).get('/api/v1/namespaces/shop').reply(200, namespaceBody('shop', {}));
    const b = await cache.get('shop');
    assert.ok(second.isDone(), 'refreshed after the TTL');
    assert.deepEqual(b.known && b.labels, {});
    client.close();
  });

  it('shares one request between concurrent lookups', async () => {
    const now = { t: 0 };
    const { cache, client } = setup(now);
    const scope = nock(API).get('/api/v1/namespaces/shop').once().delay(30).reply(200, namespaceBody('shop', {}));
    const answers = await Promise.all([cache.get('shop'), cache.get('shop'), cache.get('shop')]);
    assert.ok(scope.isDone());
    assert.ok(answers.every((x) => x.known));
    client.close();
  });

  it('API down: unknown with the reason, no retry storm, then recovers', async () => {
    const now = { t: 0 };
    const { cache, results, client } = setup(now);
    nock(API).get('/api/v1/namespaces/shop').replyWithError('connect ECONNREFUSED 10.96.0.1:443');
    const down = await cache.get('shop');
    assert.equal(down.known, false);
    assert.match(!down.known ? down.why : '', /Kubernetes API unreachable: .*ECONNREFUSED/);
    // Within retry_after_failure: no request at all (nock would answer "no match" if one were made).
    now.t += 1000;
    const again = await cache.get('shop');
    assert.equal(again.known, false);
    assert.deepEqual(results, ['error']);
    now.t += 5000;
    nock(API).get('/api/v1/namespaces/shop').reply(200, namespaceBody('shop', { a: 'b' }));
    assert.equal((await cache.get('shop')).known, true);
    client.close();
  });

  it('serves a stale entry while the API is down, up to the max staleness', async () => {
    const now = { t: 0 };
    const { cache, client } = setup(now);
    nock(API).get('/api/v1/namespaces/shop').reply(200, namespaceBody('shop', { 'istio-injection': 'enabled' }));
    await cache.get('shop');
    now.t += 60_000;
    nock(API).get('/api/v1/namespaces/shop').reply(503, { kind: 'Status' });
    const stale = await cache.get('shop');
    assert.equal(stale.known && stale.labels['istio-injection'], 'enabled');
    now.t += 600_000;
    const expired = await cache.get('shop');
    assert.equal(expired.known, false);
    client.close();
  });

  it('times out a hanging API server', async () => {
    const now = { t: 0 };
    const { cache, client } = setup(now);
    nock(API).get('/api/v1/namespaces/slow').delay(2000).reply(200, namespaceBody('slow', {}));
    const info = await cache.get('slow');
    assert.equal(info.known, false);
    assert.match(!info.known ? info.why : '', /timed out/);
    client.close();
  });

  it('404: namespace not found (not an outage)', async () => {
    const now = { t: 0 };
    const { cache, results, client } = setup(now);
    nock(API).get('/api/v1/namespaces/gone').reply(404, { kind: 'Status', code: 404 });
    const info = await cache.get('gone');
    assert.equal(info.known, false);
    assert.match(!info.known ? info.why : '', /not found/);
    assert.deepEqual(results, ['not_found']);
    client.close();
  });

  it('re-reads a rotated service account token', async () => {
    const now = { t: 0 };
    const { client, tokenFile } = setup(now);
    nock(API, { reqheaders: { authorization: 'Bearer sa-token-1' } }).get('/version').reply(200, { gitVersion: 'v1.30.1' });
    await client.get('/version');
    writeFileSync(tokenFile, 'sa-token-2');
    now.t += 61_000;
    const scope = nock(API, { reqheaders: { authorization: 'Bearer sa-token-2' } }).get('/version').reply(200, { gitVersion: 'v1.30.1' });
    await client.get('/version');
    assert.ok(scope.isDone());
    client.close();
  });

  it('native: auto follows /version (EKS style), and falls back to classic when the API is down', async () => {
    const now = { t: 0 };
    const { client } = setup(now);
    const versions = new KubeVersionSource(client, { refreshMs: 600_000, retryAfterFailureMs: 5000, now: () => now.t });
    nock(API).get('/version').reply(200, { major: '1', minor: '29+', gitVersion: 'v1.29.3-eks-adc7111' });
    assert.equal(chooseMode('auto', await versions.current()).mode, 'native');

    const down = new KubeVersionSource(client, { refreshMs: 600_000, retryAfterFailureMs: 5000, now: () => now.t });
    nock(API).get('/version').replyWithError('socket hang up');
    const choice = chooseMode('auto', await down.current());
    assert.equal(choice.mode, 'classic');
    assert.match(choice.reason, /unknown.*unreachable/);
    client.close();
  });

  it('parses versions', () => {
    assert.deepEqual(parseKubeVersion({ gitVersion: 'v1.28.15-gke.1' }), { major: 1, minor: 28, gitVersion: 'v1.28.15-gke.1' });
    assert.deepEqual(parseKubeVersion({ major: '1', minor: '33+' }), { major: 1, minor: 33, gitVersion: 'v1.33' });
    assert.equal(parseKubeVersion({ kind: 'Status' }), undefined);
    assert.equal(chooseMode('auto', parseKubeVersion({ gitVersion: 'v1.28.0' })!).mode, 'classic');
    assert.equal(chooseMode('auto', parseKubeVersion({ gitVersion: 'v1.29.0' })!).mode, 'native');
  });

  it('finds the in-cluster API server from the service environment', () => {
    assert.deepEqual(resolveApiServer(undefined, { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }), { url: 'https://10.96.0.1:443' });
    assert.deepEqual(resolveApiServer(undefined, { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }), { url: 'https://[fd00::1]:443' });
    assert.ok('none' in resolveApiServer(undefined, {}));
    assert.deepEqual(resolveApiServer('http://127.0.0.1:8001', {}), { url: 'http://127.0.0.1:8001' });
  });
});
