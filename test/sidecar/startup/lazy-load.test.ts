// Pay only for what is configured: a dependency's modules load when a component that needs them is
// configured (or first used), never because the sidecar started. Each case starts the sidecar as a
// child process with a preload that lists every module it loaded, and checks the list.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinsIn, packagesIn } from '../../support/module-list.ts';
import { ROOT, startProcess } from '../../support/process.ts';
import { freePort, HttpSink } from '../../support/otlp-sinks.ts';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { testApp } from '../../support/otel.ts';
import { freeSidecarPorts, injectedSidecarEnv, type SidecarPorts } from '../../support/sidecar-env.ts';

const MAIN = 'sidecar/main.ts';
const HOOK = join(ROOT, 'test/support/loaded-modules.ts');
const dir = mkdtempSync(join(tmpdir(), 'tb-lazy-'));

/**
 * Starts the sidecar, waits until it runs, runs `use` against it, stops it (SIGTERM, exit 0) and
 * returns the packages it loaded.
 */
async function loadedPackages(args: string[], env: Record<string, string | undefined>, use?: () => Promise<void>): Promise<Set<string>> {
  return packagesIn(await loadedModules(args, env, use));
}

/** As loadedPackages, the list of every module loaded (URLs and `node:` built-ins), one a line. */
async function loadedModules(args: string[], env: Record<string, string | undefined>, use?: () => Promise<void>): Promise<string> {
  const out = join(dir, `loaded-${Math.random().toString(36).slice(2)}.txt`);
  const proc = startProcess(MAIN, args, { ...env, NODE_OPTIONS: `--import=${HOOK}`, TB_LOADED_MODULES_OUT: out });
  try {
    await proc.waitFor(/tracebridge sidecar running/);
    await use?.();
  } finally {
    proc.child.kill('SIGTERM');
  }
  assert.equal(await proc.exited, 0, proc.stderr());
  return readFileSync(out, 'utf8');
}

const AWS = (p: Set<string>) => [...p].filter((n) => n.startsWith('@aws-sdk/') || n.startsWith('@smithy/'));

