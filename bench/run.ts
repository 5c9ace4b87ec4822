// `npm run bench`: tracebridge side by side with a raw byte relay on the same machine.
// The target (sidecar or relay) is pinned to CPU 0; the load generator and the sink to CPU 1.
// The sidecar runs in the form the image runs: the main.js of the Dockerfile's ENTRYPOINT (the
// bundle, dist/sidecar-image/main.js, built first), with that ENTRYPOINT's node flags. Figures: cold start and idle RSS of the embedded default, of
// an all-receivers config and of the shipped X-Ray configs (median of several starts); per load scenario, max sustained spans/s,
// CPU-seconds per million spans and RSS at 100/1k/10k spans/s. RSS is split into file-backed and
// private pages (proc.ts). Writes bench/results/results.json, RESULTS.md and chart.svg.
//   npm run bench -- --quick             shorter steps (a smoke run, figures are rougher)
//   --only=<substring>[,<substring>...]  scenarios whose name contains one of them (idle-floor, idle-embedded-default,
//                                        idle-all-receivers, idle-xray-otlp, idle-xray-segments,
//                                        tracebridge-grpc-testbed-batch, relay-grpc-testbed-batch,
//                                        floor-vs-grpc-realistic, paired-grpc-realistic (with --baseline), ...)
//   --sidecar=<path>/dist/sidecar(-image)/main.js  another build (e.g. a baseline checkout), with the node flags of
//                                        that checkout's Dockerfile (this one's if it has none)
//   --baseline=<path>/dist/sidecar(-image)/main.js  the idle scenarios also start that build, in the same rounds
//                                        (its own flags and compile cache), and the paired-* scenarios run it side by
//                                        side with this build under the same load, so before and after compare within one run
//   --chart-out=<path>                   also write the chart there (e.g. bench/chart.svg, to commit)
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createMemoryCgroup, type MemoryCgroup } from './cgroup.ts';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { components } from '../sidecar/service/components.ts';
import { renderChart, type ChartSeries } from './chart.ts';
import { parse as parseYaml } from 'yaml';
import { baselineArgs, entrypoint, type Entrypoint } from './entrypoint.ts';
import { benchSidecarEnv } from './image-env.ts';
import { shippedXrayEnv, writeShippedXrayConfig } from './shipped-config.ts';
import { freePorts } from './ports.ts';
import { grpcSender, httpSender, runLoad, xrayUdpSender, zipkinSender, type LoadResult, type Sender, type Transport } from './load.ts';
import { cpuTimes, pin, rssSplit } from './proc.ts';
import type { ResidentMemory } from '../sidecar/runtime/resident-memory.ts';
import { makeShape, makeXRayShape, makeZipkinShape, type Shape, type ShapeName } from './shapes.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const quick = process.argv.includes('--quick');
const STEP_MS = quick ? 2000 : 5000;
const CPU_MS = quick ? 3000 : 10_000;
const P99_BOUND_MS = 100;
/** Idle scenarios: starts per config (the median is reported) and the settle time before RSS is read. */
const COLD_STARTS = quick ? 5 : 9;
const SETTLE_MS = quick ? 2000 : 10_000;
const RATES = [100, 1000, 10_000];
/** TB_BENCH_MEMORY_LIMIT_MIB: the memory cgroup limit the sidecar runs under (0: none). */
const MEMORY_LIMIT_MIB = Number(process.env.TB_BENCH_MEMORY_LIMIT_MIB ?? 0);

function argValue(name: string): string | undefined {
  return process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the bench writes for its sidecars (configs, the compile cache): one directory for the run, removed at exit. */
const RUN_DIR = mkdtempSync(join(tmpdir(), 'tb-bench-'));
process.on('exit', () => rmSync(RUN_DIR, { recursive: true, force: true }));

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
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const done = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  // Its drain deadline is 25 s; one still running after 30 would hold CPU 0 and its ports for the
  // scenarios after it.
  if ((await Promise.race([done.then(() => true), sleep(30_000).then(() => false)])) === false) {
    proc.kill('SIGKILL');
    await done;
  }
}

let cgroups = 0;

/** Under TB_BENCH_MEMORY_LIMIT_MIB, a memory cgroup of that limit for one sidecar start (bench/cgroup.ts). */
function memoryCgroup(): MemoryCgroup | undefined {
  if (!(MEMORY_LIMIT_MIB > 0)) return undefined;
  const cg = createMemoryCgroup(`tb-bench-${++cgroups}`, MEMORY_LIMIT_MIB * 1024 * 1024);
  if (typeof cg === 'string') throw new Error(`TB_BENCH_MEMORY_LIMIT_MIB=${MEMORY_LIMIT_MIB}: ${cg}`);
  log(`sidecar in memory cgroup ${cg.dir} (${MEMORY_LIMIT_MIB} MiB)`);
  return cg;
}

/**
 * What runs under load: the sidecar; the raw relay (the same gRPC server and client, forwarding
 * each request unread); the ack-only floor (the same server answering without forwarding: what
 * receiving alone costs on node:http2, the delivery check does not apply).
 */
type TargetKind = 'tracebridge' | 'relay' | 'floor';

/** Processor lists the bench compares: the default hot path, and with the ID rewrite. */
const PROCESSORS: Record<string, string> = {
  batch: 'batch',
  'tracecontext-rewrite': 'tracecontext, batch',
  // The noise processors, each next to `batch` alone: the shipped health-check filter, 10%
  // consistent sampling, and a typical attribute edit (delete 2, insert 1, hash 1).
  'filter-healthchecks': 'filter/healthchecks, batch',
  'sampler-10pct': 'probabilistic_sampler, batch',
  attributes: 'attributes/bench, batch',
};

