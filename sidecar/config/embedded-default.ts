// The config the sidecar runs without --config. Receivers on loopback. Where data goes:
// - traces: the sidecar's own OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT when set (the injector sets it
//   from its `sidecar.exporter`: the operator's choice); else the app's own destination, handed over
//   by the injector as TRACEBRIDGE_UPSTREAM_* (upstream.ts); else the debug exporter prints one
//   line per span, so `npm start` shows spans arriving;
// - metrics and logs: unchanged to the app's own destination when there is one; else to the
//   sidecar's OTLP endpoint when it can take them; else they have no pipeline (404 / UNIMPLEMENTED).
import { xrayOtlpRegion } from '../aws/endpoints.ts';
import type { Env } from './load.ts';
import { parseDaemonAddress } from '../aws/daemon-address.ts';
import { parseOtlpEndpoint, readUpstream, redactUrl, SIGNALS, upstreamName, type Signal, type UpstreamSignal } from './upstream.ts';

export interface EmbeddedDefault {
  config: Record<string, unknown>;
  /** Why the exporter is what it is, for the start-up log. */
  exporterReason: string;
}

/** An endpoint that is the sidecar itself (its OTLP receivers bind 127.0.0.1): exporting there would loop. */
function pointsAtSelf(url: string, ports: readonly number[]): boolean {
  const m = /^(?:https?:\/\/)?(127\.0\.0\.1|localhost|\[?::1\]?|0\.0\.0\.0)(?::(\d+))?(?:\/|$)/i.exec(url);
  return m !== null && (m[2] === undefined || ports.includes(Number(m[2])));
}

