// The config the sidecar runs without --config. Receivers on loopback; the exporter
// follows the sidecar's own OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT when set (the injector sets it),
// else the debug exporter prints one line per span so `npm start` shows spans arriving.
import { xrayOtlpRegion } from '../aws/endpoints.ts';
import type { Env } from './load.ts';

export interface EmbeddedDefault {
  config: Record<string, unknown>;
  /** Why the exporter is what it is, for the start-up log. */
  exporterReason: string;
}

const SELF = /^(?:https?:\/\/)?(?:127\.\d+\.\d+\.\d+|localhost|\[?::1\]?|0\.0\.0\.0)(?::(4317|4318))?(?:\/|$)/i;

function pickExporter(env: Env): { id: string; config: Record<string, unknown>; reason: string; sigv4Region?: string } {
  const tracesEndpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const chosen = tracesEndpoint || endpoint;
  if (!chosen) return { id: 'debug', config: { verbosity: 'normal' }, reason: 'no OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT set: printing spans' };
  if (SELF.test(chosen)) {
    return {
      id: 'debug',
      config: { verbosity: 'normal' },
      reason: `ignoring OTLP endpoint ${chosen}: it points at the sidecar itself; printing spans`,
    };
  }
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf').trim();
  if (protocol === 'grpc') {
    const insecure = chosen.startsWith('http://');
    return {
      id: 'otlp',
      config: { endpoint: chosen.replace(/^https?:\/\//, ''), tls: { insecure } },
      reason: `exporting OTLP/gRPC to ${chosen}`,
    };
  }
  // The signal-specific variable is a full URL; the generic one gets /v1/traces appended (OTel spec).
  const config: Record<string, unknown> = tracesEndpoint ? { traces_endpoint: chosen } : { endpoint: chosen };
  // X-Ray's OTLP endpoint only takes SigV4-signed requests: sign with the pod's AWS
  // credentials (EKS Pod Identity, IRSA), region and service read from the host.
  const region = xrayOtlpRegion(chosen);
  if (region !== undefined) {
    config.auth = { authenticator: 'sigv4auth' };
    return { id: 'otlphttp', config, sigv4Region: region, reason: `exporting OTLP/HTTP to ${chosen}, SigV4-signed for X-Ray in ${region}` };
  }
  return { id: 'otlphttp', config, reason: `exporting OTLP/HTTP to ${chosen}` };
}

/**
 * @param available component types compiled into this build, so the default only names what
 * exists (`receivers`, `processors`, `exporters` by type).
 */
export function embeddedDefault(
  env: Env,
  available: { receiver: ReadonlySet<string>; processor: ReadonlySet<string>; exporter: ReadonlySet<string>; extension?: ReadonlySet<string> },
): EmbeddedDefault {
  let exporter = pickExporter(env);
  if (!available.exporter.has(exporter.id)) {
    exporter = { id: 'debug', config: { verbosity: 'normal' }, reason: `exporter ${exporter.id} is not available in this build; printing spans` };
  }
  const receivers: Record<string, unknown> = {
    otlp: { protocols: { grpc: { endpoint: '127.0.0.1:4317' }, http: { endpoint: '127.0.0.1:4318' } } },
  };
  if (available.receiver.has('zipkin')) receivers.zipkin = { endpoint: '127.0.0.1:9411' };
  if (available.receiver.has('awsxray')) {
    receivers.awsxray = { endpoint: '127.0.0.1:2000', transport: 'udp', proxy_server: { endpoint: '127.0.0.1:2000' } };
  }
  const processors: Record<string, unknown> = {};
  if (available.processor.has('memory_limiter')) processors.memory_limiter = { check_interval: '1s', limit_percentage: 80, spike_limit_percentage: 20 };
  if (available.processor.has('resourcedetection')) processors.resourcedetection = { detectors: ['env'] };
  if (available.processor.has('tracecontext')) processors.tracecontext = { on_invalid: 'keep' };
  processors.batch = { send_batch_size: 8192, timeout: '200ms' };
  const metricsAddress = env.TRACEBRIDGE_METRICS_ADDRESS?.trim() || '127.0.0.1:8888';
  // No pipeline whose exporter could not take its signal: an otlphttp exporter given only a traces
  // URL (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, X-Ray's OTLP endpoint) has nowhere to send metrics and
  // logs, and would refuse every SDK export of them with 400. Without those pipelines the receiver
  // answers 404 / UNIMPLEMENTED for them, as a collector without such a pipeline does.
  const otlpPassThrough = exporter.id !== 'debug' && !('traces_endpoint' in exporter.config);
  const pipelines: Record<string, unknown> = {
    traces: { receivers: Object.keys(receivers), processors: Object.keys(processors), exporters: [exporter.id] },
  };
  if (otlpPassThrough) {
    // SDK defaults send metrics and logs to the same ports: pass them on so nothing is lost.
    pipelines.metrics = { receivers: ['otlp'], exporters: [exporter.id] };
    pipelines.logs = { receivers: ['otlp'], exporters: [exporter.id] };
  }
  const extensions: Record<string, unknown> = { health_check: { endpoint: '0.0.0.0:13133' } };
  if (exporter.sigv4Region !== undefined) extensions.sigv4auth = { region: exporter.sigv4Region, service: 'xray' };
  // The injector sets TRACEBRIDGE_HEADER_BRIDGE=true for pods annotated tracebridge.io/header-bridge.
  if (env.TRACEBRIDGE_HEADER_BRIDGE?.trim() === 'true' && available.extension?.has('header_bridge') === true) {
    extensions.header_bridge = { endpoint: '127.0.0.1:13128' };
  }
  return {
    exporterReason: exporter.reason,
    config: {
      receivers,
      processors,
      exporters: { [exporter.id]: exporter.config },
      extensions,
      service: {
        extensions: Object.keys(extensions),
        pipelines,
        telemetry: { logs: { level: env.TRACEBRIDGE_LOG_LEVEL?.trim() || 'info' }, metrics: { address: metricsAddress } },
      },
    },
  };
}
