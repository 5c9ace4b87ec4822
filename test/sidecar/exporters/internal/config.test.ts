// Exporter configs: the collector's defaults, errors with YAML paths, and the shapes the embedded
// default writes.
import assert from 'node:assert/strict';
import { embeddedDefault } from '../../../../sidecar/config/embedded-default.ts';
import { ConfigError, ConfigErrors } from '../../../../sidecar/config/schema.ts';
import { decodeSidecarConfig } from '../../../../sidecar/config/service-config.ts';
import { otlpExporterConfig, grpcTarget } from '../../../../sidecar/exporters/otlp/config.ts';
import { otlphttpExporterConfig, signalUrl } from '../../../../sidecar/exporters/otlphttp/config.ts';
import { deliveryRegistry } from '../../../support/delivery.ts';

function decode<T>(schema: { decode(v: unknown, p: string, e: ConfigErrors): T }, value: unknown, path: string): { cfg: T; errors: readonly string[] } {
  const errors = new ConfigErrors();
  const cfg = schema.decode(value, path, errors);
  return { cfg, errors: errors.list() };
}

describe('exporter configs', () => {
  it('default to the collector exporterhelper values, plus a 32 MiB byte bound', () => {
    const { cfg, errors } = decode(otlpExporterConfig, { endpoint: 'gateway:4317' }, 'exporters.otlp');
    assert.deepEqual(errors, []);
    assert.equal(cfg.timeout, 5000);
    assert.equal(cfg.compression, 'gzip');
    assert.deepEqual(cfg.sending_queue, { enabled: true, num_consumers: 10, queue_size: 1000, max_bytes: 32 * 1024 * 1024 });
    assert.deepEqual(cfg.retry_on_failure, { enabled: true, initial_interval: 5000, randomization_factor: 0.5, multiplier: 1.5, max_interval: 30_000, max_elapsed_time: 300_000 });
    const http = decode(otlphttpExporterConfig, { endpoint: 'https://gateway:4318' }, 'exporters.otlphttp');
    assert.deepEqual(http.errors, []);
    assert.equal(http.cfg.timeout, 30_000);
    assert.equal(http.cfg.encoding, 'proto');
    assert.equal(http.cfg.auth, undefined);
  });

  it('list every mistake with its YAML path', () => {
    const { errors } = decode(
      otlpExporterConfig,
      { endpoint: 'https://gateway:4317', tls: { insecure: true, cert_file: '/c.pem' }, compresion: 'gzip', sending_queue: { queue_size: 0 }, retry_on_failure: { max_elapsed_time: '1s' } },
      'exporters.otlp',
    );
    assert.deepEqual(errors, [
      'exporters.otlp.compresion: unknown key (known keys: endpoint, tls, headers, compression, timeout, sending_queue, retry_on_failure, max_request_spans, max_request_bytes)',
      'exporters.otlp.tls: cert_file and key_file go together',
      'exporters.otlp.sending_queue.queue_size: expected an integer >= 1, got 0',
      'exporters.otlp.retry_on_failure.max_elapsed_time: must not be less than initial_interval',
      'exporters.otlp.retry_on_failure.max_elapsed_time: must not be less than max_interval',
      'exporters.otlp.tls.insecure: contradicts the https:// endpoint',
    ]);
    assert.deepEqual(decode(otlphttpExporterConfig, { encoding: 'xml' }, 'exporters.otlphttp').errors, [
      'exporters.otlphttp.encoding: expected one of proto, json, got "xml"',
      'exporters.otlphttp.endpoint: required: set endpoint (base URL) or traces_endpoint / metrics_endpoint / logs_endpoint',
    ]);
  });

  it('otlp headers: a value gRPC cannot carry (a trailing newline from a secret file, CR/LF) or a bad name is a config error, not a header dropped on the wire', () => {
    const { errors } = decode(otlpExporterConfig, { endpoint: 'gateway:4317', headers: { 'x-api-key': 'k3y\n', 'x-tenant': 'a\r\nx-evil: 1', 'bad name': 'v', 'x-ok': 'fine value', 'trace-bin': 'any\nbytes' } }, 'exporters.otlp');
    assert.deepEqual(errors, [
      'exporters.otlp.headers.x-api-key: the value has characters gRPC metadata cannot carry (only printable ASCII; a trailing newline?)',
      'exporters.otlp.headers.x-tenant: the value has characters gRPC metadata cannot carry (only printable ASCII; a trailing newline?)',
      'exporters.otlp.headers.bad name: not a valid gRPC metadata name (letters, digits, "-", "_", ".")',
    ]);
  });

  it('derive the gRPC target and the per-signal URLs as the collector does', () => {
    const g = (endpoint: string, insecure = false) => grpcTarget(decode(otlpExporterConfig, { endpoint, tls: { insecure } }, 'x').cfg);
    assert.deepEqual(g('gateway:4317'), { target: 'gateway:4317', insecure: false });
    assert.deepEqual(g('gateway:4317', true), { target: 'gateway:4317', insecure: true });
    assert.deepEqual(g('http://gateway:4317'), { target: 'gateway:4317', insecure: true });
    assert.deepEqual(g('https://gateway:4317/'), { target: 'gateway:4317', insecure: false });
    const h = (v: Record<string, unknown>) => decode(otlphttpExporterConfig, v, 'x').cfg;
    assert.equal(signalUrl(h({ endpoint: 'https://g:4318' }), 'traces'), 'https://g:4318/v1/traces');
    assert.equal(signalUrl(h({ endpoint: 'https://g:4318/otlp/' }), 'logs'), 'https://g:4318/otlp/v1/logs');
    assert.equal(signalUrl(h({ endpoint: 'https://g:4318', traces_endpoint: 'https://xray.us-east-1.amazonaws.com/v1/traces' }), 'traces'), 'https://xray.us-east-1.amazonaws.com/v1/traces');
    assert.equal(signalUrl(h({ traces_endpoint: 'https://g/v1/traces' }), 'metrics'), undefined);
  });

  it('accept every config the embedded default writes', () => {
    const available = {
      receiver: new Set(deliveryRegistry.receiver.keys()),
      processor: new Set(deliveryRegistry.processor.keys()),
      exporter: new Set(deliveryRegistry.exporter.keys()),
    };
    const envs = [
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://gateway.observability:4318' },
      { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://xray.us-east-1.amazonaws.com/v1/traces' },
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://gateway.observability:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://gateway.observability:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
    ];
    for (const env of envs) {
      const def = embeddedDefault(env, available);
      try {
        const cfg = decodeSidecarConfig(def.config, deliveryRegistry);
        assert.ok(cfg.exporters.has('otlp') || cfg.exporters.has('otlphttp'), def.exporterReason);
        assert.ok(cfg.processors.has('memory_limiter') && cfg.processors.has('resourcedetection'));
      } catch (err) {
        assert.fail(`${JSON.stringify(env)}: ${err instanceof ConfigError ? err.message : String(err)}`);
      }
    }
  });
});
