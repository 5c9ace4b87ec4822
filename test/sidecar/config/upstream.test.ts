// The app's own destination, handed to the sidecar by the injector (TRACEBRIDGE_UPSTREAM_*), read
// the way an OpenTelemetry SDK reads its variables, and where the embedded default then sends
// each signal.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadSidecarConfig } from '../../../sidecar/cli.ts';
import { embeddedDefault } from '../../../sidecar/config/embedded-default.ts';
import { parseOtlpHeaders, readUpstream, upstreamName } from '../../../sidecar/config/upstream.ts';
import { decodeSidecarConfig } from '../../../sidecar/config/service-config.ts';
import { components } from '../../../sidecar/service/components.ts';

const avail = {
  receiver: new Set(components.receiver.keys()),
  processor: new Set(components.processor.keys()),
  exporter: new Set(components.exporter.keys()),
  extension: new Set(components.extension.keys()),
};

interface Pipelines {
  [id: string]: { receivers: string[]; exporters: string[] };
}

function defaults(env: Record<string, string>) {
  const def = embeddedDefault(env, avail);
  decodeSidecarConfig(def.config); // must be a valid config
  const config = def.config as { exporters: Record<string, Record<string, unknown>>; service: { pipelines: Pipelines }; extensions: Record<string, unknown> };
  return { ...config, reason: def.exporterReason };
}

