// `npx node bench/header-bridge.ts [--requests N] [--concurrency C]`
// Added latency of the header bridge: the same small GET sent straight to an upstream and sent
// through the bridge (forward proxy, X-Amzn-Trace-Id in, traceparent and b3 derived), both over
// keep-alive connections, interleaved in blocks so machine noise hits both alike. The bridge runs
// as in production: HeaderBridgeExtension with its worker thread. The client and the upstream
// share this process's main thread, so figures include their cost on both paths; the
// difference is the bridge's. Prints p50/p90/p99 per path and the added latency.
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigErrors } from '../sidecar/config/schema.ts';
import { headerBridgeConfig } from '../sidecar/extensions/header_bridge/config.ts';
import { HeaderBridgeExtension } from '../sidecar/extensions/header_bridge/extension.ts';
import { createLogger } from '../sidecar/telemetry/logger.ts';
import { MetricsRegistry } from '../sidecar/telemetry/metrics.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const REQUESTS = arg('requests', 4000);
const CONCURRENCY = arg('concurrency', 1);
const BLOCK = 200;
const WARMUP = 500;
const HEADERS = { 'X-Amzn-Trace-Id': 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1' };

interface Path {
  name: string;
  agent: Agent;
  host: string;
  port: number;
  path: string;
  samples: number[];
}

function once(p: Path): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    request({ host: p.host, port: p.port, path: p.path, headers: HEADERS, agent: p.agent }, (res) => {
      res.resume().on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`${p.name}: status ${res.statusCode}`));
        else resolve(Number(process.hrtime.bigint() - t0) / 1e6);
      });
    })
      .on('error', reject)
      .end();
  });
}

async function run(p: Path, n: number, record: boolean): Promise<void> {
  let left = n;
  const worker = async () => {
    while (left-- > 0) {
      const ms = await once(p);
      if (record) p.samples.push(ms);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

function pct(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const upstream = createServer((_req, res) => res.end('ok'));
await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
const upPort = (upstream.address() as AddressInfo).port;

const errors = new ConfigErrors();
const cfg = headerBridgeConfig.decode({ endpoint: '127.0.0.1:0' }, 'extensions.header_bridge', errors);
if (errors.any()) throw new Error(errors.list().join('\n'));
const metrics = new MetricsRegistry();
const bridge = new HeaderBridgeExtension({ id: 'header_bridge', kind: 'extension', logger: createLogger('silent'), metrics }, cfg);
await bridge.start({ getExtension: () => undefined, status: 'running', startedAt: new Date() });
const fwd = bridge.listeners.find((l) => l.name === 'forward')!;

const agentOpts = { keepAlive: true, maxSockets: CONCURRENCY };
const direct: Path = { name: 'direct', agent: new Agent(agentOpts), host: '127.0.0.1', port: upPort, path: '/', samples: [] };
const bridged: Path = { name: 'via header_bridge', agent: new Agent(agentOpts), host: fwd.address!, port: fwd.port!, path: `http://127.0.0.1:${upPort}/`, samples: [] };

await run(direct, WARMUP, false);
await run(bridged, WARMUP, false);
const started = Date.now();
for (let done = 0; done < REQUESTS; done += BLOCK) {
  await run(direct, Math.min(BLOCK, REQUESTS - done), true);
  await run(bridged, Math.min(BLOCK, REQUESTS - done), true);
}
const seconds = (Date.now() - started) / 1000;

const out: string[] = [
  `header_bridge added latency: ${REQUESTS} GETs per path, concurrency ${CONCURRENCY}, keep-alive, Node ${process.version}, ${seconds.toFixed(1)} s`,
  '',
  '| path | p50 ms | p90 ms | p99 ms |',
  '| --- | ---: | ---: | ---: |',
];
const stats = [direct, bridged].map((p) => {
  const s = [...p.samples].sort((a, b) => a - b);
  return { name: p.name, p50: pct(s, 0.5), p90: pct(s, 0.9), p99: pct(s, 0.99) };
});
for (const s of stats) out.push(`| ${s.name} | ${s.p50.toFixed(3)} | ${s.p90.toFixed(3)} | ${s.p99.toFixed(3)} |`);
const [d, b] = stats as [(typeof stats)[0], (typeof stats)[0]];
out.push(`| added by the bridge | ${(b.p50 - d.p50).toFixed(3)} | ${(b.p90 - d.p90).toFixed(3)} | ${(b.p99 - d.p99).toFixed(3)} |`);
bridge.syncMetrics();
const derived = metrics.counter('tracebridge_header_bridge_translations_total', '').get({ translation: 'derived' });
out.push('', `bridge counted ${derived} requests with derived headers (expected ${REQUESTS + WARMUP})`);
process.stdout.write(`${out.join('\n')}\n`);

direct.agent.destroy();
bridged.agent.destroy();
await bridge.shutdown();
upstream.close();
