// The awsxray receiver takes the collector's config (including its README example) and the
// embedded default's block; mistakes are reported with their YAML paths.
import assert from 'node:assert/strict';
import { embeddedDefault } from '../../../../sidecar/config/embedded-default.ts';
import { parseConfigText } from '../../../../sidecar/config/load.ts';
import { ConfigError, decodeOrThrow } from '../../../../sidecar/config/schema.ts';
import { decodeSidecarConfig } from '../../../../sidecar/config/service-config.ts';
import { awsXrayReceiverConfig, type AwsXrayReceiverConfig } from '../../../../sidecar/receivers/awsxray/config.ts';
import { registry } from './service.ts';

function decode(yaml: string): AwsXrayReceiverConfig {
  return decodeOrThrow(awsXrayReceiverConfig, parseConfigText(yaml, 'test.yaml'), 'receivers.awsxray');
}

function errorsOf(yaml: string): readonly string[] {
  try {
    decode(yaml);
  } catch (err) {
    if (err instanceof ConfigError) return err.errors;
    throw err;
  }
  return [];
}

describe('awsxray receiver config', () => {
  it('defaults to the daemon port on loopback, UDP and TCP, with the sampling proxy on', () => {
    const cfg = decode('{}');
    assert.equal(cfg.endpoint, '127.0.0.1:2000');
    assert.equal(cfg.transport, 'udp');
    assert.deepEqual(cfg.proxy_server, {
      endpoint: '127.0.0.1:2000',
      proxy_address: '',
      tls: { insecure: false, server_name_override: '', ca_file: '' },
      region: '',
      role_arn: '',
      aws_endpoint: '',
      local_mode: false,
      service_name: 'xray',
      imds_retries: 1,
      daemon_address: '',
    });
  });

  it("accepts the collector README's example", () => {
    const cfg = decode(`
endpoint: 0.0.0.0:2000
transport: udp
proxy_server:
  endpoint: 0.0.0.0:2000
  proxy_address: ""
  tls:
    insecure: false
    server_name_override: ""
  region: ""
  role_arn: ""
  aws_endpoint: ""
  local_mode: false
`);
    assert.equal(cfg.proxy_server.endpoint, '0.0.0.0:2000');
  });

  it('reports every mistake with its path', () => {
    const errors = errorsOf(`
transport: tcp
endpoint: localhost
proxy_server:
  region: us-east-1
  aws_endpoint: xray.local
  locl_mode: true
  daemon_address: "udp:a:1 udp:b:2"
`);
    assert.deepEqual(errors.map((e) => e.split(':')[0]), [
      'receivers.awsxray.endpoint',
      'receivers.awsxray.transport',
      'receivers.awsxray.proxy_server.locl_mode',
      'receivers.awsxray.proxy_server.aws_endpoint',
      'receivers.awsxray.proxy_server.daemon_address',
    ]);
    assert.match(errors.join('\n'), /transport: expected one of udp, got "tcp"/);
    assert.match(errors.join('\n'), /unknown key \(known keys: endpoint, proxy_address, tls, region, role_arn, aws_endpoint, local_mode, service_name, imds_retries, daemon_address\)/);
  });

  it("keeps the embedded default's awsxray block valid", () => {
    const available = {
      receiver: new Set(registry.receiver.keys()),
      processor: new Set(registry.processor.keys()),
      exporter: new Set(registry.exporter.keys()),
    };
    const def = embeddedDefault({}, available);
    const receivers = def.config.receivers as Record<string, unknown>;
    assert.deepEqual(receivers.awsxray, { endpoint: '127.0.0.1:2000', transport: 'udp', proxy_server: { endpoint: '127.0.0.1:2000' } });
    const cfg = decodeSidecarConfig(def.config, registry);
    const awsxray = cfg.receivers.get('awsxray')!.config as AwsXrayReceiverConfig;
    assert.equal(awsxray.proxy_server.endpoint, '127.0.0.1:2000');
    assert.ok(cfg.service.pipelines.find((p) => p.signal === 'traces')!.receivers.includes('awsxray'));
  });
});