/**
 * Spans the sink must receive of `ok` acknowledged ones: all of them, except behind the 10%
 * sampler (every bench span has its own random trace ID, so ~10% are kept; 8% allows for chance).
 */
function expectedDelivered(processors: string, ok: number): number {
  return processors === 'sampler-10pct' ? Math.floor(ok * 0.08) : ok;
}

/**
 * The noise processors' blocks, only those the pipeline lists: a baseline build that has no such
 * processor type still runs the other scenarios with the same config.
 */
function noiseProcessors(processors: string): string {
  const blocks: string[] = [];
  if (processors.includes('filter/healthchecks')) blocks.push(`  filter/healthchecks: ${healthCheckFilter()}`);
  if (processors.includes('probabilistic_sampler')) blocks.push('  probabilistic_sampler: { sampling_percentage: 10 }');
  if (processors.includes('attributes/bench')) {
    blocks.push(`  attributes/bench:
    actions:
      - { key: istio.canonical_revision, action: delete }
      - { key: network.peer.address, action: delete }
      - { key: deployment.environment, value: production, action: insert }
      - { key: user_agent.original, action: hash }`);
  }
  return blocks.map((b) => `${b}\n`).join('');
}

/** The shipped preset's `filter/healthchecks` block, inlined as JSON (valid YAML). */
function healthCheckFilter(): string {
  const doc = parseYaml(readFileSync(join(ROOT, 'mesh-configs/examples/filter-healthchecks.yaml'), 'utf8')) as { processors: Record<string, unknown> };
  return JSON.stringify(doc.processors['filter/healthchecks']);
}

/** Which sidecar build runs, and with which node flags. */
interface Build {
  /** The main.js that runs. */
  main: string;
  /** Its checkout's commit (`git describe --always --dirty`), when it is in a git checkout. */
  revision: string;
  /** The Dockerfile the node flags come from. */
  dockerfile: string;
  /** The node flags of that Dockerfile's ENTRYPOINT. */
  nodeFlags: string[];
  /** TB_BENCH_NODE_ARGS, added after them (profiling). */
  extraNodeArgs: string[];
  /** NODE_COMPILE_CACHE made as the image build makes it (runtime/warm-compile-cache.js), when the build has that script. */
  compileCache?: string;
}

function readEntrypoint(dockerfile: string): Entrypoint {
  try {
    return entrypoint(readFileSync(dockerfile, 'utf8'));
  } catch (err) {
    throw new Error(`${dockerfile}: ${(err as Error).message}`, { cause: err });
  }
}

