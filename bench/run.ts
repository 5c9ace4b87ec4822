// `npm run bench`: tracebridge side by side with a raw byte relay on the same machine.
// The target (sidecar or relay) is pinned to CPU 0; the load generator and the sink to CPU 1.
// Figures: max sustained spans/s, CPU-seconds per million spans at 100/1k/10k spans/s, RSS idle
// and under load, cold start to ready. Writes bench/results/results.json and RESULTS.md.
//   npm run bench -- --quick      shorter steps (a smoke run, figures are rougher)
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { components } from '../sidecar/service/components.ts';
import { grpcSender, httpSender, runLoad, xrayUdpSender, zipkinSender, type LoadResult, type Sender, type Transport } from './load.ts';
import { cpuTimes, pin, rssBytes } from './proc.ts';
import { makeShape, makeXRayShape, makeZipkinShape, type Shape, type ShapeName } from './shapes.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const quick = process.argv.includes('--quick');
const STEP_MS = quick ? 2000 : 5000;
const CPU_MS = quick ? 3000 : 10_000;
const P99_BOUND_MS = 100;

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Sink {
  proc: ChildProcess;
  port: number;
  count(): Promise<{ spans: number; requests: number }>;
  stop(): void;
}

async function startSink(): Promise<Sink> {
  const proc = fork(join(ROOT, 'bench/sink-process.ts'), [], { execPath: process.execPath, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve) => proc.once('message', (m: { port: number }) => resolve(m.port)));
  pin(proc.pid!, 1);
  return {
    proc,
    port,
    count: () =>
      new Promise((resolve) => {
        proc.once('message', (m: { spans: number; requests: number }) => resolve(m));
        proc.send({ cmd: 'count' });
      }),
    stop: () => proc.send({ cmd: 'exit' }),
  };
}

interface Target {
  name: string;
  proc: ChildProcess;
  grpcPort: number;
  httpPort: number;
  zipkinPort: number;
  xrayPort: number;
  coldStartMs: number;
  stop(): Promise<void>;
}

async function waitHttp(url: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not up yet
    }
    await sleep(5);
  }
  throw new Error(`${url} not ready after ${ms} ms`);
}

async function stopProc(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  const done = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await Promise.race([done, sleep(30_000)]);
}

function memoryCgroup(): string | undefined {
  const mib = Number(process.env.TB_BENCH_MEMORY_LIMIT_MIB ?? 0);
  if (!(mib > 0)) return undefined;
  const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
  const dir = join(v2 ? '/sys/fs/cgroup' : '/sys/fs/cgroup/memory', `tb-bench-${process.pid}-${Date.now()}`);
  mkdirSync(dir);
  writeFileSync(join(dir, v2 ? 'memory.max' : 'memory.limit_in_bytes'), String(mib * 1024 * 1024));
  log(`sidecar in memory cgroup ${dir} (${mib} MiB)`);
  return dir;
}

/** Processor lists the bench compares: the default hot path, and with the ID rewrite. */
const PROCESSORS: Record<string, string> = {
  batch: 'batch',
  'tracecontext-rewrite': 'tracecontext, batch',
};