describe('sidecar start-up: dependencies load only for what is configured', () => {
  let sink: HttpSink;
  let ports: SidecarPorts;
  beforeEach(async () => {
    sink = await new HttpSink().start();
    ports = await freeSidecarPorts();
  });
  afterEach(() => sink.stop());

  it('the embedded default (OTLP/HTTP export) loads no YAML parser, no protobufjs, no grpc-js and no AWS SDK', async () => {
    const list = await loadedModules([], injectedSidecarEnv(ports, sink.url));
    // The embedded default loads no package at all at idle: the list is real if it holds the
    // sidecar's own modules (and the config-file case below finds yaml and grpc-js in the same way).
    assert.ok(list.includes('/sidecar/service/service.'), 'the list is real: the service module is in it');
    const pkgs = packagesIn(list);
    assert.ok(!pkgs.has('yaml'), 'yaml is loaded, but no config file was given');
    assert.ok(!pkgs.has('protobufjs'), 'protobufjs is loaded, but nothing was decoded');
    assert.ok(!pkgs.has('@grpc/grpc-js'), 'grpc-js is loaded, but no OTLP/gRPC exporter is configured');
    assert.deepEqual(AWS(pkgs), [], 'AWS SDK modules are loaded, but nothing signs or calls AWS');
  });

  // node:http2 (and node:tls under it) cost an idle process about 4.7 MiB of private memory and
  // 13 MiB of RSS; an app that sends OTLP/HTTP never needs them.
  it('the embedded default at idle loads neither node:http2 nor node:tls', async () => {
    const builtins = builtinsIn(await loadedModules([], injectedSidecarEnv(ports, sink.url)));
    assert.ok(builtins.has('node:http'), `the list is real: node:http is in it (${[...builtins].join(', ')})`);
    assert.ok(!builtins.has('node:http2'), 'node:http2 is loaded, but no HTTP/2 connection came');
    assert.ok(!builtins.has('node:tls'), 'node:tls is loaded, but nothing uses TLS');
    assert.ok(!builtins.has('node:https'), 'node:https is loaded, but nothing uses TLS');
  });

  // Built-ins the embedded default has no use for at idle, each loaded before by an import:
  // - node:assert (through pino's sonic-boom) and node:worker_threads (pino, and an ES import of
  //   node:util through its getters): with pino, ~2.9 MiB private and 50 ms of start-up per pod;
  //   the logger needs neither, and node:util is taken by process.getBuiltinModule;
  // - node:fs/promises, which brings node's readline interface and REPL history modules (+0.26 MiB
  //   private in a bare process); the X-Ray receiver's occasional file reads do not need it;
  // - node:zlib (+0.3 MiB private): nothing is compressed or decompressed until spans flow.
  it('the embedded default at idle loads neither node:assert, node:worker_threads, node:fs/promises nor node:zlib', async () => {
    const builtins = builtinsIn(await loadedModules([], injectedSidecarEnv(ports, sink.url)));
    assert.ok(builtins.has('node:fs'), `the list is real: node:fs is in it (${[...builtins].join(', ')})`);
    assert.ok(!builtins.has('node:assert'), 'node:assert is loaded, but nothing at idle asserts');
    assert.ok(!builtins.has('node:worker_threads'), 'node:worker_threads is loaded, but the embedded default runs no worker');
    assert.ok(!builtins.has('node:fs/promises'), 'node:fs/promises is loaded');
    assert.ok(!builtins.has('node:zlib'), 'node:zlib is loaded, but nothing was compressed');
  });

  // Their config modules (OTTL parser, hashing, ...) cost an idle process about 2.6 MiB private.
  it('the embedded default loads no module of the components it does not configure', async () => {
    const list = await loadedModules([], injectedSidecarEnv(ports, sink.url));
    assert.ok(list.includes('/sidecar/processors/batch/'), 'the list is real: the batch processor is in it');
    for (const dir of ['processors/filter', 'processors/attributes', 'processors/probabilistic_sampler', 'processors/resource/', 'extensions/header_bridge', 'extensions/sigv4auth', 'exporters/awsxray', 'exporters/loadbalancing']) {
      assert.ok(!list.includes(`/sidecar/${dir}`), `${dir} is loaded, but the embedded default does not configure it`);
    }
  });

  it('node:http2 loads with the first OTLP/gRPC connection, and its span is delivered', async () => {
    const builtins = builtinsIn(
      await loadedModules([], injectedSidecarEnv(ports, sink.url), async () => {
        const app = testApp(new GrpcExporter({ url: `http://127.0.0.1:${ports.otlp_grpc}` }));
        app.tracer.startSpan('GET /cart').end();
        await app.flush();
        await app.provider.shutdown();
        await sink.waitUntil(() => sink.spansReceived() >= 1, 8000, 'the gRPC span at the sink');
      }),
    );
    assert.ok(builtins.has('node:http2'));
  });

  it('protobufjs loads with the first span that needs it (a Zipkin protobuf span), not with a Zipkin JSON span', async () => {
    const now = Date.now() * 1000;
    const json = { traceId: '5af7183fb1d4cf5f5af7183fb1d4cf5f', id: '6b221d5bc9e6496c', name: 'get /pay', timestamp: now, duration: 1000, localEndpoint: { serviceName: 'checkout' } };
    const post = async (type: string, body: Uint8Array | string, spans: number) => {
      const res = await fetch(`http://127.0.0.1:${ports.zipkin}/api/v2/spans`, { method: 'POST', headers: { 'content-type': type }, body });
      assert.equal(res.status, 202, await res.text());
      await sink.waitUntil(() => sink.spansReceived() >= spans, 8000, 'the Zipkin span at the sink');
    };
    const afterJson = await loadedPackages([], injectedSidecarEnv(ports, sink.url), () => post('application/json', JSON.stringify([json]), 1));
    assert.ok(!afterJson.has('protobufjs'), 'Zipkin JSON is encoded without an object model');
    const { listOfSpansType } = await import('../../../sidecar/receivers/zipkin/zipkin-proto.ts');
    const proto = listOfSpansType()
      .encode({ spans: [{ traceId: Buffer.from(json.traceId, 'hex'), id: Buffer.from(json.id, 'hex'), name: json.name, timestamp: now, duration: 1000, localEndpoint: { serviceName: 'checkout' } }] })
      .finish();
    const afterProto = await loadedPackages([], injectedSidecarEnv(ports, sink.url), () => post('application/x-protobuf', proto, 2));
    assert.ok(afterProto.has('protobufjs'));
    assert.ok(!afterProto.has('yaml'));
  });

  it('a config file with an OTLP/gRPC exporter and an attributes processor loads the YAML parser and the processor, never grpc-js (the exporter runs on node:http2), and still no AWS SDK', async () => {
    const f = join(dir, 'grpc.yaml');
    writeFileSync(
      f,
      `receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${ports.otlp_http} } } } }\nexporters: { otlp: { endpoint: 127.0.0.1:${await freePort()}, tls: { insecure: true } } }\nextensions: { health_check: { endpoint: 127.0.0.1:${ports.health} } }\nprocessors: { attributes: { actions: [{ key: env, value: prod, action: upsert }] } }\nservice:\n  extensions: [health_check]\n  pipelines: { traces: { receivers: [otlp], processors: [attributes], exporters: [otlp] } }\n  telemetry: { metrics: { address: 127.0.0.1:${ports.metrics} } }\n`,
    );
    const list = await loadedModules(['--config', f], {});
    assert.ok(list.includes('/sidecar/processors/attributes/'), 'the configured attributes processor is loaded');
    const pkgs = packagesIn(list);
    assert.ok(pkgs.has('yaml'));
    assert.ok(!pkgs.has('@grpc/grpc-js'), 'grpc-js is loaded: the otlp exporter must not need it');
    assert.deepEqual(AWS(pkgs), []);
  });
});