function pickExporter(env: Env, self: readonly number[]): { id: string; config: Record<string, unknown>; reason: string; sigv4Region?: string } {
  const tracesEndpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const chosen = tracesEndpoint || endpoint;
  if (!chosen) return { id: 'debug', config: { verbosity: 'normal' }, reason: 'no OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT set: printing spans' };
  if (pointsAtSelf(chosen, self)) {
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
      config: { endpoint: grpcTarget(chosen), tls: { insecure } },
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

/** The embedded default's ports; the injector sets TRACEBRIDGE_PORTS when its `sidecar.ports` differ. */
export const DEFAULT_PORTS = { otlp_grpc: 4317, otlp_http: 4318, zipkin: 9411, xray: 2000, health: 13133, metrics: 8888 } as const;
type PortName = keyof typeof DEFAULT_PORTS;

/** TRACEBRIDGE_PORTS: `name=port` pairs, comma-separated (`otlp_grpc=14317,health=13134`). */
function embeddedPorts(env: Env, notes: string[]): Record<PortName, number> {
  const ports: Record<PortName, number> = { ...DEFAULT_PORTS };
  const text = env.TRACEBRIDGE_PORTS?.trim();
  if (!text) return ports;
  for (const pair of text.split(',')) {
    const [name, value] = pair.split('=').map((x) => x.trim());
    const port = Number(value);
    if (name === undefined || !(name in DEFAULT_PORTS) || !Number.isInteger(port) || port < 1 || port > 65535) {
      notes.push(`TRACEBRIDGE_PORTS: ignoring "${pair.trim()}" (expected name=port with name one of ${Object.keys(DEFAULT_PORTS).join(', ')})`);
      continue;
    }
    ports[name as PortName] = port;
  }
  return ports;
}

/** host:port of a gRPC endpoint (the path is no part of a gRPC target; the SDKs drop it too). */
function grpcTarget(url: string): string {
  const ep = parseOtlpEndpoint(url);
  if (ep === undefined) return url;
  return `${ep.host}:${ep.port ?? (ep.scheme === 'https' ? 443 : 80)}`;
}

interface Exporter {
  id: string;
  config: Record<string, unknown>;
  sigv4Region?: string;
}

/**
 * Exporters for the app's own destination: one per group of signals that share protocol,
 * headers and TLS (an OTLP/HTTP exporter takes a URL per signal; a gRPC one, one host).
 */
export function upstreamExporters(signals: readonly UpstreamSignal[]): { exporters: Exporter[]; bySignal: Map<Signal, Exporter> } {
  const groups = new Map<string, UpstreamSignal[]>();
  for (const s of signals) {
    const xray = s.signal === 'traces' && s.protocol !== 'grpc' ? xrayOtlpRegion(s.url) : undefined;
    const headers = Object.entries(s.headers).sort(([a], [b]) => a.localeCompare(b));
    const key = JSON.stringify([s.protocol === 'grpc' ? ['grpc', grpcTarget(s.url), s.insecure] : [s.protocol], headers, xray ?? '']);
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  const exporters: Exporter[] = [];
  const bySignal = new Map<Signal, Exporter>();
  for (const group of groups.values()) {
    const first = group[0]!;
    const suffix = groups.size === 1 ? 'upstream' : `upstream_${group.map((s) => s.signal).join('_')}`;
    const headers = Object.keys(first.headers).length > 0 ? { headers: first.headers } : {};
    let exporter: Exporter;
    if (first.protocol === 'grpc') {
      exporter = {
        id: `otlp/${suffix}`,
        config: { endpoint: grpcTarget(first.url), tls: { insecure: first.insecure }, ...headers },
      };
    } else {
      const config: Record<string, unknown> = { ...headers, ...(first.protocol === 'http/json' ? { encoding: 'json' } : {}) };
      for (const s of group) config[`${s.signal}_endpoint`] = s.url;
      const region = first.signal === 'traces' ? xrayOtlpRegion(first.url) : undefined;
      if (region !== undefined) config.auth = { authenticator: 'sigv4auth' };
      exporter = { id: `otlphttp/${suffix}`, config, ...(region !== undefined ? { sigv4Region: region } : {}) };
    }
    exporters.push(exporter);
    for (const s of group) bySignal.set(s.signal, exporter);
  }
  return { exporters, bySignal };
}

function describeUpstream(s: UpstreamSignal): string {
  return `the app's destination ${redactUrl(s.url)} over ${s.protocol} (from ${upstreamName(s.from)}, protocol from ${s.protocolFrom})`;
}

/**
 * @param available component types compiled into this build, so the default only names what
 * exists (`receivers`, `processors`, `exporters` by type).
 */
export function embeddedDefault(
  env: Env,
  available: { receiver: ReadonlySet<string>; processor: ReadonlySet<string>; exporter: ReadonlySet<string>; extension?: ReadonlySet<string> },
): EmbeddedDefault {
  const notes: string[] = [];
  const ports = embeddedPorts(env, notes);
  // Only the ports this sidecar binds are itself: with moved ports, 127.0.0.1:4317 is someone else.
  const self = [ports.otlp_grpc, ports.otlp_http];
  let cluster = pickExporter(env, self);
  if (!available.exporter.has(cluster.id)) {
    cluster = { id: 'debug', config: { verbosity: 'normal' }, reason: `exporter ${cluster.id} is not available in this build; printing spans` };
  }
  const clusterConfigured = cluster.id !== 'debug';

  // The app's own destination, minus anything pointing back at the sidecar.
  const upstream = readUpstream(env);
  notes.push(...upstream.problems);
  const upSignals = SIGNALS.map((s) => upstream.otlp[s]).filter((s): s is UpstreamSignal => {
    if (s === undefined) return false;
    if (!pointsAtSelf(s.url, self)) return true;
    notes.push(`${upstreamName(s.from)}=${redactUrl(s.url)} points at the sidecar itself: ignored`);
    return false;
  });
  const up = upstreamExporters(upSignals.filter((s) => available.exporter.has(s.protocol === 'grpc' ? 'otlp' : 'otlphttp')));
  // A daemon address is the sidecar itself only when both its UDP and TCP parts are.
  const daemonAddress = upstream.xrayDaemon === undefined ? undefined : parseDaemonAddress(upstream.xrayDaemon);
  const isSelf = (hp: { host: string; port: number }) => /^(?:127\.0\.0\.1|localhost|::1|\[::1\])$/i.test(hp.host) && hp.port === ports.xray;
  const daemon =
    daemonAddress !== undefined && available.exporter.has('awsxray') && !(isSelf(daemonAddress.udp) && isSelf(daemonAddress.tcp))
      ? { id: 'awsxray/upstream', config: { transport: 'udp', daemon_address: upstream.xrayDaemon } }
      : undefined;

  const receivers: Record<string, unknown> = {
    otlp: { protocols: { grpc: { endpoint: `127.0.0.1:${ports.otlp_grpc}` }, http: { endpoint: `127.0.0.1:${ports.otlp_http}` } } },
  };
  if (available.receiver.has('zipkin')) receivers.zipkin = { endpoint: `127.0.0.1:${ports.zipkin}` };
  if (available.receiver.has('awsxray')) {
    // X-Ray SDKs poll the daemon address for sampling rules: when the app named a daemon, its calls
    // go on to that daemon (which signs them), so the rules the app got do not change.
    const proxy: Record<string, unknown> = { endpoint: `127.0.0.1:${ports.xray}` };
    if (daemon !== undefined) proxy.daemon_address = daemon.config.daemon_address;
    receivers.awsxray = { endpoint: `127.0.0.1:${ports.xray}`, transport: 'udp', proxy_server: proxy };
  }
  const processors: Record<string, unknown> = {};
  if (available.processor.has('memory_limiter')) processors.memory_limiter = { check_interval: '1s', limit_percentage: 80, spike_limit_percentage: 20 };
  if (available.processor.has('resourcedetection')) processors.resourcedetection = { detectors: ['env'] };
  if (available.processor.has('tracecontext')) processors.tracecontext = { on_invalid: 'keep' };
  processors.batch = { send_batch_size: 8192, timeout: '200ms' };
  const metricsAddress = env.TRACEBRIDGE_METRICS_ADDRESS?.trim() || `127.0.0.1:${ports.metrics}`;

  const exporters: Record<string, unknown> = {};
  const use = (e: Exporter): string => {
    exporters[e.id] = e.config;
    return e.id;
  };
  const pipelines: Record<string, unknown> = {};
  const reasons: string[] = [];
  const processorIds = Object.keys(processors);
  const receiverIds = Object.keys(receivers);
  if (clusterConfigured) {
    // The operator's exporter takes every trace.
    pipelines.traces = { receivers: receiverIds, processors: processorIds, exporters: [use(cluster)] };
    reasons.push(`traces: ${cluster.reason}`);
  } else {
    // No exporter configured: each trace goes where the app sent it. X-Ray segments go to the app's
    // X-Ray daemon, OTLP (and the mesh proxy's Zipkin) spans to its OTLP destination; either takes
    // the other's share when the app named only one.
    const otlpTraces = up.bySignal.get('traces');
    const forOtlp = otlpTraces ?? daemon ?? cluster;
    const forXray = daemon ?? otlpTraces ?? cluster;
    const xrayReceivers = receiverIds.filter((r) => r === 'awsxray');
    const otherReceivers = receiverIds.filter((r) => r !== 'awsxray');
    if (forOtlp.id === forXray.id || xrayReceivers.length === 0) {
      pipelines.traces = { receivers: receiverIds, processors: processorIds, exporters: [use(forOtlp)] };
    } else {
      pipelines.traces = { receivers: otherReceivers, processors: processorIds, exporters: [use(forOtlp)] };
      pipelines['traces/xray'] = { receivers: xrayReceivers, processors: processorIds, exporters: [use(forXray)] };
    }
    const traces = upstream.otlp.traces;
    if (otlpTraces !== undefined && traces !== undefined) reasons.push(`traces: to ${describeUpstream(traces)}`);
    if (daemon !== undefined) reasons.push(`X-Ray segments${otlpTraces === undefined ? ' and other traces' : ''}: to the app's X-Ray daemon ${upstream.xrayDaemon} (from ${upstreamName('AWS_XRAY_DAEMON_ADDRESS')})`);
    if (otlpTraces === undefined && daemon === undefined) reasons.push(`traces: ${cluster.reason}`);
  }
  // Metrics and logs pass through unchanged (no processors): to the app's own destination, else to
  // the operator's exporter when it can take them. An otlphttp exporter given only a traces URL
  // (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, X-Ray's OTLP endpoint) has nowhere to send metrics and logs
  // and would refuse every SDK export of them with 400: without a pipeline the receiver answers
  // 404 / UNIMPLEMENTED for them, as a collector without such a pipeline does.
  const clusterPassThrough = clusterConfigured && !('traces_endpoint' in cluster.config);
  for (const signal of ['metrics', 'logs'] as const) {
    const target = up.bySignal.get(signal);
    const own = upstream.otlp[signal];
    if (target !== undefined && own !== undefined) {
      pipelines[signal] = { receivers: ['otlp'], exporters: [use(target)] };
      reasons.push(`${signal}: to ${describeUpstream(own)}`);
    } else if (clusterPassThrough) {
      pipelines[signal] = { receivers: ['otlp'], exporters: [use(cluster)] };
    }
  }

  const extensions: Record<string, unknown> = { health_check: { endpoint: `0.0.0.0:${ports.health}` } };
  const sigv4 = [cluster, ...up.exporters].find((e) => e.sigv4Region !== undefined && e.id in exporters);
  if (sigv4?.sigv4Region !== undefined) extensions.sigv4auth = { region: sigv4.sigv4Region, service: 'xray' };
  // The injector sets TRACEBRIDGE_HEADER_BRIDGE=true for pods annotated tracebridge.io/header-bridge.
  if (env.TRACEBRIDGE_HEADER_BRIDGE?.trim() === 'true' && available.extension?.has('header_bridge') === true) {
    extensions.header_bridge = { endpoint: '127.0.0.1:13128' };
  }
  return {
    exporterReason: [...reasons, ...notes].join('; '),
    config: {
      receivers,
      processors,
      exporters,
      extensions,
      service: {
        extensions: Object.keys(extensions),
        pipelines,
        telemetry: { logs: { level: env.TRACEBRIDGE_LOG_LEVEL?.trim() || 'info' }, metrics: { address: metricsAddress } },
      },
    },
  };
}

/**
 * A mounted config (the injector's `config_map`) is the operator's: its pipelines stay as they are.
 * But apps the injector took over send their metrics and logs to the sidecar now; a config with no
 * pipeline for them would refuse them (404 / UNIMPLEMENTED) where the app's own collector took
 * them. For each of metrics and logs with a handed-over destination and no pipeline of that type
 * in the config, a `<signal>/upstream` pipeline from its OTLP receivers to that destination is
 * added. Returns the config and what was added, for the start-up log.
 */
export function withUpstreamPassThrough(raw: unknown, env: Env, available: { exporter: ReadonlySet<string> }): { config: unknown; added: string[] } {
  if (raw === null || typeof raw !== 'object') return { config: raw, added: [] };
  const upstream = readUpstream(env);
  const cfg = raw as { receivers?: Record<string, unknown> | null; exporters?: Record<string, unknown> | null; service?: { pipelines?: Record<string, unknown> | null } | null };
  const otlpReceivers = Object.keys(cfg.receivers ?? {}).filter((id) => id.split('/')[0] === 'otlp');
  const pipelineTypes = new Set(Object.keys(cfg.service?.pipelines ?? {}).map((id) => id.split('/')[0]));
  const wanted = (['metrics', 'logs'] as const)
    .map((signal) => upstream.otlp[signal])
    .filter((u): u is UpstreamSignal => u !== undefined && !pipelineTypes.has(u.signal) && available.exporter.has(u.protocol === 'grpc' ? 'otlp' : 'otlphttp'));
  if (otlpReceivers.length === 0 || wanted.length === 0) return { config: raw, added: [] };
  const up = upstreamExporters(wanted);
  const exporters: Record<string, unknown> = { ...(cfg.exporters ?? {}) };
  const pipelines: Record<string, unknown> = { ...(cfg.service?.pipelines ?? {}) };
  const added: string[] = [];
  for (const u of wanted) {
    const e = up.bySignal.get(u.signal)!;
    const id = e.id in (cfg.exporters ?? {}) ? `${e.id}_tracebridge` : e.id;
    exporters[id] = e.config;
    pipelines[`${u.signal}/upstream`] = { receivers: otlpReceivers, exporters: [id] };
    added.push(`${u.signal}: to ${describeUpstream(u)}`);
  }
  return { config: { ...cfg, exporters, service: { ...(cfg.service ?? {}), pipelines } }, added };
}