async function startSidecar(sinkPort: number, processors: string): Promise<Target> {
  const [grpcPort, httpPort, healthPort, metricsPort, zipkinPort, xrayPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'tb-bench-'));
  const cfg = join(dir, 'sidecar.yaml');
  // In a memory cgroup, as in a pod: the embedded default's memory_limiter goes first.
  const memoryLimited = Number(process.env.TB_BENCH_MEMORY_LIMIT_MIB ?? 0) > 0;
  writeFileSync(
    cfg,
    `receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:${grpcPort}, max_recv_msg_size_mib: 16 }
      http: { endpoint: 127.0.0.1:${httpPort} }
  zipkin: { endpoint: 127.0.0.1:${zipkinPort} }
  awsxray: { endpoint: 127.0.0.1:${xrayPort}, transport: udp, proxy_server: { endpoint: 127.0.0.1:${xrayPort}, local_mode: true } }
processors:
  memory_limiter: { check_interval: 1s, limit_percentage: 80, spike_limit_percentage: 20 }
  batch: { send_batch_size: 8192, timeout: 200ms }
  tracecontext: { on_invalid: rewrite }
exporters:
  otlp: { endpoint: 127.0.0.1:${sinkPort}, tls: { insecure: true }, compression: none }
extensions:
  health_check: { endpoint: 127.0.0.1:${healthPort} }
service:
  extensions: [health_check]
  pipelines:
    traces: { receivers: [otlp, zipkin, awsxray], processors: [${memoryLimited ? 'memory_limiter, ' : ''}${processors}], exporters: [otlp] }
  telemetry: { logs: { level: warn }, metrics: { address: 127.0.0.1:${metricsPort} } }
`,
  );
  const t0 = performance.now();
  // The compiled output, as the image runs it (no TypeScript stripper loaded).
  // TB_BENCH_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the sidecar.
  const nodeArgs = (process.env.TB_BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  // TB_BENCH_MEMORY_LIMIT_MIB=192 runs the sidecar in a memory cgroup of that limit, as the injector
  // limits it (needs root and a writable cgroup v1 memory or v2 mount): its heap is then capped from
  // the limit, as in a pod.
  const cgroupDir = memoryCgroup();
  const command = [process.execPath, ...nodeArgs, join(ROOT, 'dist/sidecar/main.js'), '--config', cfg];
  const proc =
    cgroupDir === undefined
      ? spawn('taskset', ['-c', '0', ...command], { stdio: ['ignore', 'ignore', 'inherit'] })
      : spawn('taskset', ['-c', '0', '/bin/sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroupDir, ...command], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitHttp(`http://127.0.0.1:${healthPort}/`, 20_000);
  const coldStartMs = Math.round(performance.now() - t0);
  return { name: 'tracebridge', proc, grpcPort, httpPort, zipkinPort, xrayPort, coldStartMs, stop: () => stopProc(proc) };
}

async function startRelay(sinkPort: number): Promise<Target> {
  const grpcPort = await freePort();
  const t0 = performance.now();
  const proc = spawn('taskset', ['-c', '0', process.execPath, join(ROOT, 'bench/relay-process.ts'), String(grpcPort), String(sinkPort)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => proc.stdout.once('data', () => resolve()));
  const coldStartMs = Math.round(performance.now() - t0);
  return { name: 'raw relay', proc, grpcPort, httpPort: 0, zipkinPort: 0, xrayPort: 0, coldStartMs, stop: () => stopProc(proc) };
}

interface ScenarioResult {
  target: string;
  transport: Transport;
  processors: string;
  shape: ShapeName;
  coldStartMs: number;
  idleRssMiB: number;
  maxSustainedSpansPerSec: number;
  ladder: (LoadResult & { delivered: number })[];
  cpuSecondsPerMillion: Record<string, number>;
  rssAt10kMiB: number;
}

const MiB = (b: number) => Number((b / 1024 / 1024).toFixed(1));

async function measureStep(sender: Sender, target: Target, sink: Sink, shape: Shape, rate: number, ms: number) {
  const before = await sink.count();
  const t0 = cpuTimes(target.proc.pid!);
  const res = await runLoad(sender, shape, rate, ms);
  await sleep(700); // let the batch timeout and exporter finish
  const t1 = cpuTimes(target.proc.pid!);
  const after = await sink.count();
  const user = t1.user - t0.user;
  const system = t1.system - t0.system;
  return { ...res, delivered: after.spans - before.spans, cpu: user + system, user, system, rss: rssBytes(target.proc.pid!) };
}

function senderFor(transport: Transport, target: Target): Sender {
  switch (transport) {
    case 'grpc':
      return grpcSender(target.grpcPort);
    case 'http':
    case 'http-gzip':
      return httpSender(target.httpPort, transport === 'http-gzip');
    case 'zipkin':
      return zipkinSender(target.zipkinPort);
    case 'xray-udp':
      return xrayUdpSender(target.xrayPort);
  }
}

async function scenario(kind: 'tracebridge' | 'relay', transport: Transport, shapeName: ShapeName, processors = 'batch'): Promise<ScenarioResult> {
  const shape = transport === 'zipkin' ? makeZipkinShape() : transport === 'xray-udp' ? makeXRayShape() : makeShape(shapeName);
  const sink = await startSink();
  const target = kind === 'tracebridge' ? await startSidecar(sink.port, PROCESSORS[processors]!) : await startRelay(sink.port);
  pin(target.proc.pid!, 0);
  const sender = senderFor(transport, target);
  try {
    await sleep(1500);
    const idleRss = rssBytes(target.proc.pid!);
    // Warm up the JIT and connections.
    await runLoad(sender, shape, 5000, 1000);
    await sleep(500);

    // Steady-state CPU and RSS first: the ladder's top rates grow the heap, and RSS would keep that.
    const cpuPerMillion: Record<string, number> = {};
    let rssAt10k = 0;
    for (const rate of [100, 1000, 10_000]) {
      const ms = rate === 100 ? CPU_MS * 2 : CPU_MS;
      const step = await measureStep(sender, target, sink, shape, rate, ms);
      cpuPerMillion[String(rate)] = Number(((step.cpu / Math.max(step.okSpans, 1)) * 1e6).toFixed(2));
      if (rate === 10_000) rssAt10k = step.rss;
      log(`  ${target.name} ${transport} ${shapeName} cpu @${rate}/s: ${cpuPerMillion[String(rate)]} CPU-s per million spans (user ${step.user.toFixed(2)} s, system ${step.system.toFixed(2)} s)`);
    }
    await sleep(1000);
    const ladder: ScenarioResult['ladder'] = [];
    let maxSustained = 0;
    const rates = quick ? [5000, 20_000, 50_000, 100_000] : [5000, 10_000, 20_000, 40_000, 60_000, 80_000, 100_000, 130_000, 160_000, 200_000, 250_000];
    ladder: for (const rate of rates) {
      // A step gets a second try: one GC pause or a neighbour's burst must not end the ladder.
      for (let attempt = 1; attempt <= 2; attempt++) {
        let step: Awaited<ReturnType<typeof measureStep>>;
        try {
          step = await measureStep(sender, target, sink, shape, rate, STEP_MS);
        } catch (err) {
          // With TB_BENCH_MEMORY_LIMIT_MIB the kernel may OOM-kill the target: the ladder ends there.
          log(`  ${target.name} ${transport} ${shapeName} @${rate}/s: target gone (${target.proc.signalCode ?? target.proc.exitCode ?? (err as Error).message})`);
          break ladder;
        }
        const { cpu: _c, rss: _r, user: _u, system: _s, ...rest } = step;
        ladder.push(rest);
        // UDP has no answer: what counts is what reached the sink.
        const sustained =
          transport === 'xray-udp'
            ? step.delivered >= step.sentSpans * 0.97
            : step.refusedRequests === 0 && step.skippedRequests === 0 && step.p99Ms <= P99_BOUND_MS && step.achievedSpansPerSec >= rate * 0.97 && step.delivered >= step.okSpans;
        log(`  ${target.name} ${transport} ${shapeName} @${rate}/s try ${attempt}: ok=${step.okSpans} delivered=${step.delivered} p99=${step.p99Ms}ms refused=${step.refusedRequests} skipped=${step.skippedRequests} ${sustained ? 'sustained' : 'NOT sustained'}`);
        if (sustained) {
          maxSustained = rate;
          continue ladder;
        }
        await sleep(1000);
      }
      break;
    }
    return {
      target: target.name,
      transport,
      processors,
      shape: shapeName,
      coldStartMs: target.coldStartMs,
      idleRssMiB: MiB(idleRss),
      maxSustainedSpansPerSec: maxSustained,
      ladder,
      cpuSecondsPerMillion: cpuPerMillion,
      rssAt10kMiB: MiB(rssAt10k),
    };
  } finally {
    sender.close();
    await target.stop();
    sink.stop();
  }
}

function markdown(results: ScenarioResult[]): string {
  const lines = [
    '# Benchmark results',
    '',
    `Run ${new Date().toISOString()} on ${process.platform}/${process.arch}, Node ${process.versions.node}, ${quick ? 'quick mode' : 'full mode'}.`,
    'Target pinned to CPU 0; load generator and sink on CPU 1. Sustained = no refusals, p99 ≤ 100 ms, ≥ 97% of the offered rate delivered.',
    '',
    '| target | load | processors | shape | max sustained spans/s | CPU-s per M spans @100/s | @1k/s | @10k/s | RSS idle MiB | RSS @10k/s MiB | cold start ms |',
    '| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of results) {
    lines.push(
      `| ${r.target} | ${r.transport} | ${r.target === 'raw relay' ? '-' : r.processors} | ${r.shape} | ${r.maxSustainedSpansPerSec} | ${r.cpuSecondsPerMillion['100']} | ${r.cpuSecondsPerMillion['1000']} | ${r.cpuSecondsPerMillion['10000']} | ${r.idleRssMiB} | ${r.rssAt10kMiB} | ${r.coldStartMs} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  pin(process.pid, 1);
  log('building dist/ (tsc -p tsconfig.build.json), the form the image runs');
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  const plan: ['tracebridge' | 'relay', Transport, ShapeName, string][] = [
    ['relay', 'grpc', 'testbed', '-'],
    ['tracebridge', 'grpc', 'testbed', 'batch'],
    ['tracebridge', 'grpc', 'testbed', 'tracecontext-rewrite'],
    ['tracebridge', 'http', 'testbed', 'batch'],
    ['tracebridge', 'http-gzip', 'testbed', 'batch'],
    ['relay', 'grpc', 'realistic', '-'],
    ['tracebridge', 'grpc', 'realistic', 'batch'],
    ['tracebridge', 'zipkin', 'realistic', 'batch'],
    ['tracebridge', 'xray-udp', 'realistic', 'batch'],
  ];
  if (!components.exporter.has('otlp')) {
    log('the otlp exporter is not in this build: only the relay baseline runs');
  }
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7);
  const results: ScenarioResult[] = [];
  for (const [kind, transport, shape, processors] of plan) {
    if (kind === 'tracebridge' && !components.exporter.has('otlp')) continue;
    if (only !== undefined && !`${kind}-${transport}-${shape}-${processors}`.includes(only)) continue;
    log(`scenario: ${kind} ${transport} ${shape} ${processors}`);
    results.push(await scenario(kind, transport, shape, processors === '-' ? 'batch' : processors));
  }
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'results.json'), `${JSON.stringify({ date: new Date().toISOString(), quick, results }, null, 2)}\n`);
  const md = markdown(results);
  writeFileSync(join(dir, 'RESULTS.md'), md);
  process.stdout.write(md);
}

await main();
process.exit(0);
