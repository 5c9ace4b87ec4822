// Whether something in the pod already binds a port the sidecar needs. Declared container ports
// are the obvious sign, but many workloads declare none: tracing backends and collectors are
// often deployed with only probes, a Prometheus annotation or a Service naming the port. Each of
// these counts, and so does an image known to bind the sidecar's ports (an X-Ray daemon, a
// collector, Zipkin, Jaeger). A conflict means no injection: the sidecar's receiver, or the
// app's own listener, would fail to bind.
import { allContainers, isRecord, portList, stringMap, type Container, type Pod } from './pod.ts';
import type { SidecarPort } from './sidecar-ports.ts';

/** One port of a Service in the same manifest (offline `inject` only: the webhook sees no Services). */
export interface ServicePortHint {
  service: string;
  namespace: string;
  /** The Service's selector: it routes to pods whose labels hold all of these. */
  selector: Record<string, string>;
  /** A number, or a container port name resolved in the selected pod. */
  targetPort: number | string;
  protocol: string;
}

/**
 * The ports of every Service (top level or in a `List`) that selects pods by labels.
 * `defaultNamespace`: the namespace of Services that name none (kubectl's current namespace).
 * A Service's `targetPort` defaults to its `port`, as Kubernetes fills it in.
 */
export function servicePortHints(objects: readonly unknown[], defaultNamespace: string): ServicePortHint[] {
  const out: ServicePortHint[] = [];
  const visit = (o: unknown): void => {
    if (!isRecord(o)) return;
    if (o.kind === 'List' && Array.isArray(o.items)) {
      o.items.forEach(visit);
      return;
    }
    if (o.kind !== 'Service' || !isRecord(o.spec)) return;
    const selector = stringMap(o.spec.selector);
    // No selector: the endpoints are managed by hand and name no pod.
    if (Object.keys(selector).length === 0 || !Array.isArray(o.spec.ports)) return;
    const meta = isRecord(o.metadata) ? o.metadata : {};
    const service = typeof meta.name === 'string' ? meta.name : '(unnamed)';
    const namespace = typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : defaultNamespace;
    for (const p of o.spec.ports) {
      if (!isRecord(p)) continue;
      const target = p.targetPort ?? p.port;
      if (!(typeof target === 'number' || (typeof target === 'string' && target !== ''))) continue;
      out.push({ service, namespace, selector, targetPort: target, protocol: typeof p.protocol === 'string' ? p.protocol : 'TCP' });
    }
  };
  objects.forEach(visit);
  return out;
}

// Images that bind the sidecar's ports themselves, whether or not their pods declare them: an
// X-Ray daemon, a collector, a Zipkin server (9411), Jaeger (OTLP 4317/4318; v2 also 13133 and 8888).
const SPAN_DAEMON_IMAGES =
  /(?:^|\/)(?:aws-xray-daemon|xray-daemon|aws-otel-collector|opentelemetry-collector(?:-contrib|-k8s)?|otelcol(?:-contrib|-k8s)?|openzipkin\/zipkin(?:-slim)?|jaegertracing\/(?:all-in-one|jaeger))(?:[:@]|$)/;

const PROBES = ['startupProbe', 'livenessProbe', 'readinessProbe'] as const;
const PROMETHEUS_PORT = 'prometheus.io/port';

/** A port number, or a name (or numeric text) resolved through the container's declared ports. */
function resolvePort(value: unknown, containers: readonly Container[]): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  if (typeof value !== 'string' || value === '') return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  for (const c of containers) {
    const named = portList(c).find((p) => p.name === value);
    if (named !== undefined) return named.containerPort;
  }
  return undefined;
}

/** Ports the container's probes check (httpGet, tcpSocket, grpc): the container serves them. */
function probedPorts(c: Container): { port: number; probe: string }[] {
  const out: { port: number; probe: string }[] = [];
  for (const probe of PROBES) {
    const p = c[probe];
    if (!isRecord(p)) continue;
    for (const handler of ['httpGet', 'tcpSocket', 'grpc'] as const) {
      const h = p[handler];
      const port = isRecord(h) ? resolvePort(h.port, [c]) : undefined;
      if (port !== undefined) out.push({ port, probe: `${probe} ${handler}` });
    }
  }
  return out;
}

/** Why the pod cannot take the sidecar's ports, or undefined. `wanted`: the ports the sidecar binds. */
export function portConflict(pod: Pod, wanted: readonly SidecarPort[], services: readonly ServicePortHint[] = []): string | undefined {
  const containers = allContainers(pod);
  const hit = (port: number, protocol: string) => wanted.find((w) => w.port === port && w.protocol === protocol);
  for (const c of containers) {
    for (const p of portList(c)) {
      const protocol = typeof p.protocol === 'string' ? p.protocol : 'TCP';
      const w = hit(p.containerPort, protocol);
      if (w !== undefined) return `container "${c.name}" already binds ${protocol} port ${p.containerPort} (${w.name})`;
    }
    if (typeof c.image === 'string' && SPAN_DAEMON_IMAGES.test(c.image)) {
      return `container "${c.name}" runs ${c.image}, an X-Ray daemon, collector or tracing backend that binds the sidecar's ports`;
    }
  }
  for (const c of containers) {
    for (const { port, probe } of probedPorts(c)) {
      const w = hit(port, 'TCP');
      if (w !== undefined) return `container "${c.name}" already binds TCP port ${port} (${w.name}): its ${probe} checks it`;
    }
  }
  const scraped = stringMap(pod.metadata?.annotations)[PROMETHEUS_PORT];
  if (scraped !== undefined && /^\d+$/.test(scraped.trim())) {
    const w = hit(Number(scraped.trim()), 'TCP');
    if (w !== undefined) return `annotation ${PROMETHEUS_PORT}: "${scraped}": something in the pod serves TCP port ${w.port} (${w.name})`;
  }
  const labels = stringMap(pod.metadata?.labels);
  for (const s of services) {
    if (!Object.entries(s.selector).every(([k, v]) => labels[k] === v)) continue;
    const port = resolvePort(s.targetPort, containers);
    const w = port === undefined ? undefined : hit(port, s.protocol);
    if (w !== undefined) return `Service ${s.service} sends targetPort ${String(s.targetPort)} to this pod: something in it serves ${s.protocol} port ${w.port} (${w.name})`;
  }
  return undefined;
}
