// Config loading and validation as a user meets them: every error listed with its YAML path,
// before any port opens.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseDuration } from '../../../sidecar/config/schema.ts';
import { loadConfigFiles, mergeConfig } from '../../../sidecar/config/load.ts';
import { decodeSidecarConfig } from '../../../sidecar/config/service-config.ts';
import { loadSidecarConfig } from '../../../sidecar/cli.ts';

function errorsOf(raw: unknown): string[] {
  try {
    decodeSidecarConfig(raw);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return [...err.errors];
  }
  assert.fail('expected a ConfigError');
}

const dir = mkdtempSync(join(tmpdir(), 'tb-config-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const minimal = {
  receivers: { otlp: { protocols: { grpc: null } } },
  exporters: { debug: {} },
  service: { pipelines: { traces: { receivers: ['otlp'], exporters: ['debug'] } } },
};

describe('sidecar config', () => {
  it('accepts a minimal collector-style config and fills the collector defaults', () => {
    const cfg = decodeSidecarConfig(minimal);
    const otlp = cfg.receivers.get('otlp')!.config as { protocols: { grpc?: { endpoint: string; max_recv_msg_size_mib: number }; http?: unknown } };
    assert.equal(otlp.protocols.grpc?.endpoint, '127.0.0.1:4317');
    assert.equal(otlp.protocols.grpc?.max_recv_msg_size_mib, 4);
    assert.equal(otlp.protocols.http, undefined);
    assert.equal(cfg.service.telemetry.metrics.address, '127.0.0.1:8888');
  });

  it('lists every error at once, each with its YAML path', () => {
    const errors = errorsOf({
      receivers: { otlp: { protocols: { grpc: { endpoint: 'nope', max_recv_msg_size_mib: 'big' }, htp: {} } }, kafka: {} },
      processors: { batch: { timeout: '5 parsecs', send_batch_size: -1 } },
      exporters: { debug: { verbosity: 'loud' } },
      service: { pipelines: { traces: { receivers: ['otlp'], processors: ['memory_limiter/x'], exporters: ['otlp/gateway'] }, spans: { receivers: ['otlp'], exporters: ['debug'] } } },
    });
    const expect = [
      /^receivers\.otlp\.protocols\.htp: unknown key \(known keys: grpc, http\)$/,
      /^receivers\.otlp\.protocols\.grpc\.endpoint: expected host:port/,
      /^receivers\.otlp\.protocols\.grpc\.max_recv_msg_size_mib: expected an integer/,
      /^receivers\.kafka: unknown receiver type "kafka" \(known: .*otlp/,
      /^processors\.batch\.send_batch_size: expected an integer >= 1, got -1$/,
      /^processors\.batch\.timeout: expected a duration/,
      /^exporters\.debug\.verbosity: expected one of basic, normal, detailed, got "loud"$/,
      /^service\.pipelines\.traces\.processors\[0\]: references processor "memory_limiter\/x" which is not defined/,
      /^service\.pipelines\.traces\.exporters\[0\]: references exporter "otlp\/gateway" which is not defined/,
      /^service\.pipelines\.spans: pipeline ID must start with traces, metrics or logs/,
    ];
    for (const re of expect) assert.ok(errors.some((e) => re.test(e)), `missing ${re} in:\n${errors.join('\n')}`);
  });

  it('rejects unknown top-level keys and empty pipelines', () => {
    const errors = errorsOf({ recievers: {}, service: { pipelines: { traces: {} } } });
    assert.ok(errors.includes('recievers: unknown key (known keys: receivers, processors, exporters, extensions, connectors, service)'));
    assert.ok(errors.includes('service.pipelines.traces.receivers: must list at least one receiver'));
    assert.ok(errors.includes('service.pipelines.traces.exporters: must list at least one exporter'));
  });

  it('supports named instances and several pipelines', () => {
    const cfg = decodeSidecarConfig({
      receivers: { 'otlp/app': { protocols: { http: null } }, 'otlp/mesh': { protocols: { grpc: { endpoint: '127.0.0.1:0' } } } },
      processors: { 'batch/fast': { timeout: '10ms' } },
      exporters: { 'debug/a': {}, 'debug/b': { verbosity: 'detailed' } },
      service: {
        pipelines: {
          traces: { receivers: ['otlp/app'], processors: ['batch/fast'], exporters: ['debug/a'] },
          'traces/mesh': { receivers: ['otlp/mesh', 'otlp/app'], exporters: ['debug/a', 'debug/b'] },
        },
      },
    });
    assert.deepEqual(cfg.service.pipelines.map((p) => p.id), ['traces', 'traces/mesh']);
    assert.equal((cfg.processors.get('batch/fast')!.config as { timeout: number }).timeout, 10);
  });

  it('expands ${env:NAME} and ${env:NAME:-default}, typing whole-value references', () => {
    const p = file(
      'env.yaml',
      `receivers:
  otlp:
    protocols:
      grpc:
        endpoint: "\${env:GRPC_HOST:-127.0.0.1}:\${env:GRPC_PORT}"
        max_recv_msg_size_mib: \${env:MAX_MIB}
exporters: { debug: { verbosity: "\${env:VERB:-basic}" } }
service: { pipelines: { traces: { receivers: [otlp], exporters: [debug] } } }
`,
    );
    const raw = loadConfigFiles([p], { GRPC_PORT: '5317', MAX_MIB: '8' }) as { receivers: { otlp: { protocols: { grpc: { endpoint: string; max_recv_msg_size_mib: unknown } } } } };
    assert.equal(raw.receivers.otlp.protocols.grpc.endpoint, '127.0.0.1:5317');
    assert.equal(raw.receivers.otlp.protocols.grpc.max_recv_msg_size_mib, 8);
    assert.throws(() => loadConfigFiles([p], {}), /receivers\.otlp\.protocols\.grpc\.endpoint: environment variable GRPC_PORT is not set/);
  });

  it('merges several files in order: maps merge, later scalars and lists win', async () => {
    const a = file('a.yaml', 'receivers: { otlp: { protocols: { grpc: { endpoint: 127.0.0.1:4317 } } } }\nexporters: { debug: {} }\nservice: { pipelines: { traces: { receivers: [otlp], processors: [batch], exporters: [debug] } } }\nprocessors: { batch: {} }\n');
    const b = file('b.yaml', 'receivers: { otlp: { protocols: { http: {} } } }\nservice: { pipelines: { traces: { processors: [] } } }\n');
    const { config } = await loadSidecarConfig([a, b], {});
    const otlp = config.receivers.get('otlp')!.config as { protocols: { grpc?: unknown; http?: unknown } };
    assert.ok(otlp.protocols.grpc && otlp.protocols.http);
    assert.deepEqual(config.service.pipelines[0]!.processors, []);
    assert.deepEqual(mergeConfig({ a: [1, 2], m: { x: 1 } }, { a: [3], m: { y: 2 } }), { a: [3], m: { x: 1, y: 2 } });
  });

  it('names the file and line of a YAML syntax error', () => {
    const p = file('bad.yaml', 'receivers:\n  otlp: [\n');
    assert.throws(() => loadConfigFiles([p], {}), (err: unknown) => err instanceof ConfigError && err.errors[0]!.startsWith(`${p}:`));
  });

  it('parses Go-style durations', () => {
    assert.equal(parseDuration('200ms'), 200);
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('0'), 0);
    assert.equal(parseDuration('5'), undefined);
    assert.equal(parseDuration('5 s'), undefined);
  });

  it('embedded default: debug exporter without an OTLP endpoint, never exporting to itself', async () => {
    const { config, source } = await loadSidecarConfig([], {});
    assert.deepEqual([...config.exporters.keys()], ['debug']);
    assert.match(source, /embedded default/);
    const self = await loadSidecarConfig([], { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' });
    assert.deepEqual([...self.config.exporters.keys()], ['debug']);
    assert.match(self.source, /points at the sidecar itself/);
    const health = config.extensions.get('health_check')!.config as { endpoint: string };
    assert.equal(health.endpoint, '0.0.0.0:13133');
  });

  it('embedded default: exports to an OTLP endpoint from the env, SigV4-signed when it is X-Ray', async () => {
    const gw = (await loadSidecarConfig([], { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://gateway.observability:4318' })).config;
    assert.deepEqual([...gw.exporters.keys()], ['otlphttp']);
    assert.equal(gw.extensions.has('sigv4auth'), false);
    assert.ok(gw.service.pipelines.some((p) => p.id === 'metrics'), 'metrics and logs pass through');
    const grpc = (await loadSidecarConfig([], { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://gateway:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).config;
    assert.deepEqual([...grpc.exporters.keys()], ['otlp']);
    const xray = await loadSidecarConfig([], { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://xray.eu-west-1.amazonaws.com/v1/traces' });
    assert.match(xray.source, /SigV4-signed for X-Ray in eu-west-1/);
    const sig = xray.config.extensions.get('sigv4auth')!.config as { region: string; service: string };
    assert.deepEqual([sig.region, sig.service], ['eu-west-1', 'xray']);
    assert.deepEqual((xray.config.exporters.get('otlphttp')!.config as { auth: unknown }).auth, { authenticator: 'sigv4auth' });
    assert.ok(xray.config.service.extensions.includes('sigv4auth'));
  });

  it('embedded default: the header bridge runs only when TRACEBRIDGE_HEADER_BRIDGE=true', async () => {
    assert.equal((await loadSidecarConfig([], {})).config.extensions.has('header_bridge'), false);
    const on = (await loadSidecarConfig([], { TRACEBRIDGE_HEADER_BRIDGE: 'true' })).config;
    assert.equal((on.extensions.get('header_bridge')!.config as { endpoint: string }).endpoint, '127.0.0.1:13128');
    assert.ok(on.service.extensions.includes('header_bridge'));
  });

  it('a mounted config gets the header bridge when the injector asked for it, unless it configures one', async () => {
    const plain = file('plain.yaml', 'receivers: { otlp: {} }\nexporters: { debug: {} }\nservice: { pipelines: { traces: { receivers: [otlp], exporters: [debug] } } }\n');
    const on = (await loadSidecarConfig([], { TRACEBRIDGE_CONFIG: plain, TRACEBRIDGE_HEADER_BRIDGE: 'true' })).config;
    assert.equal((on.extensions.get('header_bridge')!.config as { endpoint: string }).endpoint, '127.0.0.1:13128');
    assert.ok(on.service.extensions.includes('header_bridge'));
    assert.equal((await loadSidecarConfig([], { TRACEBRIDGE_CONFIG: plain })).config.extensions.has('header_bridge'), false);
    const own = file('own.yaml', 'receivers: { otlp: {} }\nexporters: { debug: {} }\nextensions: { header_bridge/x: { endpoint: 127.0.0.1:13999 } }\nservice: { extensions: [header_bridge/x], pipelines: { traces: { receivers: [otlp], exporters: [debug] } } }\n');
    const kept = (await loadSidecarConfig([], { TRACEBRIDGE_CONFIG: own, TRACEBRIDGE_HEADER_BRIDGE: 'true' })).config;
    assert.deepEqual([...kept.extensions.keys()], ['header_bridge/x']);
  });

  it('embedded default: uses a mounted TRACEBRIDGE_CONFIG only when the file exists', async () => {
    const p = file('mounted.yaml', 'receivers: { otlp: { protocols: { http: {} } } }\nexporters: { debug: { verbosity: detailed } }\nservice: { pipelines: { traces: { receivers: [otlp], exporters: [debug] } } }\n');
    assert.equal((await loadSidecarConfig([], { TRACEBRIDGE_CONFIG: p })).source, p);
    assert.match((await loadSidecarConfig([], { TRACEBRIDGE_CONFIG: join(dir, 'absent.yaml') })).source, /embedded default/);
  });
});
