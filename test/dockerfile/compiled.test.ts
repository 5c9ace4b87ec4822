// The image runs the compiled output (Dockerfile: tsc -p tsconfig.build.json → dist/). Build it
// the same way and run both compiled binaries: they must start without the TypeScript stripper.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runProcess, startProcess } from '../support/process.ts';
import { freeSidecarPorts, injectedSidecarEnv } from '../support/sidecar-env.ts';

/** The image's runtime user (Dockerfile USER). */
const RUNTIME_UID = 65532;

/** Runs a compiled script as the image's runtime user (setpriv, as the Dockerfile's warm-up does). */
function asRuntimeUser(args: string[], env: Record<string, string | undefined>) {
  const child = spawn('setpriv', [`--reuid=${RUNTIME_UID}`, `--regid=${RUNTIME_UID}`, '--clear-groups', process.execPath, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

describe('compiled output (what the image runs)', function () {
  this.timeout(180_000);

  before(() => {
    try {
      execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
    } catch (err) {
      throw new Error(`tsc failed:\n${String((err as { stdout?: Buffer }).stdout ?? err)}`, { cause: err });
    }
  });

  it('the compiled sidecar validates a config and serves spans, reporting the package version', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tb-dist-'));
    const cfg = join(dir, 'c.yaml');
    writeFileSync(
      cfg,
      'receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } } }\nexporters: { debug: { verbosity: normal } }\nservice: { pipelines: { traces: { receivers: [otlp], exporters: [debug] } }, telemetry: { metrics: { level: none } } }\n',
    );
    const v = await runProcess('dist/sidecar/main.js', ['validate', '--config', cfg]);
    assert.equal(v.code, 0, v.stderr);
    const p = startProcess('dist/sidecar/main.js', ['--config', cfg]);
    try {
      await p.waitFor(/tracebridge sidecar running/);
      assert.match(p.stderr(), /"version":"\d+\.\d+\.\d+"/);
      assert.doesNotMatch(p.stderr(), /"version":"0\.0\.0"/);
      assert.doesNotMatch(p.stderr(), /Type Stripping|ExperimentalWarning/);
    } finally {
      p.child.kill('SIGTERM');
    }
    assert.equal(await p.exited, 0);
  });

  it('a compile cache made at build time is read from a read-only directory: healthy, nothing written, no error', async function () {
    // The Dockerfile's steps: warm up as the runtime user, then hand the cache to root, read-only.
    if (process.getuid?.() !== 0) this.skip(); // setpriv and chown need root (CI runs as root)
    const dir = mkdtempSync(join(tmpdir(), 'tb-cc-'));
    chmodSync(dir, 0o755);
    const cache = join(dir, 'compile-cache');
    execFileSync('mkdir', [cache]);
    chownSync(cache, RUNTIME_UID, RUNTIME_UID);
    const ports = await freeSidecarPorts();
    const portsEnv = { TRACEBRIDGE_PORTS: injectedSidecarEnv(ports, 'http://127.0.0.1:1').TRACEBRIDGE_PORTS, NODE_COMPILE_CACHE: cache };
    const warm = asRuntimeUser(['--max-semi-space-size=1', '--initial-old-space-size=32', 'dist/sidecar/runtime/warm-compile-cache.js'], portsEnv);
    assert.equal(await warm.exited, 0, warm.output());
    assert.match(warm.output(), /OTLP\/HTTP exporter: started, healthy, stopped/);
    execFileSync('chown', ['-R', 'root:root', cache]);
    execFileSync('chmod', ['-R', 'a-w,a+rX', cache]);
    const before = readdirSync(cache, { recursive: true }).length;
    assert.ok(before > 50, `the warm-up cached the modules (${before} entries)`);

    // As a pod runs it: the runtime user, the embedded default exporting OTLP/HTTP, the cache dir read-only.
    const env = { ...injectedSidecarEnv(ports, 'http://127.0.0.1:1'), NODE_COMPILE_CACHE: cache, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' };
    const run = asRuntimeUser(['--max-semi-space-size=1', '--initial-old-space-size=32', 'dist/sidecar/main.js'], env);
    try {
      let status = 0;
      for (let i = 0; i < 400 && status !== 200; i++) {
        status = await fetch(`http://127.0.0.1:${ports.health}/`).then((r) => r.status, () => 0);
        if (status !== 200) await new Promise((r) => setTimeout(r, 25));
      }
      assert.equal(status, 200, run.output());
    } finally {
      run.child.kill('SIGTERM');
    }
    assert.equal(await run.exited, 0, run.output());
    const out = run.output();
    assert.match(out, /V8 code cache for ESM file:\/\/\S+\/dist\/sidecar\/cli\.js was accepted/, 'the sidecar compiled from the cache');
    assert.doesNotMatch(out, /Cannot create cache directory|was rejected/);
    assert.doesNotMatch(out, /"level":"(error|fatal)"|Warning:/);
    assert.equal(readdirSync(cache, { recursive: true }).length, before, 'nothing written');
  });

  it('the compiled injector answers --help', async () => {
    const res = await runProcess('dist/injector/main.js', ['--help']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout + res.stderr, /tracebridge-injector inject --config FILE/);
  });
});
