import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../sidecar/config/schema.ts';
import { configWarnings, decodeInjectorConfig, loadInjectorConfig } from '../../injector/config.ts';

function errorsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.errors;
  }
  assert.fail('expected a ConfigError');
}

describe('injector config', () => {
  it('decodes the DESIGN example with its defaults', () => {
    const cfg = decodeInjectorConfig(
      {
        endpoint: '0.0.0.0:8443',
        tls: { cert_file: '/tls/tls.crt', key_file: '/tls/tls.key', min_version: 'TLSv1.2' },
        sidecar: {
          image: 'ghcr.io/example/tracebridge:0.1.0',
          native: 'auto',
          config_map: 'tracebridge-sidecar',
          exporter: { traces_endpoint: 'https://xray.us-east-1.amazonaws.com/v1/traces', region: 'us-east-1' },
          resources: { requests: { cpu: '10m', memory: '128Mi' }, limits: { memory: '320Mi' } },
        },
        policy: { auto: true },
      },
      { requireTls: true },
    );
    assert.equal(cfg.sidecar.native, 'auto');
    assert.deepEqual(cfg.sidecar.ports, { otlp_grpc: 4317, otlp_http: 4318, zipkin: 9411, xray: 2000, health: 13133, metrics: 8888, header_bridge: 13128 });
    assert.deepEqual(cfg.sidecar.header_bridge, { cluster_domain: 'cluster.local', node_use_env_proxy: true });
    assert.equal(cfg.sidecar.exporter.protocol, 'http/protobuf');
    assert.equal(cfg.tls.reload_interval, 10_000);
    assert.equal(cfg.kubernetes.namespace_cache_ttl, 30_000);
    assert.deepEqual(cfg.policy.skip_namespaces, ['kube-system', 'kube-public', 'kube-node-lease', 'istio-system', 'linkerd', 'linkerd-viz', 'cert-manager', 'tracebridge']);
    assert.equal(cfg.max_request_body, 3 * 1024 * 1024);
  });

  it('accepts native: true/false as YAML booleans', () => {
    assert.equal(decodeInjectorConfig({ sidecar: { image: 'i', native: true } }, { requireTls: false }).sidecar.native, 'true');
    assert.equal(decodeInjectorConfig({ sidecar: { image: 'i', native: false } }, { requireTls: false }).sidecar.native, 'false');
  });

  it('lists every error with its YAML path in one round', () => {
    const errors = errorsOf(() =>
      decodeInjectorConfig(
        {
          endpoint: 'nope',
          tls: { min_version: 'TLSv1.1' },
          sidecar: {
            imag: 'typo',
            native: 'sometimes',
            resources: { requests: { cpu: 'ten' } },
            ports: { health: 15021, metrics: 4317 },
            exporter: { traces_endpoint: 'http://127.0.0.1:4318/v1/traces' },
            env: { 'BAD-NAME': 'x' },
          },
          policy: { auto: 'yes' },
        },
        { requireTls: true },
      ),
    );
    const want = [
      'endpoint:',
      'tls.min_version:',
      'sidecar.imag: unknown key',
      'sidecar.image: required',
      'sidecar.native:',
      'sidecar.resources.requests.cpu:',
      'sidecar.ports.health: port 15021 is in the mesh proxy range Istio',
      'sidecar.ports.metrics: port 4317 is also used by otlp_grpc',
      'sidecar.exporter.traces_endpoint: must not point at the pod itself',
      'sidecar.env.BAD-NAME:',
      'policy.auto:',
      'tls.cert_file: required',
      'tls.key_file: required',
    ];
    for (const w of want) assert.ok(errors.some((e) => e.startsWith(w)), `missing "${w}" in:\n${errors.join('\n')}`);
  });

  it('refuses sidecar resources whose request is above the limit, which Kubernetes would refuse in every injected pod', () => {
    const decode = (resources: unknown) => decodeInjectorConfig({ sidecar: { image: 'i', resources } }, { requireTls: false });
    const errors = errorsOf(() => decode({ requests: { cpu: '500m', memory: '256Mi' }, limits: { cpu: '0.25', memory: '192Mi' } }));
    assert.ok(
      errors.some((e) => e.startsWith('sidecar.resources.requests.memory: 256Mi is above sidecar.resources.limits.memory (192Mi)')),
      errors.join('\n'),
    );
    assert.ok(errors.some((e) => e.startsWith('sidecar.resources.requests.cpu: 500m is above sidecar.resources.limits.cpu (0.25)')), errors.join('\n'));
    // Equal, in other units, or one side alone: Kubernetes takes these.
    assert.doesNotThrow(() => decode({ requests: { cpu: '250m', memory: '0.25Gi' }, limits: { cpu: '0.25', memory: '256Mi' } }));
    assert.doesNotThrow(() => decode({ requests: { memory: '1Gi' } }));
    assert.doesNotThrow(() => decode({ limits: { memory: '96Mi' } }));
    assert.doesNotThrow(() => decode({ requests: { memory: '128M' }, limits: { memory: '128Mi' } }));
    // Equal in other units, which doubles do not always find equal (0.268 × 1e9 ≠ 268 × 1e6).
    assert.doesNotThrow(() => decode({ requests: { memory: '0.268G', cpu: '0.0001' }, limits: { memory: '268M', cpu: '100u' } }));
    assert.doesNotThrow(() => decode({ requests: { memory: '1E3' }, limits: { memory: '1k' } }));
    assert.doesNotThrow(() => decode({ requests: { memory: '1E' }, limits: { memory: '1000P' } }), '1E is exa, not an exponent');
    assert.ok(errorsOf(() => decode({ requests: { memory: '1.0000000001E' }, limits: { memory: '1000P' } }))[0]!.startsWith('sidecar.resources.requests.memory:'));
    const negative = errorsOf(() => decode({ limits: { memory: '-1Gi' } }));
    assert.ok(negative.some((e) => e.startsWith('sidecar.resources.limits.memory:')), negative.join('\n'));
  });

  it('warns when the sidecar memory limit leaves its memory_limiter no room for data', () => {
    const warnings = (resources: unknown) => configWarnings(decodeInjectorConfig({ sidecar: { image: 'i', resources } }, { requireTls: false }));
    const small = warnings({ limits: { memory: '96Mi' } });
    assert.equal(small.length, 1, small.join('\n'));
    assert.match(small[0]!, /^sidecar\.resources\.limits\.memory: 96Mi is below 136Mi/);
    assert.match(small[0]!, /memory_limiter/);
    assert.equal(warnings({ limits: { memory: '128Mi' } }).length, 1, "below what the sidecar's own start-up check asks for (~131 MiB)");
    assert.deepEqual(warnings({ limits: { memory: '136Mi' } }), []);
    assert.deepEqual(warnings({ requests: { memory: '64Mi' } }), [], 'no limit in the config (a LimitRange may still set one, which is not known here)');
    assert.deepEqual(configWarnings(decodeInjectorConfig({ sidecar: { image: 'i' } }, { requireTls: false })), [], 'the default 320Mi');
  });

  it('needs no key pair for the offline command', () => {
    assert.doesNotThrow(() => decodeInjectorConfig({ sidecar: { image: 'i' } }, { requireTls: false }));
  });

  it('loads YAML with ${env:...} expansion', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tb-injector-config-'));
    const file = join(dir, 'injector.yaml');
    writeFileSync(
      file,
      'tls: { cert_file: /tls/tls.crt, key_file: /tls/tls.key }\nsidecar:\n  image: ${env:SIDECAR_IMAGE}\n  exporter: { region: "${env:AWS_REGION:-eu-west-1}" }\n',
    );
    const cfg = loadInjectorConfig(file, { requireTls: true }, { SIDECAR_IMAGE: 'ghcr.io/x/tb:1' });
    assert.equal(cfg.sidecar.image, 'ghcr.io/x/tb:1');
    assert.equal(cfg.sidecar.exporter.region, 'eu-west-1');
    const errors = errorsOf(() => loadInjectorConfig(file, { requireTls: true }, {}));
    assert.ok(errors.some((e) => e.includes('SIDECAR_IMAGE is not set')), errors.join('\n'));
  });
});
