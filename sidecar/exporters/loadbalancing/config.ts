// Config of the `loadbalancing` exporter, in the collector's shape (loadbalancingexporter):
// routing_key, protocol.otlp (the otlp exporter's settings used for every backend, the endpoint
// filled in per backend), exactly one resolver, and the top-level timeout / sending_queue /
// retry_on_failure. Queueing and retrying happen only at the top, before routing, so data waiting
// for a backend that goes away is routed again to the trace's new owner instead of being dropped
// with that backend's queue (the collector's per-backend queues lose it): per-backend
// sending_queue / retry_on_failure are therefore refused.
import { bool, duration, int, list, object, oneOf, presence, string, withDefault, type Schema } from '../../config/schema.ts';
import { retryOnFailureConfig, sendingQueueConfig, timeoutConfig } from '../internal/config.ts';
import { otlpExporterConfig, type OtlpExporterConfig } from '../otlp/config.ts';

const HOST_PORT = /^(?:\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+):\d{1,5}$/;

/** The otlp exporter's settings without an endpoint (each backend's is filled in) and without a queue of its own. */
const perBackendOtlp: Schema<OtlpExporterConfig> = {
  expected: 'a map',
  decode(value, path, errors) {
    const raw = value === undefined || value === null ? {} : value;
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      errors.add(path, 'expected a map (the otlp exporter settings used for every backend)');
      return undefined;
    }
    const given = raw as Record<string, unknown>;
    if ('endpoint' in given) errors.add(`${path}.endpoint`, 'set per backend from the resolver; remove it');
    for (const k of ['sending_queue', 'retry_on_failure'] as const) {
      if (k in given) errors.add(`${path}.${k}`, `not supported per backend: data is queued and retried before routing, set loadbalancing.${k} instead`);
    }
    const { endpoint: _e, sending_queue: _q, retry_on_failure: _r, ...rest } = given;
    // Decoded with a placeholder endpoint so the otlp schema checks everything else.
    const cfg = otlpExporterConfig.decode({ ...rest, endpoint: 'backend:4317' }, path, errors);
    return { ...cfg, sending_queue: { ...cfg.sending_queue, enabled: false } };
  },
};

const staticResolver = object(
  {
    /** Backends as host:port. */
    hostnames: withDefault(list(string({ nonEmpty: true, pattern: HOST_PORT, patternHint: 'host:port' })), []),
  },
  {
    check(cfg, p, errors) {
      if (cfg.hostnames.length === 0) errors.add(`${p}.hostnames`, 'required: at least one backend as host:port');
    },
  },
);

const dnsResolver = object(
  {
    /** Name whose A and AAAA records are the backends (a headless Service). */
    hostname: string({ nonEmpty: true, pattern: /^[^\s:/]+$/, patternHint: 'a DNS name' }),
    port: withDefault(int({ min: 1, max: 65535 }), 4317),
    /** Time between resolutions. */
    interval: withDefault(duration({ min: 100 }), 5_000),
    /** Time limit of one resolution. */
    timeout: withDefault(duration({ min: 10 }), 1_000),
  },
  {
    check(cfg, p, errors) {
      if (cfg.hostname === undefined) errors.add(`${p}.hostname`, 'required: the DNS name listing the backends');
    },
  },
);

const k8sResolver = object(
  {
    /** The Service whose EndpointSlices list the backends, as name[.namespace]. */
    service: string({ nonEmpty: true, pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)?$/, patternHint: 'name[.namespace]' }),
    ports: withDefault(list(int({ min: 1, max: 65535 })), [4317]),
    timeout: withDefault(duration({ min: 10 }), 1_000),
    /** Backends by pod hostname instead of IP (needs a headless Service with hostnames). */
    return_hostnames: withDefault(bool(), false),
  },
  {
    check(cfg, p, errors) {
      if (cfg.service === undefined) errors.add(`${p}.service`, 'required: the Service as name[.namespace]');
      if (cfg.ports.length === 0) errors.add(`${p}.ports`, 'at least one port');
    },
  },
);

const resolverConfig = object(
  {
    static: presence(staticResolver),
    dns: presence(dnsResolver),
    k8s: presence(k8sResolver),
  },
  {
    check(cfg, p, errors) {
      const set = (['static', 'dns', 'k8s'] as const).filter((k) => cfg[k] !== undefined);
      if (set.length !== 1) errors.add(p, `exactly one of static, dns, k8s is required (got ${set.length === 0 ? 'none' : set.join(', ')})`);
    },
  },
);

export const loadBalancingExporterConfig = object(
  {
    routing_key: withDefault(oneOf(['traceID', 'service', 'resource', 'attributes']), 'traceID'),
    /** With routing_key attributes: the attributes whose values route (span first, then resource). */
    routing_attributes: withDefault(list(string({ nonEmpty: true })), []),
    protocol: withDefault(object({ otlp: withDefault(perBackendOtlp, otlpExporterConfig.defaultValue) }), { otlp: otlpExporterConfig.defaultValue }),
    resolver: resolverConfig,
    /** Time limit of one attempt: routing the batch and sending every part. */
    timeout: timeoutConfig(10_000),
    sending_queue: sendingQueueConfig,
    retry_on_failure: retryOnFailureConfig,
  },
  {
    check(cfg, p, errors) {
      if (cfg.routing_key === 'attributes' && cfg.routing_attributes.length === 0) {
        errors.add(`${p}.routing_attributes`, 'required with routing_key attributes: the attribute names to route by');
      }
      if (cfg.routing_key !== 'attributes' && cfg.routing_attributes.length > 0) {
        errors.add(`${p}.routing_attributes`, `only used with routing_key attributes (routing_key is ${cfg.routing_key})`);
      }
      if (!cfg.sending_queue.enabled) {
        errors.add(`${p}.sending_queue.enabled`, 'must stay on: the queue before routing is where data waits while backends change');
      }
    },
  },
);

export type LoadBalancingExporterConfig = typeof loadBalancingExporterConfig.defaultValue;
export type DnsResolverConfig = NonNullable<LoadBalancingExporterConfig['resolver']['dns']>;
export type K8sResolverConfig = NonNullable<LoadBalancingExporterConfig['resolver']['k8s']>;