describe('sidecar upstream (the app destination the injector hands over)', () => {
  it('names each app variable under TRACEBRIDGE_UPSTREAM_', () => {
    assert.equal(upstreamName('OTEL_EXPORTER_OTLP_ENDPOINT'), 'TRACEBRIDGE_UPSTREAM_OTLP_ENDPOINT');
    assert.equal(upstreamName('OTEL_EXPORTER_OTLP_METRICS_HEADERS'), 'TRACEBRIDGE_UPSTREAM_OTLP_METRICS_HEADERS');
    assert.equal(upstreamName('AWS_XRAY_DAEMON_ADDRESS'), 'TRACEBRIDGE_UPSTREAM_XRAY_DAEMON_ADDRESS');
  });

  it('reads a generic gRPC endpoint (port 4317) for every signal, with its headers', () => {
    const up = readUpstream({ TRACEBRIDGE_UPSTREAM_OTLP_ENDPOINT: 'http://otel-collector:4317', TRACEBRIDGE_UPSTREAM_OTLP_HEADERS: 'x-tenant=acme,authorization=Bearer%20abc' });
    for (const s of ['traces', 'metrics', 'logs'] as const) {
      assert.equal(up.otlp[s]!.protocol, 'grpc', s);
      assert.equal(up.otlp[s]!.url, 'http://otel-collector:4317');
      assert.equal(up.otlp[s]!.insecure, true);
      assert.deepEqual(up.otlp[s]!.headers, { 'x-tenant': 'acme', authorization: 'Bearer abc' });
    }
  });

  it('appends /v1/<signal> to a generic OTLP/HTTP base URL and uses a per-signal URL as it is', () => {
    const up = readUpstream({
      TRACEBRIDGE_UPSTREAM_OTLP_ENDPOINT: 'https://otlp.vendor.example/otlp/',
      TRACEBRIDGE_UPSTREAM_OTLP_LOGS_ENDPOINT: 'https://logs.vendor.example/ingest',
      TRACEBRIDGE_UPSTREAM_OTLP_PROTOCOL: 'http/protobuf',
      TRACEBRIDGE_UPSTREAM_OTLP_HEADERS: 'api-key=generic',
      TRACEBRIDGE_UPSTREAM_OTLP_LOGS_HEADERS: 'api-key=logs',
    });
    assert.equal(up.otlp.traces!.url, 'https://otlp.vendor.example/otlp/v1/traces');
    assert.equal(up.otlp.metrics!.url, 'https://otlp.vendor.example/otlp/v1/metrics');
    assert.equal(up.otlp.logs!.url, 'https://logs.vendor.example/ingest');
    assert.deepEqual(up.otlp.logs!.headers, { 'api-key': 'logs' }, 'per-signal headers replace the generic ones');
    assert.equal(up.otlp.traces!.insecure, false);
  });

  it('tells the protocol from the per-signal variable, the generic one, the port, then the OTLP default', () => {
    const p = (env: Record<string, string>) => readUpstream(env).otlp.traces!;
    assert.equal(p({ TRACEBRIDGE_UPSTREAM_OTLP_ENDPOINT: 'http://c:4318', TRACEBRIDGE_UPSTREAM_OTLP_TRACES_PROTOCOL: 'grpc', TRACEBRIDGE_UPSTREAM_OTLP_PROTOCOL: 'http/json' }).protocol, 'grpc');
    assert.equal(p({ TRACEBRIDGE_UPSTREAM_OTLP_ENDPOINT: 'http://c:4317', TRACEBRIDGE_UPSTREAM_OTLP_PROTOCOL: 'http/json' }).protocol, 'http/json');
    assert.equal(p({ TRACEBRIDGE_UPSTREAM_OTLP_ENDPOINT: 'http://c:4318' }).protocol, 'http/protobuf');
    assert.equal(p({ TRACEBRIDGE_UPSTREAM_OTLP_ENDPOINT: 'https://api.vendor.example' }).protocolFrom, 'the OTLP default');
    const bad = readUpstream({ TRACEBRIDGE_UPSTREAM_OTLP_ENDPOINT: 'http://c:4317', TRACEBRIDGE_UPSTREAM_OTLP_PROTOCOL: 'thrift' });
    assert.equal(bad.otlp.traces!.protocol, 'grpc');
    assert.match(bad.problems.join(), /TRACEBRIDGE_UPSTREAM_OTLP_PROTOCOL=thrift: not grpc, http\/protobuf or http\/json/);
  });

  it('parses OTEL_EXPORTER_OTLP_HEADERS as the SDKs do', () => {
    assert.deepEqual(parseOtlpHeaders(' A=1 , b=x%3Dy,broken, =v,c=%zz'), { a: '1', b: 'x=y', c: '%zz' });
  });

  it('embedded default without an exporter: every signal goes to the app destination, as the app sent it', () => {
    const cfg = defaults({ TRACEBRIDGE_UPSTREAM_OTLP_ENDPOINT: 'http://otel-collector.observability:4317', TRACEBRIDGE_UPSTREAM_OTLP_HEADERS: 'x-tenant=acme' });
    assert.deepEqual(cfg.exporters['otlp/upstream'], { endpoint: 'otel-collector.observability:4317', tls: { insecure: true }, headers: { 'x-tenant': 'acme' } });
    assert.deepEqual(cfg.service.pipelines.traces!.exporters, ['otlp/upstream']);
    assert.deepEqual(cfg.service.pipelines.metrics!.exporters, ['otlp/upstream']);
    assert.deepEqual(cfg.service.pipelines.logs!.exporters, ['otlp/upstream']);
    assert.ok(!('debug' in cfg.exporters));
    assert.match(cfg.reason, /traces: to the app's destination http:\/\/otel-collector\.observability:4317 over grpc \(from TRACEBRIDGE_UPSTREAM_OTLP_ENDPOINT, protocol from port 4317\)/);
  });

  it("embedded default with the operator's exporter: traces go there, metrics and logs still to the app's destination", () => {
    const cfg = defaults({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://xray.eu-west-1.amazonaws.com/v1/traces',
      TRACEBRIDGE_UPSTREAM_OTLP_ENDPOINT: 'https://collector.example:4318',
    });
    assert.deepEqual(cfg.service.pipelines.traces!.exporters, ['otlphttp']);
    assert.deepEqual(cfg.service.pipelines.metrics!.exporters, ['otlphttp/upstream']);
    assert.deepEqual(cfg.service.pipelines.logs!.exporters, ['otlphttp/upstream']);
    assert.equal(cfg.exporters['otlphttp/upstream']!.metrics_endpoint, 'https://collector.example:4318/v1/metrics');
    assert.deepEqual(cfg.extensions.sigv4auth, { region: 'eu-west-1', service: 'xray' });
  });

  it('signals with different protocols or headers get an exporter each', () => {
    const cfg = defaults({
      TRACEBRIDGE_UPSTREAM_OTLP_TRACES_ENDPOINT: 'http://tempo:4317',
      TRACEBRIDGE_UPSTREAM_OTLP_METRICS_ENDPOINT: 'http://mimir:9009/otlp/v1/metrics',
    });
    assert.deepEqual(cfg.service.pipelines.traces!.exporters, ['otlp/upstream_traces']);
    assert.deepEqual(cfg.service.pipelines.metrics!.exporters, ['otlphttp/upstream_metrics']);
    assert.equal(cfg.service.pipelines.logs, undefined, 'the app named no logs destination: none');
  });

  it("X-Ray SDK apps' central daemon: segments go back to it; OTLP spans to the app's OTLP destination", () => {
    const xrayOnly = defaults({ TRACEBRIDGE_UPSTREAM_XRAY_DAEMON_ADDRESS: 'xray-service.default:2000' });
    assert.deepEqual(xrayOnly.exporters['awsxray/upstream'], { transport: 'udp', daemon_address: 'xray-service.default:2000' });
    assert.deepEqual(xrayOnly.service.pipelines.traces!.exporters, ['awsxray/upstream']);
    assert.ok(xrayOnly.service.pipelines.traces!.receivers.includes('awsxray'));
    const receivers = (embeddedDefault({ TRACEBRIDGE_UPSTREAM_XRAY_DAEMON_ADDRESS: 'xray-service.default:2000' }, avail).config as { receivers: { awsxray: { proxy_server: unknown } } }).receivers;
    assert.deepEqual(receivers.awsxray.proxy_server, { endpoint: '127.0.0.1:2000', daemon_address: 'xray-service.default:2000' }, "the SDKs' sampling calls go on to that daemon");

    const both = defaults({ TRACEBRIDGE_UPSTREAM_XRAY_DAEMON_ADDRESS: 'udp:10.0.0.7:2000 tcp:10.0.0.7:2000', TRACEBRIDGE_UPSTREAM_OTLP_ENDPOINT: 'http://c:4318' });
    assert.deepEqual(both.service.pipelines.traces!.exporters, ['otlphttp/upstream']);
    assert.ok(!both.service.pipelines.traces!.receivers.includes('awsxray'));
    assert.deepEqual(both.service.pipelines['traces/xray'], { receivers: ['awsxray'], processors: ['memory_limiter', 'resourcedetection', 'tracecontext', 'batch'], exporters: ['awsxray/upstream'] });
  });

  it('an upstream pointing at the sidecar itself is ignored, and said', () => {
    const cfg = defaults({ TRACEBRIDGE_UPSTREAM_OTLP_ENDPOINT: 'http://127.0.0.1:4318' });
    assert.deepEqual(cfg.service.pipelines.traces!.exporters, ['debug']);
    assert.match(cfg.reason, /TRACEBRIDGE_UPSTREAM_OTLP_ENDPOINT=http:\/\/127\.0\.0\.1:4318\/v1\/traces points at the sidecar itself: ignored/);
  });

  it('with moved ports, 127.0.0.1:4317 is somebody else: handed over, not dropped as the sidecar itself', () => {
    const cfg = defaults({ TRACEBRIDGE_PORTS: 'otlp_grpc=14317,otlp_http=14318', TRACEBRIDGE_UPSTREAM_OTLP_ENDPOINT: 'http://localhost:4317' });
    assert.deepEqual(cfg.service.pipelines.traces!.exporters, ['otlp/upstream']);
    const self = defaults({ TRACEBRIDGE_PORTS: 'otlp_grpc=14317,otlp_http=14318', TRACEBRIDGE_UPSTREAM_OTLP_ENDPOINT: 'http://127.0.0.1:14318' });
    assert.deepEqual(self.service.pipelines.traces!.exporters, ['debug']);
  });

  it('an X-Ray daemon address no SDK could use is reported and ignored: the sidecar still starts', async () => {
    const { config, source } = await loadSidecarConfig([], { TRACEBRIDGE_UPSTREAM_XRAY_DAEMON_ADDRESS: 'http://xray-daemon:2000' });
    assert.ok(config.service.pipelines.length > 0);
    assert.match(source, /TRACEBRIDGE_UPSTREAM_XRAY_DAEMON_ADDRESS=http:\/\/xray-daemon:2000: not host:port or "udp:host:port tcp:host:port"; X-Ray segments have no upstream/);
  });

  it('logs no credentials from an endpoint', () => {
    const cfg = defaults({ TRACEBRIDGE_UPSTREAM_OTLP_ENDPOINT: 'https://user:s3cr3t@otlp.vendor.example:4318/otlp?api_key=abc' });
    assert.ok(!cfg.reason.includes('s3cr3t') && !cfg.reason.includes('api_key'), cfg.reason);
  });

  it("a mounted config (the shipped ConfigMap's) keeps its pipelines and gains metrics and logs pipelines to the app's destination", async () => {
    const shipped = parse(readFileSync(new URL('../../../mesh-configs/kubernetes/sidecar-configmap.yaml', import.meta.url), 'utf8')) as { data: Record<string, string> };
    const file = join(mkdtempSync(join(tmpdir(), 'tb-upstream-')), 'config.yaml');
    writeFileSync(file, shipped.data['config.yaml']!);
    const env = {
      TRACEBRIDGE_CONFIG: file,
      AWS_REGION: 'us-east-1',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://xray.us-east-1.amazonaws.com/v1/traces',
      TRACEBRIDGE_UPSTREAM_OTLP_ENDPOINT: 'http://otel-collector.observability:4317',
    };
    const { config, source } = await loadSidecarConfig([], env);
    const ids = config.service.pipelines.map((p) => p.id);
    assert.ok(ids.includes('metrics/upstream') && ids.includes('logs/upstream'), ids.join());
    assert.deepEqual(config.service.pipelines.find((p) => p.id === 'metrics/upstream')!.exporters, ['otlp/upstream']);
    assert.match(source, /\(\+ metrics: to the app's destination http:\/\/otel-collector\.observability:4317 over grpc/);
    // Without a handed-over destination the mounted config is used as it is.
    const plain = await loadSidecarConfig([], { ...env, TRACEBRIDGE_UPSTREAM_OTLP_ENDPOINT: undefined });
    assert.ok(!plain.config.service.pipelines.some((p) => p.id.endsWith('/upstream')));
  });
});
