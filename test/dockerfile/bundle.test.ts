// The image runs the sidecar's bundle: the Dockerfile's ENTRYPOINT starts dist/sidecar-image/main.js
// (made by sidecar/runtime/bundle.ts) with its node flags. Build it as the image build does and run
// it as pods do: the embedded default, a config of lazily loaded components, the compile cache,
// and what the embedded default loads (the bundle must keep components and dependencies lazy).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { entrypoint } from '../../bench/entrypoint.ts';
import { shippedXrayEnv, writeShippedXrayConfig } from '../../bench/shipped-config.ts';
import { BUNDLE_DIR, bundleSidecar } from '../../sidecar/runtime/bundle.ts';
import { builtinsIn, packagesIn } from '../support/module-list.ts';
import { testApp } from '../support/otel.ts';
import { freePort, GrpcSink, HttpSink } from '../support/otlp-sinks.ts';
import { ROOT } from '../support/process.ts';
import { freeSidecarPorts, injectedSidecarEnv, type SidecarPorts } from '../support/sidecar-env.ts';

/** The image's runtime user (Dockerfile USER). */
const RUNTIME_UID = 65532;
/** The ENTRYPOINT: node flags and the main.js, here relative to the checkout (the image's /app). */
const IMAGE = entrypoint(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const HOOK = join(ROOT, 'test/support/loaded-modules.ts');
const dir = mkdtempSync(join(tmpdir(), 'tb-bundle-'));
chmodSync(dir, 0o755);

interface Sidecar {
  output(): string;
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

/** Starts `script` (the bundle's main.js unless given) as the ENTRYPOINT does: its node flags, cwd elsewhere. */
function startAsImage(args: string[], env: Record<string, string | undefined>, opts: { script?: string; uid?: number } = {}): Sidecar {
  const node = [...IMAGE.nodeArgs, join(ROOT, opts.script ?? IMAGE.main), ...args];
  const [cmd, argv] = opts.uid === undefined ? [process.execPath, node] : ['setpriv', [`--reuid=${opts.uid}`, `--regid=${opts.uid}`, '--clear-groups', process.execPath, ...node]];
  const child = spawn(cmd, argv, { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    output: () => out,
    exited,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

async function waitHealthy(port: number, sidecar: Sidecar): Promise<void> {
  let status = 0;
  let gone = false;
  void sidecar.exited.then(() => (gone = true));
  for (let i = 0; i < 400 && status !== 200 && !gone; i++) {
    status = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.status, () => 0);
    if (status !== 200) await new Promise((r) => setTimeout(r, 25));
  }
  assert.equal(status, 200, `health check on ${port}\n${sidecar.output()}`);
}

/** The modules the bundled sidecar loaded while running `use` (URLs and `node:` built-ins, one a line). */
/** Starts the image form with the hook of test/support/loaded-modules.ts, healthy, then stopped; returns what the hook wrote to `out`. */
async function hookOutput(args: string[], env: Record<string, string | undefined>, healthPort: number, out: 'TB_LOADED_MODULES_OUT' | 'TB_INITIALIZED_OUT', use?: () => Promise<void>): Promise<string> {
  const file = join(dir, `hook-${Math.random().toString(36).slice(2)}.txt`);
  const sidecar = startAsImage(args, { ...env, NODE_OPTIONS: `--import=${HOOK}`, [out]: file });
  try {
    await waitHealthy(healthPort, sidecar);
    await use?.();
  } finally {
    assert.equal(await sidecar.stop(), 0, sidecar.output());
  }
  return readFileSync(file, 'utf8');
}

/** Every module and built-in the start loaded, one a line. */
function loadedModules(args: string[], env: Record<string, string | undefined>, healthPort: number, use?: () => Promise<void>): Promise<string> {
  return hookOutput(args, env, healthPort, 'TB_LOADED_MODULES_OUT', use);
}

/** The source paths of the sidecar's modules that a start ran (cli.js's initializers; the hook says how). */
async function initializedModules(env: Record<string, string | undefined>, healthPort: number): Promise<string[]> {
  return (await hookOutput([], env, healthPort, 'TB_INITIALIZED_OUT')).split('\n').filter((l) => l !== '');
}

const TRACE_ID = '5af7183fb1d4cf5f5af7183fb1d4cf5f';

/** An HTTP server that records the headers of each request and answers 200. */
async function upstream(): Promise<{ server: Server; port: number; seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port, seen };
}

/** A plain-HTTP request through a forward proxy, as an app with HTTP_PROXY sends it. */
function viaProxy(proxyPort: number, url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: proxyPort, path: url, headers: { ...headers, host: new URL(url).host } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the bundle (what the image runs)', function () {
  this.timeout(180_000);
  let ports: SidecarPorts;

  before(async () => {
    assert.equal(IMAGE.main, `${BUNDLE_DIR}/main.js`, 'the ENTRYPOINT runs the bundle');
    await bundleSidecar();
  });
  beforeEach(async () => {
    ports = await freeSidecarPorts();
  });

  // V8 keeps a script's source in the heap for its lifetime, one byte per character, or two for
  // every character if a single one is outside Latin-1: a "≈" in one comment doubled a 58 KB file.
  it('every file is ASCII, so V8 holds its source one byte per character', () => {
    const files = readdirSync(join(ROOT, BUNDLE_DIR), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));
    assert.ok(files.includes('cli.js') && files.includes('worker.js'), `the bundle's files: ${files.join(', ')}`);
    for (const f of files) {
      const text = readFileSync(join(ROOT, BUNDLE_DIR, f), 'utf8');
      const at = text.search(/[\u0080-\uffff]/);
      assert.equal(at, -1, `${f}: non-ASCII ${JSON.stringify(text.slice(Math.max(0, at - 40), at + 10))}`);
    }
  });

  // The worker thread runs without the core: a worker.js that imported cli.js, or carried its
  // code, would load the whole sidecar (service, components registry, logger) into the thread.
  it('the header bridge worker thread is one file with only what the proxy needs: no cli.ts, service, logger or receivers', () => {
    const text = readFileSync(join(ROOT, BUNDLE_DIR, 'worker.js'), 'utf8');
    // Neither another file of the bundle nor a package (packages stay external in the bundle).
    assert.deepEqual([...text.matchAll(/\bimport\s*\(?\s*"([^"]*)"|\bfrom\s*"([^"]*)"|\brequire\(\s*"([^"]*)"/g)].map((m) => m[1] ?? m[2] ?? m[3]).filter((spec) => !spec!.startsWith('node:')), [], 'imports in worker.js');
    // esbuild heads each source module's code with its path.
    const sources = [...text.matchAll(/^\/\/ (sidecar\/\S+\.ts)$/gm)].map((m) => m[1]!);
    assert.ok(sources.includes('sidecar/extensions/header_bridge/worker.ts') && sources.includes('sidecar/extensions/header_bridge/proxy.ts'), `the list is real: ${sources.join(' ')}`);
    // What the proxy needs, nothing of the rest: the header bridge, the trace-context library, the
    // config schema its options are decoded with, and the listen helper.
    const allowed = (f: string) => f.startsWith('sidecar/extensions/header_bridge/') || f.startsWith('sidecar/tracecontext/') || f === 'sidecar/config/schema.ts' || f === 'sidecar/net/listen.ts';
    assert.deepEqual(sources.filter((f) => !allowed(f)), [], 'the worker carries more than the proxy needs');
  });

  it('started as the ENTRYPOINT starts it, the embedded default is healthy and delivers an SDK span over OTLP/HTTP, reporting the package version', async () => {
    const sink = await new HttpSink().start();
    const sidecar = startAsImage([], injectedSidecarEnv(ports, sink.url));
    try {
      await waitHealthy(ports.health, sidecar);
      const app = testApp(new OTLPTraceExporter({ url: `http://127.0.0.1:${ports.otlp_http}/v1/traces` }));
      app.tracer.startSpan('GET /cart').end();
      await app.flush();
      await app.provider.shutdown();
      await sink.waitUntil(() => sink.spansReceived() >= 1, 8000, 'the span at the OTLP sink');
      assert.ok(sink.received.some((r) => r.bytes.includes('GET /cart')), 'the span as sent');
    } finally {
      assert.equal(await sidecar.stop(), 0, sidecar.output());
      await sink.stop();
    }
    assert.match(sidecar.output(), /"version":"\d+\.\d+\.\d+"/);
    assert.doesNotMatch(sidecar.output(), /"version":"0\.0\.0"/);
    assert.doesNotMatch(sidecar.output(), /Type Stripping|ExperimentalWarning|"level":"(error|fatal)"/);
  });

  it('a config naming lazily loaded components loads and runs them: filter, probabilistic_sampler, loadbalancing (static) and the header_bridge worker', async () => {
    const backend = await new GrpcSink().start();
    const up = await upstream();
    const bridgePort = await freePort();
    const cfg = join(dir, 'lazy.yaml');
    writeFileSync(
      cfg,
      `receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${ports.otlp_http} } } } }
processors:
  filter: { traces: { span: ['name == "GET /healthz"'] } }
  probabilistic_sampler: { sampling_percentage: 100 }
exporters:
  loadbalancing:
    protocol: { otlp: { tls: { insecure: true } } }
    resolver: { static: { hostnames: [127.0.0.1:${backend.port}] } }
extensions:
  health_check: { endpoint: 127.0.0.1:${ports.health} }
  header_bridge: { endpoint: 127.0.0.1:${bridgePort}, formats: [traceparent, xray] }
service:
  extensions: [health_check, header_bridge]
  pipelines: { traces: { receivers: [otlp], processors: [filter, probabilistic_sampler], exporters: [loadbalancing] } }
  telemetry: { metrics: { level: none } }
`,
    );
    const validate = startAsImage(['validate', '--config', cfg], {});
    assert.equal(await validate.exited, 0, validate.output());
    const sidecar = startAsImage(['--config', cfg], {});
    try {
      await waitHealthy(ports.health, sidecar);
      const app = testApp(new OTLPTraceExporter({ url: `http://127.0.0.1:${ports.otlp_http}/v1/traces` }));
      app.tracer.startSpan('GET /healthz').end();
      app.tracer.startSpan('GET /cart').end();
      await app.flush();
      await app.provider.shutdown();
      await backend.waitUntil(() => backend.spansReceived() >= 1, 8000, 'the span at the loadbalancing backend');
      assert.equal(backend.spansReceived(), 1, 'the filter dropped GET /healthz');
      assert.ok(backend.received.every((r) => r.bytes.includes('GET /cart') && !r.bytes.includes('GET /healthz')));

      for (let i = 0; i < 200 && !sidecar.output().includes('header bridge listening'); i++) await new Promise((r) => setTimeout(r, 25));
      const status = await viaProxy(bridgePort, `http://127.0.0.1:${up.port}/orders`, { traceparent: `00-${TRACE_ID}-6b221d5bc9e6496c-01` });
      assert.equal(status, 200, sidecar.output());
      assert.match(String(up.seen[0]?.['x-amzn-trace-id']), /^Root=1-5af7183f-b1d4cf5f5af7183fb1d4cf5f;Parent=6b221d5bc9e6496c;Sampled=1/, 'the bridge worker added the X-Ray header');
    } finally {
      assert.equal(await sidecar.stop(), 0, sidecar.output());
      await backend.stop();
      up.server.close();
    }
    assert.doesNotMatch(sidecar.output(), /"level":"(error|fatal)"/);
  });

  it('a compile cache made by the bundle\'s warm-up is read from a read-only directory: the bundle compiles from it, nothing written', async function () {
    // The Dockerfile's steps: warm up as the runtime user, then hand the cache to root, read-only.
    if (process.getuid?.() !== 0) this.skip(); // setpriv and chown need root (CI runs as root)
    const cache = join(dir, 'compile-cache');
    execFileSync('mkdir', [cache]);
    chownSync(cache, RUNTIME_UID, RUNTIME_UID);
    const injected = injectedSidecarEnv(ports, 'http://127.0.0.1:1');
    const env = { ...injected, NODE_COMPILE_CACHE: cache };
    const warm = startAsImage([], { TRACEBRIDGE_PORTS: injected.TRACEBRIDGE_PORTS, NODE_COMPILE_CACHE: cache }, { script: `${BUNDLE_DIR}/runtime/warm-compile-cache.js`, uid: RUNTIME_UID });
    assert.equal(await warm.exited, 0, warm.output());
    assert.match(warm.output(), /OTLP\/HTTP exporter: started, healthy, stopped/);
    execFileSync('chown', ['-R', 'root:root', cache]);
    execFileSync('chmod', ['-R', 'a-w,a+rX', cache]);
    const before = readdirSync(cache, { recursive: true }).length;
    assert.ok(before >= 2, `the warm-up cached the bundle's files (${before} entries)`);

    const run = startAsImage([], { ...env, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' }, { uid: RUNTIME_UID });
    try {
      await waitHealthy(ports.health, run);
    } finally {
      assert.equal(await run.stop(), 0, run.output());
    }
    const out = run.output();
    assert.match(out, new RegExp(`V8 code cache for ESM file://\\S+/${BUNDLE_DIR}/cli\\.js was accepted`), 'the bundle compiled from the cache');
    assert.match(out, new RegExp(`V8 code cache for ESM file://\\S+/${BUNDLE_DIR}/main\\.js was accepted`));
    assert.doesNotMatch(out, /Cannot create cache directory|was rejected/);
    assert.doesNotMatch(out, /"level":"(error|fatal)"|Warning:/);
    assert.equal(readdirSync(cache, { recursive: true }).length, before, 'nothing written');
  });

  describe('what the embedded default loads', () => {
    let sink: HttpSink;
    beforeEach(async () => {
      sink = await new HttpSink().start();
    });
    afterEach(() => sink.stop());

    it('no YAML parser, no protobufjs, no grpc-js, no AWS SDK', async () => {
      const list = await loadedModules([], injectedSidecarEnv(ports, sink.url), ports.health);
      assert.ok(list.includes(`/${BUNDLE_DIR}/main.js`), `the list is real: the bundle is in it (${list})`);
      assert.ok(!list.includes('/dist/sidecar/'), 'nothing of tsc\'s output');
      const pkgs = packagesIn(list);
      for (const name of ['yaml', 'protobufjs', '@grpc/grpc-js']) assert.ok(!pkgs.has(name), `${name} is loaded (${[...pkgs].join(', ')})`);
      assert.deepEqual([...pkgs].filter((n) => n.startsWith('@aws-sdk/') || n.startsWith('@smithy/')), [], 'AWS SDK modules are loaded, but nothing signs or calls AWS');
    });

    // As test/sidecar/startup/lazy-load.test.ts checks for tsc's output, for the file pods run.
    it('at idle none of node:http2, node:tls, node:assert, node:worker_threads, node:fs/promises, node:zlib', async () => {
      const builtins = builtinsIn(await loadedModules([], injectedSidecarEnv(ports, sink.url), ports.health));
      assert.ok(builtins.has('node:http'), `the list is real: node:http is in it (${[...builtins].join(', ')})`);
      for (const name of ['node:http2', 'node:tls', 'node:https', 'node:assert', 'node:worker_threads', 'node:fs/promises', 'node:zlib']) assert.ok(!builtins.has(name), `${name} is loaded`);
    });

    it('at idle nothing that only an ES import facade of a built-in loads: readline, REPL history, fs promises, streams and watchers, net\'s BlockList', async () => {
      // `import { readFileSync } from 'node:fs'` makes node build an ES module of node:fs that
      // reads every export, lazy getters included; process.getBuiltinModule returns the object.
      const builtins = builtinsIn(await loadedModules([], injectedSidecarEnv(ports, sink.url), ports.health));
      assert.ok(builtins.has('node:internal/fs/utils'), `the list is real: node's internal modules are in it (${[...builtins].length})`);
      const facadeOnly = ['node:internal/readline/interface', 'node:internal/repl/history', 'node:internal/fs/promises', 'node:internal/fs/streams', 'node:internal/fs/watchers', 'node:internal/fs/dir', 'node:internal/blocklist', 'node:internal/socketaddress'];
      assert.deepEqual(facadeOnly.filter((m) => builtins.has(m)), []);
    });

    // Each file costs a start Node's ESM loader's resolve, stat, read, package scope, compile-cache
    // lookup and link: with the components and their shared code as files of their own, the
    // embedded default loaded 38.
    it('the code every start loads is two files: main.js, then cli.js', async () => {
      const list = await loadedModules([], injectedSidecarEnv(ports, sink.url), ports.health);
      const files = list.split('\n').filter((l) => l.includes(`/${BUNDLE_DIR}/`)).map((l) => l.slice(l.indexOf(`/${BUNDLE_DIR}/`) + BUNDLE_DIR.length + 2));
      assert.deepEqual(files, ['main.js', 'cli.js']);
    });

    // cli.js carries every component; what keeps them lazy is that esbuild turns each
    // `import('./x.ts')` of the sources into an initializer (`init_x()`) that runs when the
    // import() does. A component's code that ran at load (an import from the core, an init call
    // at the top level) would cost every pod its memory and start-up time, configured or not.
    it('no module of the components it does not configure runs', async () => {
      const ran = await initializedModules(injectedSidecarEnv(ports, sink.url), ports.health);
      assert.ok(ran.includes('sidecar/receivers/otlp/receiver.ts') && ran.includes('sidecar/processors/batch/processor.ts'), `the list is real: the configured receiver and batch ran (${ran.slice(0, 8).join(', ')}, ...)`);
      for (const component of ['processors/filter/', 'processors/attributes/', 'processors/probabilistic_sampler/', 'processors/resource/', 'extensions/header_bridge/', 'extensions/sigv4auth/', 'exporters/awsxray/', 'exporters/loadbalancing/', 'exporters/otlp/', 'exporters/debug/']) {
        assert.ok(existsSync(join(ROOT, 'sidecar', component)), `${component}: the source has it`);
        // otlphttp's settings extend the otlp exporter's (exporters/otlp/config.ts).
        assert.deepEqual(ran.filter((m) => m.startsWith(`sidecar/${component}`) && m !== 'sidecar/exporters/otlp/config.ts'), [], `${component} ran, but the embedded default does not configure it`);
      }
    });

    // The hook sees only what runs through an initializer: a component module that cli.js ran at
    // its top level would not be listed above. So every component module must sit behind one,
    // except the factories the component registry imports statically (components.ts: those a
    // start and `validate` need before any config is read) and the config modules they import.
    it('every component module is behind an initializer, except the registry\'s static factories and their configs', () => {
      const text = readFileSync(join(ROOT, BUNDLE_DIR, 'cli.js'), 'utf8');
      const modules = [...text.matchAll(/^\/\/ (sidecar\/(?:receivers|processors|exporters|extensions)\/\S+\.ts)$/gm)].map((m) => m[1]!);
      const lazy = new Set([...text.matchAll(/= __esm\(\{\n\s+"(sidecar\/[^"]+\.ts)"\(\)/g)].map((m) => m[1]!));
      const registry = readFileSync(join(ROOT, 'sidecar/service/components.ts'), 'utf8');
      const eagerDirs = [...registry.matchAll(/^import \{[^}]*\} from '\.\.\/((?:receivers|processors|exporters|extensions)\/[^']+)\/factory\.ts';$/gm)].map((m) => `sidecar/${m[1]}/`);
      assert.ok(modules.length > 100 && lazy.size > 100 && eagerDirs.length >= 10, `the lists are real: ${modules.length} component modules, ${lazy.size} behind initializers, ${eagerDirs.length} static factories`);
      const eager = (m: string) => eagerDirs.some((d) => m === `${d}factory.ts` || m === `${d}config.ts`);
      assert.deepEqual(modules.filter((m) => !lazy.has(m) && !eager(m)), [], 'component modules that run when cli.js loads');
    });
  });

  // mesh-configs/kubernetes/sidecar-configmap.yaml holds this file: the injector mounts it and
  // sets TRACEBRIDGE_CONFIG, so it is what the pods of an X-Ray setup start with. The kubelet
  // starts the app's containers only once the sidecar's startup probe passes.
  describe('what the shipped X-Ray config loads at start (the ConfigMap injected pods mount)', () => {
    let env: Record<string, string | undefined>;
    beforeEach(() => {
      env = { ...injectedSidecarEnv(ports, 'http://127.0.0.1:1', writeShippedXrayConfig('sidecar-xray-otlp.yaml', ports, dir)), ...shippedXrayEnv(ports.metrics) };
    });

    it('the YAML parser as one file, not the ~70 modules of its package', async () => {
      const list = await loadedModules([], env, ports.health);
      assert.ok(list.includes(`/${BUNDLE_DIR}/cli.js`), `the list is real: the bundle is in it (${list})`);
      const yamlFiles = list.split('\n').filter((l) => /\/node_modules\/yaml\//.test(l));
      assert.deepEqual(yamlFiles.map((l) => l.slice(l.indexOf('/node_modules/'))), ['/node_modules/yaml/index.js']);
      assert.ok(yamlFiles[0]!.includes(`/${BUNDLE_DIR}/node_modules/yaml/`), `the bundle's copy, not the package's: ${yamlFiles[0]}`);
      // What licence scanners read: the package's own name, version and licence, and its LICENSE.
      const copy = JSON.parse(readFileSync(join(ROOT, BUNDLE_DIR, 'node_modules/yaml/package.json'), 'utf8')) as Record<string, unknown>;
      const source = JSON.parse(readFileSync(join(ROOT, 'node_modules/yaml/package.json'), 'utf8')) as Record<string, unknown>;
      assert.deepEqual([copy.name, copy.version, copy.license], [source.name, source.version, source.license]);
      assert.equal(readFileSync(join(ROOT, BUNDLE_DIR, 'node_modules/yaml/LICENSE'), 'utf8'), readFileSync(join(ROOT, 'node_modules/yaml/LICENSE'), 'utf8'));
    });

    it('no node:tls, node:https or node:crypto before the first export (an https:// exporter loads them with it)', async () => {
      const builtins = builtinsIn(await loadedModules([], env, ports.health));
      assert.ok(builtins.has('node:http'), `the list is real: node:http is in it (${[...builtins].join(', ')})`);
      assert.deepEqual(['node:tls', 'node:https', 'node:crypto', 'node:http2', 'node:zlib'].filter((m) => builtins.has(m)), []);
    });

    // The legacy path (PutTraceSegments through the AWS SDK), for teams still on X-Ray's segments.
    it('the segments config: no AWS SDK, node:tls, node:https or node:crypto before the first export', async () => {
      const list = await loadedModules([], { ...env, TRACEBRIDGE_CONFIG: writeShippedXrayConfig('sidecar-xray-segments.yaml', ports, dir) }, ports.health);
      assert.ok(list.includes(`/${BUNDLE_DIR}/cli.js`), `the list is real: the bundle is in it (${list})`);
      assert.deepEqual([...packagesIn(list)].filter((n) => n.startsWith('@aws-sdk/') || n.startsWith('@smithy/')), []);
      const builtins = builtinsIn(list);
      assert.deepEqual(['node:tls', 'node:https', 'node:crypto', 'node:http2'].filter((m) => builtins.has(m)), []);
    });
  });
});
