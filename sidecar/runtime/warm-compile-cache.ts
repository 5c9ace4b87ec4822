// Fills Node's compile cache (V8 code cache of every module the sidecar loads) at image build
// time: `NODE_COMPILE_CACHE=<dir> node <the entrypoint's flags> dist/sidecar-image/runtime/warm-compile-cache.js`.
// It starts the main.js one directory up from itself: the bundle's (dist/sidecar-image/main.js, what
// the image runs) when run from the bundle, tsc's (dist/sidecar/main.js) when run from dist/sidecar.
// The image runs with readOnlyRootFilesystem, so the cache is written once here and only read in
// pods: modules compiled from the cache skip parsing and compiling, the larger part of start-up.
//
// It starts that sidecar as pods run it (no args, the embedded default) once per exporter
// the embedded default can pick (OTLP/HTTP, OTLP/gRPC, debug), waits until its health check
// answers 200, stops it with SIGTERM and checks it exited 0; Node writes the cache at exit. The
// bundle is two files (main.js, and cli.js with every component): the first start writes their
// cache and the later ones, finding it, write nothing, so they check that the sidecar starts with
// each exporter. Any failure exits 1, so a sidecar that cannot start fails the image build. The
// node flags of this process (process.execArgv) are passed on: the cache is made by the same V8
// configuration as the entrypoint's.
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));
// TRACEBRIDGE_PORTS (the embedded default's port override) is passed on, so the warm-up can run
// next to a sidecar that holds the default ports.
const HEALTH_PORT = Number(/(?:^|,)\s*health=(\d+)/.exec(process.env.TRACEBRIDGE_PORTS ?? '')?.[1] ?? 13133);
const TIMEOUT_MS = 30_000;

/** The embedded default's exporters: the app's destination is unknown at build time, so any host does. */
const RUNS: { name: string; env: Record<string, string> }[] = [
  { name: 'OTLP/HTTP exporter', env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector.invalid:4318' } },
  { name: 'OTLP/gRPC exporter', env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector.invalid:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' } },
  { name: 'debug exporter', env: {} },
];

function healthy(): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port: HEALTH_PORT, path: '/', agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function warm(run: (typeof RUNS)[number]): Promise<void> {
  // The variables that would change the embedded default are cleared, then the run's own set.
  const env: Record<string, string | undefined> = { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: undefined, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: undefined, OTEL_EXPORTER_OTLP_PROTOCOL: undefined, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: undefined, TRACEBRIDGE_CONFIG: undefined, ...run.env };
  const child = spawn(process.execPath, [...process.execArgv, MAIN], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + TIMEOUT_MS;
  while (!(await healthy())) {
    if (gone || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${run.name}: the sidecar did not become healthy on 127.0.0.1:${HEALTH_PORT} (exit code ${String(await exited)})`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGTERM');
  const code = await exited;
  if (code !== 0) throw new Error(`${run.name}: the sidecar exited ${String(code)} on SIGTERM`);
}

async function main(): Promise<number> {
  if (!process.env.NODE_COMPILE_CACHE) {
    process.stderr.write('warm-compile-cache: set NODE_COMPILE_CACHE to the directory to fill\n');
    return 2;
  }
  try {
    for (const run of RUNS) {
      await warm(run);
      process.stdout.write(`warm-compile-cache: ${run.name}: started, healthy, stopped\n`);
    }
    return 0;
  } catch (err) {
    process.stderr.write(`warm-compile-cache: ${(err as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await main();