function selectBuild(option: 'sidecar' | 'baseline'): Build {
  const given = argValue(option);
  // Without --sidecar: the file this checkout's ENTRYPOINT runs (the bundle, dist/sidecar-image/main.js).
  const main = given === undefined ? join(ROOT, readEntrypoint(join(ROOT, 'Dockerfile')).main) : resolve(given);
  if (given !== undefined && !existsSync(main)) throw new Error(`--${option}=${given}: ${main} does not exist (build that checkout first: npm run build)`);
  // <checkout>/dist/sidecar/main.js or <checkout>/dist/sidecar-image/main.js: the checkout's own Dockerfile gives its image flags.
  const checkout = resolve(dirname(main), '../..');
  const dockerfile = existsSync(join(checkout, 'Dockerfile')) ? join(checkout, 'Dockerfile') : join(ROOT, 'Dockerfile');
  const nodeFlags = readEntrypoint(dockerfile).nodeArgs;
  let revision = 'not a git checkout';
  try {
    revision = execFileSync('git', ['-C', checkout, 'describe', '--always', '--dirty'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    // no git, or not a checkout: the path alone identifies the build
  }
  // TB_BENCH_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the sidecar.
  const extraNodeArgs = (process.env.TB_BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  return { main, revision, dockerfile, nodeFlags, extraNodeArgs };
}

/**
 * The image ships a compile cache made at build time by runtime/warm-compile-cache.js (see the
 * Dockerfile); the bench makes one the same way into a temporary directory, so cold start is
 * measured as pods start. A build without that script (an older checkout) runs without a cache,
 * as its image did.
 */
async function warmCompileCache(b: Build): Promise<string | undefined> {
  const script = join(dirname(b.main), 'runtime/warm-compile-cache.js');
  if (!existsSync(script)) return undefined;
  const dir = mkdtempSync(join(RUN_DIR, 'compile-cache-'));
  const names = ['otlp_grpc', 'otlp_http', 'zipkin', 'xray', 'health', 'metrics'];
  const ports: string[] = [];
  const free = await freePorts(names.length);
  names.forEach((name, i) => ports.push(`${name}=${free[i]!}`));
  execFileSync(process.execPath, [...b.nodeFlags, script], { env: sidecarEnv({ NODE_COMPILE_CACHE: dir, TRACEBRIDGE_PORTS: ports.join(',') }, false, b), stdio: ['ignore', 'ignore', 'inherit'] });
  return dir;
}

let build: Build;
/** --baseline: started next to `build` in the idle rounds. */
let baseline: Build | undefined;
/** Sidecar warnings already shown (each is shown once per run). */
const warned = new Set<string>();

/**
 * The environment the sidecar starts with: a pod's (bench/image-env.ts: PATH, HOME, the image's ENV
 * lines) plus `extra`, the bench's own compile cache path instead of the image's, and under
 * TB_BENCH_MEMORY_LIMIT_MIB the NODE_OPTIONS the injector sets for that limit, as in an injected pod
 * (TB_BENCH_INJECTED_NODE_OPTIONS=0 leaves it out: a limit set any other way, where the sidecar
 * re-executes itself at start to cap its heap). `injected: false` for the compile-cache warm-up,
 * which the image build runs without it.
 */
function sidecarEnv(extra: Record<string, string>, injected = process.env.TB_BENCH_INJECTED_NODE_OPTIONS !== '0', b = build): NodeJS.ProcessEnv {
  return benchSidecarEnv(readFileSync(b.dockerfile, 'utf8'), process.env, extra, { limitMiB: MEMORY_LIMIT_MIB, injected });
}

/**
 * Starts the build (pinned to CPU 0, in the memory cgroup when asked) and waits for its health
 * check to answer 200: the cold start is spawn to that answer.
 */
async function spawnSidecar(args: string[], env: NodeJS.ProcessEnv, healthPort: number, b = build, program: string[] = [b.main]): Promise<{ proc: ChildProcess; coldStartMs: number }> {
  // TB_BENCH_MEMORY_LIMIT_MIB=192 runs the sidecar in a memory cgroup of that limit, as the injector
  // limits it (needs root and a writable cgroup v1 memory or v2 mount): its heap is then capped for
  // the limit, by the injector's NODE_OPTIONS (sidecarEnv) or by its own re-execution without it.
  const cgroup = memoryCgroup();
  const command = ['taskset', '-c', '0', process.execPath, ...b.nodeFlags, ...b.extraNodeArgs, ...program, ...args];
  if (b.compileCache !== undefined) env = { ...env, NODE_COMPILE_CACHE: b.compileCache };
  const t0 = performance.now();
  const options = { stdio: ['ignore', 'ignore', 'pipe'] as ['ignore', 'ignore', 'pipe'], env };
  const proc = cgroup === undefined ? spawn(command[0]!, command.slice(1), options) : cgroup.spawn(command, options);
  // The cgroup goes with the sidecar (until 2026-12-05 each start left one behind).
  if (cgroup !== undefined) proc.once('exit', () => cgroup.remove());
  const out = proc.stderr!;
  // Its log stays out of the bench's output unless it fails; warnings and errors are passed on.
  let stderr = '';
  out.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-8192);
  });
  try {
    await Promise.race([
      waitHttp(`http://127.0.0.1:${healthPort}/`, 20_000),
      new Promise((_r, reject) => proc.once('exit', (code, signal) => reject(new Error(`sidecar exited (${signal ?? code}) before it was healthy`)))),
    ]);
  } catch (err) {
    proc.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${command.join(' ')}\n${stderr}`, { cause: err });
  }
  const coldStartMs = Math.round(performance.now() - t0);
  out.removeAllListeners('data');
  out.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n')) {
      const msg = /"msg":"([^"]*)"/.exec(line)?.[1] ?? line;
      if (/"level":(40|50|60)|"level":"(warn|error|fatal)"/.test(line) && !warned.has(msg)) {
        warned.add(msg);
        log(`  sidecar: ${line}`);
      }
    }
  });
  return { proc, coldStartMs };
}

/** The all-receivers config the load scenarios run (and the idle scenario of the same name). */
function allReceiversConfig(p: { grpcPort: number; httpPort: number; zipkinPort: number; xrayPort: number; healthPort: number; metricsPort: number; sinkPort: number }, processors: string): string {
  const { grpcPort, httpPort, zipkinPort, xrayPort, healthPort, metricsPort, sinkPort } = p;
  const cfg = join(RUN_DIR, `${healthPort}-sidecar.yaml`);
  // In a memory cgroup, as in a pod: the embedded default's memory_limiter goes first.
  const memoryLimited = MEMORY_LIMIT_MIB > 0;
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
${noiseProcessors(processors)}exporters:
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
  return cfg;
}

async function startSidecar(sinkPort: number, processors: string, b = build): Promise<Target> {
  const [grpcPort, httpPort, healthPort, metricsPort, zipkinPort, xrayPort] = (await freePorts(6)) as [number, number, number, number, number, number];
  const cfg = allReceiversConfig({ grpcPort, httpPort, zipkinPort, xrayPort, healthPort, metricsPort, sinkPort }, processors);
  const { proc, coldStartMs } = await spawnSidecar(['--config', cfg], sidecarEnv({}, undefined, b), healthPort, b);
  return { name: 'tracebridge', proc, grpcPort, httpPort, zipkinPort, xrayPort, coldStartMs, stop: () => stopProc(proc) };
}

/** The raw relay, or with `ackOnly` the floor: the same server answering without forwarding. */
async function startRelay(sinkPort: number, ackOnly = false): Promise<Target> {
  const [grpcPort] = (await freePorts(1)) as [number];
  const t0 = performance.now();
  const proc = spawn('taskset', ['-c', '0', process.execPath, ...baselineArgs(build.nodeFlags, join(ROOT, 'bench/relay-process.ts'), grpcPort, ackOnly ? '-' : sinkPort)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    proc.stdout.once('data', () => resolve());
    proc.once('exit', (code, signal) => reject(new Error(`${ackOnly ? 'ack-only floor' : 'raw relay'} exited (${signal ?? code}) before it was ready`)));
  });
  const coldStartMs = Math.round(performance.now() - t0);
  return { name: ackOnly ? 'ack-only floor' : 'raw relay', proc, grpcPort, httpPort: 0, zipkinPort: 0, xrayPort: 0, coldStartMs, stop: () => stopProc(proc) };
}

/** RSS in MiB, split as proc.ts reads it. */
interface RssMiB {
  total: number;
  file: number;
  private: number;
}

interface ScenarioResult {
  target: string;
  transport: Transport;
  processors: string;
  shape: ShapeName;
  /** One start, with the all-receivers config (the idle scenarios give the median of several). */
  coldStartMs: number;
  idleRssMiB: number;
  idleRss: RssMiB;
  maxSustainedSpansPerSec: number;
  ladder: (LoadResult & { delivered: number })[];
  cpuSecondsPerMillion: Record<string, number>;
  /** RSS at the end of each steady-state step, by offered rate. */
  rssByRate: Record<string, RssMiB>;
  rssAt10kMiB: number;
}

/** The side-by-side comparisons (with --baseline, or with the floor): rounds, their length and the offered rate. */
const PAIRED_ROUNDS = quick ? 4 : 8;
const PAIRED_MS = quick ? 6000 : 15_000;
const PAIRED_RATE = 10_000;
/** Side-by-side scenarios against the baseline build (`paired-<transport>-<shape>`), run only with --baseline. */
const PAIRED_PLAN: [Transport, ShapeName][] = [
  ['grpc', 'testbed'],
  ['grpc', 'realistic'],
  ['zipkin', 'realistic'],
  ['xray-udp', 'realistic'],
];
/**
 * Side by side with the ack-only floor (`floor-vs-grpc-<shape>`; not `floor-paired-…`, whose name
 * would contain `paired-grpc-<shape>` and be picked with it): this build against the sidecar's own
 * node:http2 gRPC server answering OK and doing nothing else (relay-process.ts), so what the
 * sidecar adds over what receiving alone costs reads within a round, as a ratio.
 */
const FLOOR_PAIRED_PLAN: ShapeName[] = ['testbed', 'realistic'];

interface PairedResult {
  /** What this build ran next to: the --baseline build, or the ack-only floor (which forwards nothing). */
  against: 'baseline' | 'floor';
  transport: Transport;
  shape: ShapeName;
  spansPerSec: number;
  /** Per round: CPU-s per million spans and the spans/s achieved, of each build. */
  rounds: { baseline: number; this: number; baselineSpansPerSec: number; thisSpansPerSec: number }[];
  baselineMedian: number;
  thisMedian: number;
  /** Median over the rounds of this build's CPU per span against the other's in the same round, in percent. */
  changePercent: number;
  /** Against the floor: median over the rounds of this build's CPU per span divided by the floor's. */
  ratio?: number;
}

/**
 * The baseline (or the ack-only floor) and this build side by side: the builds started with the
 * all-receivers config (batch), each with its own sink (the floor's counts nothing), both pinned to CPU 0, and the same load offered to both at the same
 * time, PAIRED_ROUNDS rounds of PAIRED_MS at PAIRED_RATE. Whatever the VM does during a round
 * (this one's CPU speed drifts by tens of percent within minutes) it does to both, so their CPU per
 * span compares within the round, and the change is the median of the rounds' own changes (the
 * ratio of the two medians would bring the drift between rounds back). Which build's load starts
 * first alternates by round. Runs of one build after the other did not resolve a 10% difference.
 * Steady rate only: sharing a core, neither build's maximum means anything here.
 */
async function pairedScenario(transport: Transport, shapeName: ShapeName, against: PairedResult['against'] = 'baseline'): Promise<PairedResult> {
  const shape = shapeFor(transport, shapeName);
  const sinks: Sink[] = [];
  const targets: Target[] = [];
  const senders: Sender[] = [];
  try {
    sinks.push(await startSink());
    sinks.push(await startSink());
    // Pushed as each starts, so a failed second start still stops the first.
    targets.push(against === 'floor' ? await startRelay(sinks[0]!.port, true) : await startSidecar(sinks[0]!.port, 'batch', baseline));
    targets.push(await startSidecar(sinks[1]!.port, 'batch', build));
    for (const t of targets) pin(t.proc.pid!, 0);
    senders.push(...targets.map((t) => senderFor(transport, t)));
    await sleep(1500);
    await Promise.all(senders.map((s) => runLoad(s, shape, 5000, 1000)));
    await sleep(500);
    const rounds: PairedResult['rounds'] = [];
    for (let i = 0; i < PAIRED_ROUNDS; i++) {
      const order = i % 2 === 0 ? [0, 1] : [1, 0];
      const steps: Awaited<ReturnType<typeof measureStep>>[] = [];
      await Promise.all(order.map(async (k) => (steps[k] = await measureStep(senders[k]!, targets[k]!, sinks[k]!, shape, PAIRED_RATE, PAIRED_MS))));
      const perMillion = steps.map(cpuPerMillionOf);
      // A build that falls behind at this rate is reported, not averaged away.
      steps.forEach((st, k) => {
        const who = k === 1 ? 'this build' : against;
        // The floor answers without forwarding: nothing of its reaches a sink.
        if (((k === 1 || against === 'baseline') && st.delivered < st.okSpans * 0.97) || st.refusedRequests > 0) log(`  paired ${transport} ${shapeName} round ${i + 1}: ${who} delivered ${st.delivered} of ${st.okSpans} spans, ${st.refusedRequests} requests refused`);
        if (st.achievedSpansPerSec < PAIRED_RATE * 0.97) log(`  paired ${transport} ${shapeName} round ${i + 1}: ${who} took ${st.achievedSpansPerSec} spans/s of the ${PAIRED_RATE} offered`);
      });
      rounds.push({ baseline: round2(perMillion[0]!), this: round2(perMillion[1]!), baselineSpansPerSec: steps[0]!.achievedSpansPerSec, thisSpansPerSec: steps[1]!.achievedSpansPerSec });
      log(`  paired ${transport} ${shapeName} @${PAIRED_RATE}/s round ${i + 1}: CPU-s per million spans, ${against} ${round2(perMillion[0]!)}, this build ${round2(perMillion[1]!)}`);
    }
    return {
      against,
      transport,
      shape: shapeName,
      spansPerSec: PAIRED_RATE,
      rounds,
      baselineMedian: round2(exactMedian(rounds.map((r) => r.baseline))),
      thisMedian: round2(exactMedian(rounds.map((r) => r.this))),
      changePercent: exactMedian(rounds.map((r) => ((r.this - r.baseline) / r.baseline) * 100)),
      ...(against === 'floor' ? { ratio: round2(exactMedian(rounds.map((r) => r.this / r.baseline))) } : {}),
    };
  } finally {
    for (const s of senders) s.close();
    for (const t of targets) await t.stop();
    for (const sink of sinks) sink.stop();
  }
}

const round2 = (x: number) => Number(x.toFixed(2));

/** The median, not rounded (median() rounds an even count's to 0.1, as the tables show it). */
function exactMedian(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const FLOOR_CONFIG = 'bare Node HTTP server (floor)';
/** The floor's program (`node -e`, CommonJS): answers 200 on the health port, nothing else. */
const FLOOR_SERVER = "process.getBuiltinModule('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.env.TB_BENCH_FLOOR_PORT), '127.0.0.1')";

/**
 * The idle scenarios: the embedded default (what pods without a ConfigMap run), the load
 * scenarios' all-receivers config, and the X-Ray configs this project ships (the injector's
 * ConfigMap holds the OTLP one), each run as pods run it, on free ports; and the floor, a bare
 * node:http server answering the health check, started with the same node flags: what Node
 * itself costs a start here, so that the sidecar's own share reads off the same run.
 */
const IDLE_CONFIGS = {
  [FLOOR_CONFIG]: 'idle-floor',
  'embedded default': 'idle-embedded-default',
  'all receivers': 'idle-all-receivers',
  'shipped X-Ray OTLP config': 'idle-xray-otlp',
  'shipped X-Ray segments config': 'idle-xray-segments',
} as const;

interface IdleResult {
  config: keyof typeof IDLE_CONFIGS;
  /** 'baseline' for --baseline's starts, 'this' for the build under test (and the floor). */
  build: 'this' | 'baseline';
  coldStartsMs: number[];
  coldStartMedianMs: number;
  /** Median of each figure over the starts, read after SETTLE_MS. */
  idleRss: RssMiB;
  idleRssRuns: RssMiB[];
  settleMs: number;
}

const MiB = (b: number) => Number((b / 1024 / 1024).toFixed(1));
const splitMiB = (r: ResidentMemory): RssMiB => ({ total: MiB(r.total), file: MiB(r.file), private: MiB(r.private) });
function median(xs: number[]): number {
  // An even count's, the mean of the middle two, rounded to 0.1 as the tables show it.
  return xs.length % 2 === 1 ? exactMedian(xs) : Number(exactMedian(xs).toFixed(1));
}

/** The spans a transport sends: Zipkin JSON and X-Ray documents have shapes of their own (realistic); OTLP has both. */
function shapeFor(transport: Transport, shapeName: ShapeName): Shape {
  return transport === 'zipkin' ? makeZipkinShape() : transport === 'xray-udp' ? makeXRayShape() : makeShape(shapeName);
}

/** CPU-seconds per million spans the target accepted in a step. */
function cpuPerMillionOf(step: { cpu: number; okSpans: number }): number {
  return (step.cpu / Math.max(step.okSpans, 1)) * 1e6;
}

async function measureStep(sender: Sender, target: Target, sink: Sink, shape: Shape, rate: number, ms: number) {
  const before = await sink.count();
  const t0 = cpuTimes(target.proc.pid!);
  const res = await runLoad(sender, shape, rate, ms);
  await sleep(700); // let the batch timeout and exporter finish
  const t1 = cpuTimes(target.proc.pid!);
  const after = await sink.count();
  const user = t1.user - t0.user;
  const system = t1.system - t0.system;
  return { ...res, delivered: after.spans - before.spans, cpu: user + system, user, system, rss: rssSplit(target.proc.pid!) };
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

async function scenario(kind: TargetKind, transport: Transport, shapeName: ShapeName, processors = 'batch'): Promise<ScenarioResult> {
  const shape = shapeFor(transport, shapeName);
  const sink = await startSink();
  const target = kind === 'tracebridge' ? await startSidecar(sink.port, PROCESSORS[processors]!) : await startRelay(sink.port, kind === 'floor');
  pin(target.proc.pid!, 0);
  const sender = senderFor(transport, target);
  try {
    await sleep(1500);
    const idleRss = splitMiB(rssSplit(target.proc.pid!));
    // Warm up the JIT and connections.
    await runLoad(sender, shape, 5000, 1000);
    await sleep(500);

    // Steady-state CPU and RSS first: the ladder's top rates grow the heap, and RSS would keep that.
    const cpuPerMillion: Record<string, number> = {};
    const rssByRate: Record<string, RssMiB> = {};
    for (const rate of RATES) {
      const ms = rate === 100 ? CPU_MS * 2 : CPU_MS;
      const step = await measureStep(sender, target, sink, shape, rate, ms);
      cpuPerMillion[String(rate)] = round2(cpuPerMillionOf(step));
      const rss = splitMiB(step.rss);
      rssByRate[String(rate)] = rss;
      log(
        `  ${target.name} ${transport} ${shapeName} @${rate}/s: ${cpuPerMillion[String(rate)]} CPU-s per million spans (user ${step.user.toFixed(2)} s, system ${step.system.toFixed(2)} s), RSS ${rss.total} MiB (${rss.private} private)`,
      );
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
            : step.refusedRequests === 0 && step.skippedRequests === 0 && step.p99Ms <= P99_BOUND_MS && step.achievedSpansPerSec >= rate * 0.97 && (kind === 'floor' || step.delivered >= expectedDelivered(processors, step.okSpans));
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
      idleRssMiB: idleRss.total,
      idleRss,
      maxSustainedSpansPerSec: maxSustained,
      ladder,
      cpuSecondsPerMillion: cpuPerMillion,
      rssByRate,
      rssAt10kMiB: rssByRate['10000']?.total ?? 0,
    };
  } finally {
    sender.close();
    await target.stop();
    sink.stop();
  }
}

/**
 * One start of an idle config, its cold start and its RSS SETTLE_MS after healthy: the embedded
 * default (no --config, what injected pods without a ConfigMap run; ports moved with
 * TRACEBRIDGE_PORTS, traces to an OTLP/HTTP endpoint as the injector sets it), the all-receivers
 * config of the load scenarios, a shipped X-Ray config, or the floor (IDLE_CONFIGS).
 */
async function idleStart(config: IdleResult['config'], b: Build): Promise<{ coldStartMs: number; rss: RssMiB }> {
  const [grpcPort, httpPort, zipkinPort, xrayPort, healthPort, metricsPort, exportPort] = (await freePorts(7)) as [number, number, number, number, number, number, number];
  let started;
  if (config === FLOOR_CONFIG) {
    started = await spawnSidecar([], sidecarEnv({ TB_BENCH_FLOOR_PORT: String(healthPort) }, undefined, b), healthPort, b, ['-e', FLOOR_SERVER]);
  } else if (config === 'embedded default') {
    started = await spawnSidecar(
      [],
      sidecarEnv({
        TRACEBRIDGE_PORTS: `otlp_grpc=${grpcPort},otlp_http=${httpPort},zipkin=${zipkinPort},xray=${xrayPort},health=${healthPort},metrics=${metricsPort}`,
        // Nothing listens there: an idle sidecar exports nothing.
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${exportPort}`,
      }, undefined, b),
      healthPort,
      b,
    );
  } else if (config === 'all receivers') {
    started = await spawnSidecar(['--config', allReceiversConfig({ grpcPort, httpPort, zipkinPort, xrayPort, healthPort, metricsPort, sinkPort: exportPort }, 'batch')], sidecarEnv({}, undefined, b), healthPort, b);
  } else {
    // As the injector runs it: the mounted file named by TRACEBRIDGE_CONFIG. An idle sidecar
    // exports nothing, so nothing reaches X-Ray.
    const name = config === 'shipped X-Ray OTLP config' ? 'sidecar-xray-otlp.yaml' : 'sidecar-xray-segments.yaml';
    const file = writeShippedXrayConfig(name, { otlp_grpc: grpcPort, otlp_http: httpPort, zipkin: zipkinPort, xray: xrayPort, health: healthPort }, RUN_DIR);
    started = await spawnSidecar([], sidecarEnv({ TRACEBRIDGE_CONFIG: file, ...shippedXrayEnv(metricsPort) }, undefined, b), healthPort, b);
  }
  try {
    pin(started.proc.pid!, 0);
    await sleep(SETTLE_MS);
    return { coldStartMs: started.coldStartMs, rss: splitMiB(rssSplit(started.proc.pid!)) };
  } finally {
    await stopProc(started.proc);
  }
}

