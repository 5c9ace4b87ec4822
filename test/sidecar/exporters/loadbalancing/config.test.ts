// Config of the loadbalancing exporter: the collector's shape, its defaults, and every mistake
// reported at once with its YAML path.
import assert from 'node:assert/strict';
import { ConfigError } from '../../../../sidecar/config/schema.ts';
import { decodeSidecarConfig } from '../../../../sidecar/config/service-config.ts';
import type { LoadBalancingExporterConfig } from '../../../../sidecar/exporters/loadbalancing/config.ts';

function withExporter(lb: unknown): unknown {
  return {
    receivers: { otlp: { protocols: { grpc: null } } },
    exporters: { loadbalancing: lb },
    service: { pipelines: { traces: { receivers: ['otlp'], exporters: ['loadbalancing'] } } },
  };
}

function errorsOf(lb: unknown): string[] {
  try {
    decodeSidecarConfig(withExporter(lb));
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return [...err.errors];
  }
  assert.fail('expected a ConfigError');
}

const P = 'exporters.loadbalancing';

describe('loadbalancing exporter config', () => {
  it('accepts the collector README example and fills the defaults', () => {
    const cfg = decodeSidecarConfig(
      withExporter({
        protocol: { otlp: { tls: { insecure: true }, timeout: '2s' } },
        resolver: { dns: { hostname: 'gateway.observability.svc.cluster.local' } },
      }),
    );
    const lb = cfg.exporters.get('loadbalancing')!.config as LoadBalancingExporterConfig;
    assert.equal(lb.routing_key, 'traceID');
    assert.equal(lb.protocol.otlp.timeout, 2000);
    assert.equal(lb.protocol.otlp.tls.insecure, true);
    assert.equal(lb.protocol.otlp.compression, 'gzip');
    assert.deepEqual(lb.resolver.dns, { hostname: 'gateway.observability.svc.cluster.local', port: 4317, interval: 5000, timeout: 1000 });
    assert.equal(lb.resolver.static, undefined);
    assert.equal(lb.sending_queue.enabled, true);
  });

  it('accepts a static resolver with IPv6 and named backends', () => {
    const cfg = decodeSidecarConfig(withExporter({ resolver: { static: { hostnames: ['gw-0.gw:4317', '[fd00::1]:4317', '10.0.0.3:4317'] } } }));
    const lb = cfg.exporters.get('loadbalancing')!.config as LoadBalancingExporterConfig;
    assert.deepEqual(lb.resolver.static?.hostnames, ['gw-0.gw:4317', '[fd00::1]:4317', '10.0.0.3:4317']);
  });

  it('requires exactly one resolver, naming the path', () => {
    assert.deepEqual(errorsOf({}), [`${P}.resolver: exactly one of static, dns, k8s is required (got none)`]);
    assert.deepEqual(errorsOf({ resolver: { static: { hostnames: ['a:1'] }, dns: { hostname: 'gw' } } }), [`${P}.resolver: exactly one of static, dns, k8s is required (got static, dns)`]);
  });

  it('lists every mistake at once with its YAML path', () => {
    const errors = errorsOf({
      routing_key: 'spanID',
      protocol: { otlp: { endpoint: 'gw:4317', compression: 'lz4', sending_queue: { queue_size: 10 } } },
      resolver: { static: { hostnames: ['gw-0', 'gw-1:4317'] } },
      timeout: 'soon',
    });
    const expect = [
      `${P}.routing_key`,
      `${P}.protocol.otlp.endpoint: set per backend from the resolver`,
      `${P}.protocol.otlp.sending_queue: not supported per backend`,
      `${P}.protocol.otlp.compression`,
      `${P}.resolver.static.hostnames[0]: expected host:port`,
      `${P}.timeout`,
    ];
    for (const e of expect) assert.ok(errors.some((x) => x.startsWith(e)), `${e} in\n${errors.join('\n')}`);
    assert.equal(errors.length, expect.length, errors.join('\n'));
  });

  it('names missing resolver fields and bad dns settings', () => {
    const errors = errorsOf({ resolver: { dns: { port: 70000, interval: '1ms' } } });
    for (const e of [`${P}.resolver.dns.hostname: required`, `${P}.resolver.dns.port`, `${P}.resolver.dns.interval`]) {
      assert.ok(errors.some((x) => x.startsWith(e)), `${e} in\n${errors.join('\n')}`);
    }
    assert.deepEqual(errorsOf({ resolver: { static: {} } }), [`${P}.resolver.static.hostnames: required: at least one backend as host:port`]);
  });

  it('requires routing_attributes with routing_key attributes, and only then', () => {
    assert.match(errorsOf({ routing_key: 'attributes', resolver: { static: { hostnames: ['a:1'] } } })[0]!, /^exporters\.loadbalancing\.routing_attributes: required/);
    assert.match(errorsOf({ routing_attributes: ['tenant'], resolver: { static: { hostnames: ['a:1'] } } })[0]!, /^exporters\.loadbalancing\.routing_attributes: only used with routing_key attributes/);
  });

  it('checks the k8s resolver settings', () => {
    const errors = errorsOf({ resolver: { k8s: { service: 'Gateway_Svc', ports: [0] } } });
    assert.ok(errors.some((e) => e.startsWith(`${P}.resolver.k8s.service: expected name[.namespace]`)), errors.join('\n'));
    assert.ok(errors.some((e) => e.startsWith(`${P}.resolver.k8s.ports[0]`)), errors.join('\n'));
  });

  it('refuses the exporter in a metrics pipeline', () => {
    assert.throws(
      () =>
        decodeSidecarConfig({
          receivers: { otlp: { protocols: { grpc: null } } },
          exporters: { loadbalancing: { resolver: { static: { hostnames: ['a:1'] } } } },
          service: { pipelines: { metrics: { receivers: ['otlp'], exporters: ['loadbalancing'] } } },
        }),
      /loadbalancing/,
    );
  });
});
