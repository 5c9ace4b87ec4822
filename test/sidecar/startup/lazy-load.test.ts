// Pay only for what is configured: a dependency's modules load when a component that needs them is
// configured (or first used), never because the sidecar started. Each case starts the sidecar as a
// child process with a preload that lists every module it loaded, and checks the list.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, startProcess } from '../../support/process.ts';
import { freePort, HttpSink } from '../../support/otlp-sinks.ts';
import { freeSidecarPorts, injectedSidecarEnv, type SidecarPorts } from '../../support/sidecar-env.ts';

const MAIN = 'sidecar/main.ts';
const HOOK = join(ROOT, 'test/support/loaded-modules.ts');
const dir = mkdtempSync(join(tmpdir(), 'tb-lazy-'));

/** Packages (node_modules/<name>) whose modules the process loaded. */
function packagesIn(list: string): Set<string> {
  const names = new Set<string>();
  for (const url of list.split('\n')) {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (m) names.add(m[1]!);
  }
  return names;
}

/**
 * Starts the sidecar, waits until it runs, runs `use` against it, stops it (SIGTERM, exit 0) and
 * returns the packages it loaded.
 */
async function loadedPackages(args: string[], env: Record<string, string | undefined>, use?: () => Promise<void>): Promise<Set<string>> {
  const out = join(dir, `loaded-${Math.random().toString(36).slice(2)}.txt`);
  const proc = startProcess(MAIN, args, { ...env, NODE_OPTIONS: `--import=${HOOK}`, TB_LOADED_MODULES_OUT: out });
  try {
    await proc.waitFor(/tracebridge sidecar running/);
    await use?.();
  } finally {
    proc.child.kill('SIGTERM');
  }
  assert.equal(await proc.exited, 0, proc.stderr());
  return packagesIn(readFileSync(out, 'utf8'));
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
    const pkgs = await loadedPackages([], injectedSidecarEnv(ports, sink.url));
    assert.ok(pkgs.has('pino'), `the list is real: pino, the logger, is in it (${[...pkgs].join(', ')})`);
    assert.ok(!pkgs.has('yaml'), 'yaml is loaded, but no config file was given');
    assert.ok(!pkgs.has('protobufjs'), 'protobufjs is loaded, but nothing was decoded');
    assert.ok(!pkgs.has('@grpc/grpc-js'), 'grpc-js is loaded, but no OTLP/gRPC exporter is configured');
    assert.deepEqual(AWS(pkgs), [], 'AWS SDK modules are loaded, but nothing signs or calls AWS');
  });

  it('a Zipkin JSON span is written to OTLP without protobufjs; protobufjs loads with the first OTLP/JSON request', async () => {
    const pkgs = await loadedPackages([], injectedSidecarEnv(ports, sink.url), async () => {
      const span = { traceId: '5af7183fb1d4cf5f5af7183fb1d4cf5f', id: '6b221d5bc9e6496c', name: 'get /pay', timestamp: Date.now() * 1000, duration: 1000, localEndpoint: { serviceName: 'checkout' } };
      const res = await fetch(`http://127.0.0.1:${ports.zipkin}/api/v2/spans`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([span]) });
      assert.equal(res.status, 202, await res.text());
      await sink.waitUntil(() => sink.spansReceived() >= 1, 8000, 'the Zipkin span at the sink');
    });
    assert.ok(pkgs.has('pino'), `the list is real: pino, the logger, is in it (${[...pkgs].join(', ')})`);
    assert.ok(!pkgs.has('protobufjs'), 'protobufjs is loaded, but the Zipkin receiver writes OTLP protobuf itself');
    const withJson = await loadedPackages([], injectedSidecarEnv(ports, sink.url), async () => {
      const doc = { resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: '5af7183fb1d4cf5f5af7183fb1d4cf5f', spanId: '6b221d5bc9e6496c', name: 'GET /pay', kind: 2, startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000001000000' }] }] }] };
      const res = await fetch(`http://127.0.0.1:${ports.otlp_http}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(doc) });
      assert.equal(res.status, 200, await res.text());
      await sink.waitUntil(() => sink.spansReceived() >= 2, 8000, 'the OTLP/JSON span at the sink');
    });
    assert.ok(withJson.has('protobufjs'), 'OTLP/JSON is turned into protobuf through the schema');
    assert.ok(!withJson.has('yaml'));
  });

  it('a config file with an OTLP/gRPC exporter loads the YAML parser and grpc-js (and still no AWS SDK)', async () => {
    const f = join(dir, 'grpc.yaml');
    writeFileSync(
      f,
      `receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${ports.otlp_http} } } } }\nexporters: { otlp: { endpoint: 127.0.0.1:${await freePort()}, tls: { insecure: true } } }\nextensions: { health_check: { endpoint: 127.0.0.1:${ports.health} } }\nservice:\n  extensions: [health_check]\n  pipelines: { traces: { receivers: [otlp], exporters: [otlp] } }\n  telemetry: { metrics: { address: 127.0.0.1:${ports.metrics} } }\n`,
    );
    const pkgs = await loadedPackages(['--config', f], {});
    assert.ok(pkgs.has('yaml'));
    assert.ok(pkgs.has('@grpc/grpc-js'));
    assert.deepEqual(AWS(pkgs), []);
  });
});