/**
 * COLD_STARTS starts of each config, in rounds (one start of each config per round), so that this
 * VM's drift, tens of milliseconds within minutes, spreads over every config alike and their cold
 * starts compare within the run. With --baseline, each round starts every config of both builds
 * (the floor once), the baseline first in even rounds and second in odd ones.
 */
async function idleScenarios(configs: IdleResult['config'][]): Promise<IdleResult[]> {
  const runs: { config: IdleResult['config']; build: IdleResult['build']; b: Build }[] = [];
  for (const config of configs) {
    if (baseline !== undefined && config !== FLOOR_CONFIG) runs.push({ config, build: 'baseline', b: baseline });
    runs.push({ config, build: 'this', b: build });
  }
  const key = (r: { config: string; build: string }) => `${r.config} ${r.build}`;
  const starts = new Map(runs.map((r) => [key(r), [] as { coldStartMs: number; rss: RssMiB }[]]));
  for (let i = 0; i < COLD_STARTS; i++) {
    for (const run of i % 2 === 0 ? runs : [...runs].reverse()) {
      const s = await idleStart(run.config, run.b);
      starts.get(key(run))!.push(s);
      log(`  idle ${run.config}${run.build === 'baseline' ? ' (baseline)' : ''} start ${i + 1}: healthy in ${s.coldStartMs} ms, RSS after ${SETTLE_MS / 1000} s ${s.rss.total} MiB (file ${s.rss.file}, private ${s.rss.private})`);
    }
  }
  return runs.map((run) => {
    const done = starts.get(key(run))!;
    const coldStartsMs = done.map((r) => r.coldStartMs);
    return {
      config: run.config,
      build: run.build,
      coldStartsMs,
      coldStartMedianMs: median(coldStartsMs),
      idleRss: { total: median(done.map((r) => r.rss.total)), file: median(done.map((r) => r.rss.file)), private: median(done.map((r) => r.rss.private)) },
      idleRssRuns: done.map((r) => r.rss),
      settleMs: SETTLE_MS,
    };
  });
}

