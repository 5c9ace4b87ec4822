import assert from 'node:assert/strict';
import { ConfigError, ConfigErrors } from '../../../../sidecar/config/schema.ts';
import { parseConfigText } from '../../../../sidecar/config/load.ts';
import { decodeSidecarConfig } from '../../../../sidecar/config/service-config.ts';
import { awsxrayExporterConfig, effectiveConfig } from '../../../../sidecar/exporters/awsxray/config.ts';
import { awsxrayExporterFactory } from '../../../../sidecar/exporters/awsxray/factory.ts';
import { testRegistry } from '../../../support/sink.ts';

const registry = { ...testRegistry, exporter: new Map([...testRegistry.exporter, ['awsxray', awsxrayExporterFactory]]) };

function decode(raw: unknown): { cfg: typeof awsxrayExporterConfig.defaultValue; errors: readonly string[] } {
  const errors = new ConfigErrors();
  const cfg = awsxrayExporterConfig.decode(raw, 'exporters.awsxray', errors);
  return { cfg, errors: errors.list() };
}

describe('awsxray exporter: config', () => {
  it('has the collector defaults', () => {
    const { cfg, errors } = decode(undefined);
    assert.deepStrictEqual(errors, []);
    assert.equal(cfg.transport, 'api');
    assert.equal(cfg.index_all_attributes, false);
    assert.deepStrictEqual(cfg.indexed_attributes, []);
    assert.deepStrictEqual(cfg.aws_log_groups, []);
    assert.equal(cfg.no_verify_ssl, false);
    assert.equal(cfg.local_mode, false);
    assert.equal(cfg.telemetry.enabled, false);
    assert.equal(cfg.timeout, 30_000);
    assert.equal(cfg.sending_queue.enabled, true);
    assert.equal(cfg.retry_on_failure.initial_interval, 5_000);
    assert.equal(cfg.original_trace_id_attribute, 'tracebridge.original_trace_id');
  });

  it('takes a collector awsxrayexporter block as written for the collector', () => {
    const yaml = `
receivers:
  otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } }
exporters:
  awsxray:
    region: eu-west-1
    endpoint: https://xray.eu-west-1.amazonaws.com
    role_arn: arn:aws:iam::123456789012:role/xray
    proxy_address: http://proxy.internal:3128
    no_verify_ssl: false
    local_mode: true
    resource_arn: arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc
    num_workers: 4
    request_timeout_seconds: 10
    max_retries: 1
    indexed_attributes: [http.route, tenant]
    index_all_attributes: false
    aws_log_groups: [app-logs]
    telemetry: { enabled: false, include_metadata: true }
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [awsxray] }
`;
    const cfg = decodeSidecarConfig(parseConfigText(yaml, 'x.yaml'), registry);
    const x = cfg.exporters.get('awsxray')!.config as typeof awsxrayExporterConfig.defaultValue;
    assert.equal(x.region, 'eu-west-1');
    assert.deepStrictEqual(x.indexed_attributes, ['http.route', 'tenant']);
    const eff = effectiveConfig(x);
    assert.equal(eff.sending_queue.num_consumers, 4, 'num_workers is the number of concurrent senders');
    assert.equal(eff.timeout, 10_000, 'request_timeout_seconds is the attempt timeout');
  });

  it('lists every mistake with its path', () => {
    const { errors } = decode({ transport: 'udp', region: 'eu-west-1', daemon_address: 'nowhere', indexed_atributes: ['x'], proxy_address: 'not a url' });
    assert.ok(errors.some((e) => e.startsWith('exporters.awsxray.indexed_atributes: unknown key')));
    assert.ok(errors.some((e) => e.startsWith('exporters.awsxray.daemon_address: expected')));
    assert.ok(errors.some((e) => e.startsWith('exporters.awsxray.region: applies to transport api only')));
    assert.ok(errors.some((e) => e.startsWith('exporters.awsxray.proxy_address: expected')));
    assert.ok(decode({ daemon_address: '127.0.0.1:2000' }).errors.some((e) => e === 'exporters.awsxray.daemon_address: applies to transport udp only'));
  });

  it('rejects an unknown awsxray key in a whole sidecar config', () => {
    const yaml = `
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } } }
exporters: { awsxray: { regoin: eu-west-1 } }
service: { pipelines: { traces: { receivers: [otlp], exporters: [awsxray] } } }
`;
    assert.throws(() => decodeSidecarConfig(parseConfigText(yaml, 'x.yaml'), registry), (e: unknown) => e instanceof ConfigError && e.errors.some((m) => m.startsWith('exporters.awsxray.regoin')));
  });
});
