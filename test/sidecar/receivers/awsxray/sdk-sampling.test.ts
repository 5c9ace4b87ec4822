// The X-Ray SDK's centralized sampling (its own rule and target pollers' client) against the
// sidecar's proxy_server: relayed to a mocked X-Ray with SigV4, or answered from the local
// default rule when there is no region, no credentials or no reachable X-Ray.
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer } from 'node:net';
import type Nock from 'nock';
import { freeSharedPort, startXRay, xrayConfig, until, type Running } from './service.ts';
import { loadXRaySdk, type LoadedSdk, type SamplingRule } from './xray-sdk.ts';
import { post } from '../zipkin/service.ts';

// nock patches node:http for the whole process as soon as it is evaluated; imported lazily and
// restored after this file, it cannot disturb files that run before or after (gRPC, gzip bodies).
let nock: typeof Nock;
async function nockOn(): Promise<void> {
  nock = (await import('nock')).default;
  if (!nock.isActive()) nock.activate();
}

// Every variable the AWS credential chain or the region lookup reads: tests set what they need.
const AWS_ENV = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_ROLE_ARN',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_CONFIG_FILE',
  'AWS_EC2_METADATA_DISABLED',
  'HTTPS_PROXY',
  'https_proxy',
];

function setAwsEnv(vars: Record<string, string>): () => void {
  const saved = new Map(AWS_ENV.map((k) => [k, process.env[k]]));
  for (const k of AWS_ENV) delete process.env[k];
  // No shared config files and no instance metadata: only what the test gives counts.
  Object.assign(process.env, { AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials', AWS_CONFIG_FILE: '/nonexistent/config', AWS_EC2_METADATA_DISABLED: 'true' }, vars);
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

const STATIC_CREDS = { AWS_ACCESS_KEY_ID: 'AKIDTRACEBRIDGE', AWS_SECRET_ACCESS_KEY: 'test-secret' };

function fetchRules(sdk: LoadedSdk): Promise<SamplingRule[]> {
  return new Promise((resolve, reject) => sdk.sampling.connector.fetchSamplingRules((err, rules) => (err ? reject(err) : resolve(rules!))));
}

function fetchTargets(sdk: LoadedSdk, rules: SamplingRule[]): Promise<Record<string, { rate: number; quota: number; interval: number }>> {
  return new Promise((resolve, reject) => sdk.sampling.connector.fetchTargets(rules, (err, t) => (err ? reject(err) : resolve(t!))));
}

/** A port on which nothing listens: X-Ray "unreachable". */
async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
}

const RELAYED_RULE = {
  RuleName: 'orders-api',
  RuleARN: 'arn:aws:xray:us-west-2:123456789012:sampling-rule/orders-api',
  ResourceARN: '*',
  Priority: 100,
  FixedRate: 0.5,
  ReservoirSize: 7,
  ServiceName: '*',
  ServiceType: '*',
  Host: '*',
  HTTPMethod: '*',
  URLPath: '/orders*',
  Version: 1,
  Attributes: {},
};

describe('awsxray receiver sampling proxy with aws-xray-sdk-core', () => {
  let run: Running | undefined;
  let sdk: LoadedSdk | undefined;
  let restoreEnv: (() => void) | undefined;

  before(async () => {
    await nockOn();
    nock.disableNetConnect();
  });
  after(() => {
    nock.enableNetConnect();
    nock.restore();
  });

  async function start(env: Record<string, string>, proxy: string): Promise<Running> {
    restoreEnv = setAwsEnv(env);
    // Loopback stays open: the SDK talks to the sidecar, the sidecar to nothing else.
    nock.enableNetConnect('127.0.0.1');
    const port = await freeSharedPort();
    run = await startXRay(xrayConfig({ port, proxy }));
    sdk = loadXRaySdk(port);
    return run;
  }

  afterEach(async () => {
    sdk?.unload();
    sdk = undefined;
    await run?.svc.shutdown();
    run = undefined;
    restoreEnv?.();
    restoreEnv = undefined;
    nock.cleanAll();
    nock.disableNetConnect();
  });

  it('relays GetSamplingRules and SamplingTargets to X-Ray, SigV4-signed for region and service xray', async () => {
    const r = await start(STATIC_CREDS, 'region: us-west-2');
    const seen: { path: string; auth: string; body: string }[] = [];
    // nock 15 hands reply functions the fetch Request.
    const record = async (request: Request) => {
      seen.push({ path: new URL(request.url).pathname, auth: request.headers.get('authorization') ?? '', body: await request.text() });
    };
    const xray = nock('https://xray.us-west-2.amazonaws.com')
      .post('/GetSamplingRules')
      .reply(200, async (request: Request) => {
        await record(request);
        return { SamplingRuleRecords: [{ SamplingRule: RELAYED_RULE, CreatedAt: 1.7e9, ModifiedAt: 1.7e9 }] };
      })
      .post('/SamplingTargets')
      .reply(200, async (request: Request) => {
        await record(request);
        return {
          SamplingTargetDocuments: [{ RuleName: 'orders-api', FixedRate: 0.25, ReservoirQuota: 3, ReservoirQuotaTTL: 1.7e9 + 10, Interval: 10 }],
          LastRuleModification: 1.7e9,
          UnprocessedStatistics: [],
        };
      });

    // The SDK's own sampler: the first decision starts its rule poller, which asks the sidecar.
    const s = sdk!.sampling;
    s.defaultSampler.shouldSample({ host: 'shop', httpMethod: 'GET', urlPath: '/orders/1', serviceName: 'orders' });
    await until(() => s.ruleCache.getRules().some((rule) => rule.getName() === 'orders-api'));
    const rule = s.ruleCache.getRules().find((x) => x.getName() === 'orders-api')!;
    assert.equal(rule.getRate(), 0.5, 'the rule X-Ray returned, not a local one');
    assert.equal(s.defaultSampler.shouldSample({ host: 'shop', httpMethod: 'GET', urlPath: '/orders/2', serviceName: 'orders' }), 'orders-api');

    const targets = await fetchTargets(sdk!, [rule]);
    assert.deepEqual(targets['orders-api'], { rate: 0.25, quota: 3, TTL: (1.7e9 + 10) / 1000, interval: 10 });
    assert.ok(xray.isDone(), 'both calls reached X-Ray');

    for (const call of seen) {
      assert.match(call.auth, /^AWS4-HMAC-SHA256 Credential=AKIDTRACEBRIDGE\/\d{8}\/us-west-2\/xray\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/, call.path);
    }
    assert.equal(seen[0]!.body, '{}', 'GetSamplingRules body relayed as sent');
    const stats = JSON.parse(seen[1]!.body) as { SamplingStatisticsDocuments: { RuleName: string; ClientID: string; RequestCount: number }[] };
    assert.equal(stats.SamplingStatisticsDocuments[0]!.RuleName, 'orders-api');
    assert.match(stats.SamplingStatisticsDocuments[0]!.ClientID, /^[0-9a-f]{24}$/);
    assert.ok(stats.SamplingStatisticsDocuments[0]!.RequestCount >= 1);
    assert.equal(r.metric('tracebridge_receiver_awsxray_sampling_requests_total', { api: 'GetSamplingRules', answer: 'relayed' }), 1);
    assert.equal(r.metric('tracebridge_receiver_awsxray_sampling_requests_total', { api: 'SamplingTargets', answer: 'relayed' }), 1);
  });

  it('daemon_address (the central daemon an app named before injection): rules come from that daemon, unsigned, without AWS credentials', async () => {
    const seen: { path: string; auth: string | undefined }[] = [];
    const daemon = createHttpServer((req: IncomingMessage, res) => {
      seen.push({ path: req.url ?? '', auth: req.headers.authorization });
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ SamplingRuleRecords: [{ SamplingRule: RELAYED_RULE }] }));
    });
    await new Promise<void>((resolve) => daemon.listen(0, '127.0.0.1', resolve));
    try {
      const daemonPort = (daemon.address() as { port: number }).port;
      // No credentials and no region: relaying to X-Ray would fall back to the local default rule.
      const r = await start({}, `daemon_address: "udp:127.0.0.1:${daemonPort} tcp:127.0.0.1:${daemonPort}"`);
      const rules = await fetchRules(sdk!);
      assert.deepEqual(rules.map((x) => x.getName()), ['orders-api'], "the central daemon's rule, not the local default");
      assert.deepEqual(seen, [{ path: '/GetSamplingRules', auth: undefined }]);
      assert.equal(r.metric('tracebridge_receiver_awsxray_sampling_requests_total', { api: 'GetSamplingRules', answer: 'relayed' }), 1);
    } finally {
      await new Promise((resolve) => daemon.close(resolve));
    }
  });

  it('relays X-Ray error answers as they are (the SDK handles them)', async () => {
    await start(STATIC_CREDS, 'region: us-west-2');
    nock('https://xray.us-west-2.amazonaws.com')
      .post('/GetSamplingRules')
      .reply(403, { message: 'not authorized' }, { 'x-amzn-errortype': 'AccessDeniedException', 'content-type': 'application/json' });
    const res = await post(`http://127.0.0.1:${run!.tcpPort}/GetSamplingRules`, '{}');
    assert.equal(res.status, 403);
    assert.equal(res.headers['x-amzn-errortype'], 'AccessDeniedException');
    assert.deepEqual(JSON.parse(res.text), { message: 'not authorized' });
  });

  it('goes through proxy_address when set (absolute-form request for an http endpoint)', async () => {
    const seen: { url: string; auth: string; proxyAuth: string }[] = [];
    // A forward proxy that answers as X-Ray itself: enough to see what the relay sends it.
    const proxy = createHttpServer((req: IncomingMessage, res) => {
      seen.push({ url: req.url ?? '', auth: req.headers.authorization ?? '', proxyAuth: req.headers['proxy-authorization'] ?? '' });
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ SamplingRuleRecords: [{ SamplingRule: RELAYED_RULE }] }));
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const proxyPort = (proxy.address() as { port: number }).port;
      await start(STATIC_CREDS, `region: us-west-2, aws_endpoint: "http://xray.internal.example", proxy_address: "http://u:p@127.0.0.1:${proxyPort}"`);
      // nock sees the absolute URL; the bytes still go to the local proxy.
      nock.enableNetConnect((host) => host.startsWith('127.0.0.1') || host.startsWith('xray.internal.example'));
      const rules = await fetchRules(sdk!);
      assert.deepEqual(rules.map((x) => x.getName()), ['orders-api']);
      assert.equal(seen.length, 1);
      assert.equal(seen[0]!.url, 'http://xray.internal.example/GetSamplingRules');
      assert.match(seen[0]!.auth, /^AWS4-HMAC-SHA256 Credential=AKIDTRACEBRIDGE\/\d{8}\/us-west-2\/xray\//);
      assert.equal(seen[0]!.proxyAuth, `Basic ${Buffer.from('u:p').toString('base64')}`);
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it('without credentials serves the X-Ray default rule and matching targets locally, and says so once', async () => {
    const r = await start({}, 'region: us-west-2');
    const xray = nock('https://xray.us-west-2.amazonaws.com').post(/.*/).reply(500);

    const rules = await fetchRules(sdk!);
    assert.deepEqual(
      rules.map((x) => [x.getName(), x.getRate()]),
      [['Default', 0.05]],
    );
    const again = await fetchRules(sdk!);
    assert.equal(again.length, 1);
    const targets = await fetchTargets(sdk!, rules);
    assert.equal(targets.Default!.rate, 0.05);
    assert.equal(targets.Default!.quota, 1, 'one client: the whole reservoir of 1/s');
    assert.equal(targets.Default!.interval, 10);
    assert.equal(xray.isDone(), false, 'nothing unsigned went to X-Ray');

    const warnings = r.logs.filter((l) => l.level === 'warn' && /serving the local default rule/.test(l.msg));
    assert.equal(warnings.length, 1, 'logged once for the episode');
    assert.equal(warnings[0]!.reason, 'no AWS credentials');
    assert.equal(r.metric('tracebridge_receiver_awsxray_sampling_requests_total', { api: 'GetSamplingRules', answer: 'local' }), 2);
    assert.equal(r.metric('tracebridge_receiver_awsxray_sampling_requests_total', { api: 'SamplingTargets', answer: 'local' }), 1);
  });

  it('with X-Ray unreachable serves the local default rule', async () => {
    const port = await closedPort();
    const r = await start(STATIC_CREDS, `region: us-west-2, aws_endpoint: "http://127.0.0.1:${port}"`);
    const rules = await fetchRules(sdk!);
    assert.deepEqual(rules.map((x) => x.getName()), ['Default']);
    const warnings = r.logs.filter((l) => l.level === 'warn' && /serving the local default rule/.test(l.msg));
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.reason, 'X-Ray unreachable');
  });

  it('without a region (local_mode) serves local rules and says so at start', async () => {
    const r = await start(STATIC_CREDS, 'local_mode: true');
    await until(() => r.logs.some((l) => /no AWS region/.test(l.msg)));
    const rules = await fetchRules(sdk!);
    assert.deepEqual(rules.map((x) => x.getName()), ['Default']);
  });

  it('serves only the two sampling APIs', async () => {
    await start(STATIC_CREDS, 'local_mode: true');
    const url = `http://127.0.0.1:${run!.tcpPort}`;
    const other = await post(`${url}/TraceSegments`, '{}');
    assert.equal(other.status, 404);
    assert.match(other.text, /GetSamplingRules and \/SamplingTargets/);
    const get = await post(`${url}/GetSamplingRules`, '', {}, 'GET');
    assert.equal(get.status, 405);
    const bad = await post(`${url}/SamplingTargets`, 'not json');
    assert.equal(bad.status, 400);
  });
});