const scenarioName = (r: ScenarioResult) => `${r.target} ${r.transport} ${r.shape}${r.target === 'tracebridge' ? ` ${r.processors}` : ''}`;

function chartSeries(results: ScenarioResult[]): ChartSeries[] {
  return results.map((r) => ({
    name: scenarioName(r),
    points: RATES.map((rate) => ({
      rate,
      cpuPerMillion: r.cpuSecondsPerMillion[String(rate)] ?? Number.NaN,
      rssTotalMiB: r.rssByRate[String(rate)]?.total ?? Number.NaN,
      rssPrivateMiB: r.rssByRate[String(rate)]?.private ?? Number.NaN,
    })),
  }));
}

function markdown(idle: IdleResult[], results: ScenarioResult[], paired: PairedResult[]): string {
  const flags = build.nodeFlags.length === 0 ? '(none)' : `\`${build.nodeFlags.join(' ')}\``;
  const lines = [
    '# Benchmark results',
    '',
    `Run ${new Date().toISOString()} on ${process.platform}/${process.arch}, Node ${process.versions.node}, ${quick ? 'quick mode' : 'full mode'}.`,
    `Build: \`${build.main}\` (${build.revision}). Node flags from the ENTRYPOINT of \`${build.dockerfile}\`: ${flags}; compile cache: ${build.compileCache === undefined ? 'none' : 'made as the image build makes it'}${build.extraNodeArgs.length > 0 ? `; added by TB_BENCH_NODE_ARGS: \`${build.extraNodeArgs.join(' ')}\`` : ''}.`,
    ...(baseline === undefined ? [] : [`Baseline (${[idle.length > 0 ? 'in the same idle rounds' : '', paired.some((p) => p.against === 'baseline') ? 'side by side in the paired scenarios' : ''].filter((w) => w !== '').join('; ') || 'no idle or baseline-paired scenario ran'}): \`${baseline.main}\` (${baseline.revision}), node flags from \`${baseline.dockerfile}\`: \`${baseline.nodeFlags.join(' ')}\`; compile cache: ${baseline.compileCache === undefined ? 'none' : 'made as its image build makes it'}.`]),
    'Target pinned to CPU 0; load generator and sink on CPU 1. Sustained = no refusals, p99 ≤ 100 ms, ≥ 97% of the offered rate delivered.',
    'RSS in MiB: total (VmRSS) = file-backed (RssFile: the node binary and libraries, shared by every pod of the image on a node) + private (RssAnon + RssShmem: what each pod adds).',
    '',
  ];
  if (idle.length > 0) {
    lines.push(
      `## Idle (${COLD_STARTS} starts each, in rounds over the configs; cold start = spawn to health check 200; RSS ${SETTLE_MS / 1000} s after healthy; medians)`,
      '',
      '| config | cold start median ms | above the floor ms | cold start min–max ms | RSS idle total | file-backed | private |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    const floor = idle.find((r) => r.config === FLOOR_CONFIG)?.coldStartMedianMs;
    for (const r of idle) {
      const above = floor === undefined || r.config === FLOOR_CONFIG ? '-' : String(r.coldStartMedianMs - floor);
      const name = r.build === 'baseline' ? `${r.config}, baseline` : baseline !== undefined && r.config !== FLOOR_CONFIG ? `${r.config}, this build` : r.config;
      lines.push(`| ${name} | ${r.coldStartMedianMs} | ${above} | ${Math.min(...r.coldStartsMs)}–${Math.max(...r.coldStartsMs)} | ${r.idleRss.total} | ${r.idleRss.file} | ${r.idleRss.private} |`);
    }
    lines.push('');
  }
  const withBaseline = paired.filter((p) => p.against === 'baseline');
  if (withBaseline.length > 0) {
    lines.push(
      `## Side by side with the baseline (all-receivers config, both on CPU 0, the same load at the same time, ${PAIRED_ROUNDS} rounds of ${PAIRED_MS / 1000} s)`,
      '',
      '| load | shape | spans/s offered to each | baseline CPU-s per M spans, per round | this build, per round | median: baseline | this build | change (median of the rounds\' changes) |',
      '| --- | --- | ---: | --- | --- | ---: | ---: | ---: |',
    );
    for (const p of withBaseline) {
      const change = `${p.changePercent >= 0 ? '+' : ''}${p.changePercent.toFixed(1)}%`;
      lines.push(`| ${p.transport} | ${p.shape} | ${p.spansPerSec} | ${p.rounds.map((r) => r.baseline).join(', ')} | ${p.rounds.map((r) => r.this).join(', ')} | ${p.baselineMedian} | ${p.thisMedian} | ${change} |`);
    }
    lines.push('');
  }
  const withFloor = paired.filter((p) => p.against === 'floor');
  if (withFloor.length > 0) {
    lines.push(
      `## Side by side with the ack-only floor (this build: all-receivers config; both on CPU 0, the same load at the same time, ${PAIRED_ROUNDS} rounds of ${PAIRED_MS / 1000} s)`,
      '',
      '| load | shape | spans/s offered to each | floor CPU-s per M spans, per round | this build, per round | median: floor | this build | this build / floor (median of the rounds\' ratios) |',
      '| --- | --- | ---: | --- | --- | ---: | ---: | ---: |',
    );
    for (const p of withFloor) {
      const ratio = (p.ratio ?? 0).toFixed(2);
      lines.push(`| ${p.transport} | ${p.shape} | ${p.spansPerSec} | ${p.rounds.map((r) => r.baseline).join(', ')} | ${p.rounds.map((r) => r.this).join(', ')} | ${p.baselineMedian} | ${p.thisMedian} | ${ratio} |`);
    }
    lines.push('');
  }
  if (results.length > 0) {
    lines.push(
      '## Load (all-receivers config)',
      '',
      '| target | load | processors | shape | max sustained spans/s | CPU-s per M spans @100/s | @1k/s | @10k/s | RSS idle total | idle file | idle private | RSS @10k/s total | @10k file | @10k private | cold start ms (one start) |',
      '| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const r of results) {
      const at10k = r.rssByRate['10000'];
      lines.push(
        `| ${r.target} | ${r.transport} | ${r.target === 'tracebridge' ? r.processors : '-'} | ${r.shape} | ${r.maxSustainedSpansPerSec} | ${r.cpuSecondsPerMillion['100']} | ${r.cpuSecondsPerMillion['1000']} | ${r.cpuSecondsPerMillion['10000']} | ${r.idleRss.total} | ${r.idleRss.file} | ${r.idleRss.private} | ${at10k?.total ?? '-'} | ${at10k?.file ?? '-'} | ${at10k?.private ?? '-'} | ${r.coldStartMs} |`,
      );
    }
    lines.push('', 'Chart: chart.svg (CPU-s per million spans and RSS against the offered rate).');
  }
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  pin(process.pid, 1);
  build = selectBuild('sidecar');
  if (argValue('baseline') !== undefined) baseline = selectBuild('baseline');
  if (argValue('sidecar') === undefined) {
    log('building dist/ (tsc -p tsconfig.build.json) and the bundle (sidecar/runtime/bundle.ts), the form the image runs');
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
    execFileSync(process.execPath, [join(ROOT, 'sidecar/runtime/bundle.ts')], { cwd: ROOT, stdio: 'inherit' });
  }
  build.compileCache = await warmCompileCache(build);
  log(`sidecar: ${build.main} (${build.revision}), compile cache: ${build.compileCache ?? 'none (the build has no warm-compile-cache.js)'}, node flags from ${build.dockerfile}: ${build.nodeFlags.join(' ') || '(none)'}`);
  if (baseline !== undefined) {
    baseline.compileCache = await warmCompileCache(baseline);
    log(`baseline: ${baseline.main} (${baseline.revision}), compile cache: ${baseline.compileCache ?? 'none'}, node flags from ${baseline.dockerfile}: ${baseline.nodeFlags.join(' ') || '(none)'}`);
  }
  const plan: [TargetKind, Transport, ShapeName, string][] = [
    ['floor', 'grpc', 'testbed', '-'],
    ['relay', 'grpc', 'testbed', '-'],
    ['tracebridge', 'grpc', 'testbed', 'batch'],
    ['tracebridge', 'grpc', 'testbed', 'tracecontext-rewrite'],
    ['tracebridge', 'http', 'testbed', 'batch'],
    ['tracebridge', 'http-gzip', 'testbed', 'batch'],
    ['floor', 'grpc', 'realistic', '-'],
    ['relay', 'grpc', 'realistic', '-'],
    ['tracebridge', 'grpc', 'realistic', 'batch'],
    ['tracebridge', 'grpc', 'realistic', 'filter-healthchecks'],
    ['tracebridge', 'grpc', 'realistic', 'sampler-10pct'],
    ['tracebridge', 'grpc', 'realistic', 'attributes'],
    ['tracebridge', 'zipkin', 'realistic', 'batch'],
    ['tracebridge', 'xray-udp', 'realistic', 'batch'],
  ];
  // The bench's load scenarios need the otlp exporter; a --sidecar build is assumed to have it.
  const hasOtlp = argValue('sidecar') !== undefined || components.exporter.has('otlp');
  if (!hasOtlp) {
    log('the otlp exporter is not in this build: only the relay baseline runs');
  }
  // Comma-separated substrings: a scenario runs when its name contains any of them.
  const only = argValue('only')?.split(',').filter((o) => o !== '');
  const picked = (name: string) => only === undefined || only.some((o) => name.includes(o));
  const idleConfigs = (Object.entries(IDLE_CONFIGS) as [keyof typeof IDLE_CONFIGS, string][]).filter(([, name]) => picked(name)).map(([config]) => config);
  if (idleConfigs.length > 0) log(`scenario: idle, in rounds: ${idleConfigs.join('; ')}`);
  const idle = idleConfigs.length > 0 ? await idleScenarios(idleConfigs) : [];
  const paired: PairedResult[] = [];
  if (baseline !== undefined && hasOtlp) {
    for (const [transport, shape] of PAIRED_PLAN) {
      if (!picked(`paired-${transport}-${shape}`)) continue;
      log(`scenario: paired ${transport} ${shape} (baseline and this build side by side)`);
      paired.push(await pairedScenario(transport, shape));
    }
  }
  if (hasOtlp) {
    for (const shape of FLOOR_PAIRED_PLAN) {
      if (!picked(`floor-vs-grpc-${shape}`)) continue;
      log(`scenario: floor-vs grpc ${shape} (the ack-only floor and this build side by side)`);
      paired.push(await pairedScenario('grpc', shape, 'floor'));
    }
  }
  const results: ScenarioResult[] = [];
  for (const [kind, transport, shape, processors] of plan) {
    if (kind === 'tracebridge' && !hasOtlp) continue;
    if (!picked(`${kind}-${transport}-${shape}-${processors}`)) continue;
    log(`scenario: ${kind} ${transport} ${shape} ${processors}`);
    results.push(await scenario(kind, transport, shape, processors === '-' ? 'batch' : processors));
  }
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'results.json'), `${JSON.stringify({ date: new Date().toISOString(), quick, build, baseline, idle, paired, results }, null, 2)}\n`);
  const md = markdown(idle, results, paired);
  writeFileSync(join(dir, 'RESULTS.md'), md);
  const svg = renderChart(chartSeries(results));
  writeFileSync(join(dir, 'chart.svg'), svg);
  const chartOut = argValue('chart-out');
  if (chartOut !== undefined) {
    writeFileSync(resolve(chartOut), svg);
    log(`chart written to ${relative(process.cwd(), resolve(chartOut)) || chartOut}`);
  }
  process.stdout.write(md);
}

await main();
process.exit(0);
