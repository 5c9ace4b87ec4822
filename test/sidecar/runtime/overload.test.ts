// The injected sidecar in a memory cgroup of its injected limit (192 MiB), overloaded ten times its
// rated 10k spans/s with ~1 KB spans while its backend is slow: it is never OOM-killed, it refuses
// with retryable codes, and every span it acknowledged reaches the backend once it recovers.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeTraceRequest } from '../../../sidecar/pdata/otlp-schema.ts';
import { createMemoryCgroup } from '../../support/cgroup.ts';
import { freePort, HttpSink } from '../../support/otlp-sinks.ts';
import { ROOT } from '../../support/process.ts';
import { envoyRequest } from '../../support/spans.ts';

const MIB = 1024 * 1024;
const SPANS_PER_REQUEST = 100;
const OVERLOAD_MS = 15_000;
const CLIENTS = 32;

function spanIds(body: Buffer): string[] {
  const ids: string[] = [];
  for (const rs of decodeTraceRequest(body).resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) ids.push(Buffer.from(s.spanId!).toString('hex'));
  return ids;
}

function post(agent: Agent, port: number, body: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/v1/traces', method: 'POST', agent, headers: { 'Content-Type': 'application/x-protobuf', 'Content-Length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.setTimeout(20_000, () => req.destroy());
    req.end(body);
  });
}

describe('memory: the sidecar in a 192 MiB cgroup under 10x overload with a slow backend', function () {
  this.timeout(120_000);

  it('is never OOM-killed, refuses with 503, and delivers every span it acknowledged once the backend recovers', async function () {
    const cg = createMemoryCgroup('tb-overload', 192 * MIB);
    if (typeof cg === 'string') {
      process.stdout.write(`      skipped: ${cg}\n`);
      this.skip();
      return;
    }
    // The image runs the compiled sidecar (TypeScript stripping alone costs ~30 MiB).
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
    const sink = await new HttpSink().start();
    // Slow: every export answered after 3 s.
    sink.fallback = { kind: 'ok', delayMs: 3000 };
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'tb-overload-'));
    const cfg = join(dir, 'c.yaml');
    writeFileSync(
      cfg,
      `receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${port} } } } }
processors:
  memory_limiter: { check_interval: 1s, limit_percentage: 80, spike_limit_percentage: 20 }
  batch: { send_batch_size: 1024, send_batch_max_size: 1024 }
exporters:
  otlphttp:
    endpoint: ${sink.url}
    timeout: 30s
    sending_queue: { num_consumers: 4 }
    retry_on_failure: { initial_interval: 500ms, max_interval: 2s }
service:
  pipelines: { traces: { receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlphttp] } }
  telemetry: { metrics: { level: none } }
`,
    );
    const child = cg.spawnNode(['dist/sidecar/main.js', '--config', cfg]);
    let log = '';
    child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
    child.stdout!.on('data', (c: Buffer) => (log += c.toString()));
    let exit: number | string | null | undefined;
    const exited = new Promise<void>((r) => child.once('exit', (code, signal) => ((exit = code ?? signal), r())));
    const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
    try {
      const deadline = Date.now() + 15_000;
      while (!/tracebridge sidecar running/.test(log) && Date.now() < deadline && exit === undefined) await new Promise((r) => setTimeout(r, 50));
      assert.match(log, /tracebridge sidecar running/);

      const acknowledged = new Set<string>();
      const statuses = new Map<number, number>();
      let offered = 0;
      let peakRss = 0;
      const rssTimer = setInterval(() => {
        try {
          const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0);
          peakRss = Math.max(peakRss, kb * 1024);
        } catch {
          // exited
        }
      }, 200);
      const stopAt = Date.now() + OVERLOAD_MS;
      await Promise.all(
        Array.from({ length: CLIENTS }, async () => {
          let body = envoyRequest(SPANS_PER_REQUEST);
          while (Date.now() < stopAt && exit === undefined) {
            const status = await post(agent, port, body);
            offered += SPANS_PER_REQUEST;
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
            if (status === 200) {
              for (const id of spanIds(body)) acknowledged.add(id);
              body = envoyRequest(SPANS_PER_REQUEST);
            } else if (status === 503 || status === 429) {
              // Refused retryably: a real exporter would back off; this one comes back at once.
            } else {
              assert.fail(`unexpected answer ${status}`);
            }
          }
        }),
      );
      const offeredRate = Math.round(offered / (OVERLOAD_MS / 1000));
      // The backend recovers.
      sink.fallback = { kind: 'ok' };
      const delivered = new Set<string>();
      let seen = 0;
      const missing = () => {
        for (; seen < sink.received.length; seen++) for (const id of spanIds(sink.received[seen]!.bytes)) delivered.add(id);
        let n = 0;
        for (const id of acknowledged) if (!delivered.has(id)) n++;
        return n;
      };
      await sink.waitUntil(() => missing() === 0 || exit !== undefined, 40_000, 'every acknowledged span delivered').catch(() => undefined);
      clearInterval(rssTimer);
      const summary = { offered_spans_per_s: offeredRate, acknowledged: acknowledged.size, delivered: delivered.size, statuses: Object.fromEntries(statuses), peak_rss_mib: Math.round(peakRss / MIB), cgroup_peak_mib: Math.round((cg.peak() ?? 0) / MIB), limit_hits: cg.limitHits(), oom_kills: cg.oomKills() };
      process.stdout.write(`      ${JSON.stringify(summary)}\n`);

      assert.equal(exit, undefined, `the sidecar exited (${String(exit)}):\n${log.slice(-3000)}`);
      assert.equal(cg.oomKills(), 0, 'OOM kills in the cgroup');
      assert.ok(offeredRate >= 2 * 10_000, `overload offered only ${offeredRate} spans/s`);
      assert.ok((statuses.get(503) ?? 0) + (statuses.get(429) ?? 0) > 0, 'some data was refused');
      assert.ok(acknowledged.size > 0, 'some data was acknowledged');
      assert.equal(missing(), 0, `acknowledged spans never delivered: ${missing()} of ${acknowledged.size}`);
    } finally {
      agent.destroy();
      if (exit === undefined) child.kill('SIGTERM');
      await exited;
      await sink.stop();
      cg.remove();
    }
  });
});
