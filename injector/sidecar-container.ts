// The container (and volume) the injector adds. Contract with the sidecar (injector/README.md
// "Contract with the sidecar"): no args; the sidecar reads the env set here.
import { DEFAULT_PORTS, heapCapMiB } from '../sidecar/public.ts';
import type { SidecarSettings } from './config.ts';
import type { SidecarMode } from './mode.ts';
import type { Container, ContainerPort, EnvVar, NamespaceInfo, Volume } from './pod.ts';
import type { SidecarPort } from './sidecar-ports.ts';
import { quantityBytes } from './quantity.ts';

export const CONFIG_DIR = '/etc/tracebridge';
export const CONFIG_PATH = `${CONFIG_DIR}/config.yaml`;

const fieldEnv = (name: string, fieldPath: string): EnvVar => ({ name, valueFrom: { fieldRef: { fieldPath } } });

export interface SidecarParts {
  settings: SidecarSettings;
  mode: SidecarMode;
  /** Ports with their final (pod-unique) names. */
  ports: readonly SidecarPort[];
  /** Name of the ConfigMap volume, when sidecar.config_map is set. */
  configVolume?: string;
  /** The pod asked for the header bridge. */
  headerBridge?: boolean;
  /** The app's own destination (TRACEBRIDGE_UPSTREAM_*, and the variables they reference). */
  upstream?: readonly EnvVar[];
  /** The namespace's metadata, when known: some platforms assign the UID per namespace. */
  namespace?: NamespaceInfo;
}

/** The UID the sidecar runs as by default: the image's non-root user. */
export const DEFAULT_UID = 65532;
/** OpenShift writes the UID range of a namespace here; its restricted SCCs assign a UID from it. */
export const OPENSHIFT_UID_RANGE = 'openshift.io/sa.scc.uid-range';

/** runAsUser/runAsGroup, or none where the platform assigns them (`auto` in such a namespace). */
export function sidecarIds(settings: SidecarSettings, ns: NamespaceInfo | undefined): { runAsUser?: number; runAsGroup?: number } {
  const platformAssigns = ns?.known === true && ns.annotations[OPENSHIFT_UID_RANGE] !== undefined;
  const user = settings.run_as_user === 'auto' ? (platformAssigns ? undefined : DEFAULT_UID) : settings.run_as_user;
  const groupSetting = settings.run_as_group ?? settings.run_as_user;
  const group = groupSetting === 'auto' ? (platformAssigns ? undefined : DEFAULT_UID) : groupSetting;
  return { ...(user !== undefined ? { runAsUser: user } : {}), ...(group !== undefined ? { runAsGroup: group } : {}) };
}

/** NODE_OPTIONS that caps the sidecar's V8 heap for a memory limit of `limitBytes`, as the sidecar would cap it from its cgroup. */
export function heapCapNodeOptions(limitBytes: number): string {
  return `--max-old-space-size=${heapCapMiB(limitBytes)}`;
}

export function sidecarEnv(settings: SidecarSettings, opts: { headerBridge?: boolean; upstream?: readonly EnvVar[]; mode?: SidecarMode } = {}): EnvVar[] {
  const env: EnvVar[] = [
    fieldEnv('POD_NAME', 'metadata.name'),
    fieldEnv('POD_NAMESPACE', 'metadata.namespace'),
    fieldEnv('POD_UID', 'metadata.uid'),
    fieldEnv('NODE_NAME', 'spec.nodeName'),
    // $(VAR) expands variables defined earlier in this list (kubelet dependent env vars).
    {
      name: 'OTEL_RESOURCE_ATTRIBUTES',
      value: 'k8s.pod.name=$(POD_NAME),k8s.namespace.name=$(POD_NAMESPACE),k8s.pod.uid=$(POD_UID),k8s.node.name=$(NODE_NAME)',
    },
    // Probes and Prometheus scrapes come from outside the pod; the embedded default binds loopback.
    { name: 'TRACEBRIDGE_METRICS_ADDRESS', value: `0.0.0.0:${settings.ports.metrics}` },
  ];
  // How the sidecar stops: a classic one gets SIGTERM with the app, so it keeps its receivers open
  // for the app's final flush (service.receiver_grace 2s); a native one stops after the app.
  if (opts.mode !== undefined) env.push({ name: 'TRACEBRIDGE_SIDECAR_MODE', value: opts.mode });
  // The embedded default binds its own defaults (4317, 4318, 9411, 2000, 13133, 8888) unless told.
  const moved = (Object.keys(DEFAULT_PORTS) as (keyof typeof DEFAULT_PORTS)[]).filter((k) => settings.ports[k] !== DEFAULT_PORTS[k]);
  if (moved.length > 0) env.push({ name: 'TRACEBRIDGE_PORTS', value: moved.map((k) => `${k}=${settings.ports[k]}`).join(',') });
  const e = settings.exporter;
  if (e.traces_endpoint !== undefined) env.push({ name: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', value: e.traces_endpoint });
  if (e.endpoint !== undefined) env.push({ name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: e.endpoint });
  if (e.traces_endpoint !== undefined || e.endpoint !== undefined) {
    env.push({ name: 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', value: e.protocol });
  }
  if (e.region !== undefined) env.push({ name: 'AWS_REGION', value: e.region });
  // The V8 heap cap for the memory limit injected here, as the sidecar would compute it from its
  // cgroup (runtime/heap.ts): given up front, the sidecar need not re-execute itself to apply it
  // (~60-80 ms of every start). A limit set any other way (a LimitRange, an edit) still gets the
  // re-execution; an operator's own NODE_OPTIONS in sidecar.env replaces this one.
  const limit = quantityBytes(settings.resources.limits?.memory);
  if (limit !== undefined) env.push({ name: 'NODE_OPTIONS', value: heapCapNodeOptions(limit) });
  if (settings.config_map !== undefined) env.push({ name: 'TRACEBRIDGE_CONFIG', value: CONFIG_PATH });
  // The embedded default then enables the header_bridge extension on 127.0.0.1:13128.
  if (opts.headerBridge === true) env.push({ name: 'TRACEBRIDGE_HEADER_BRIDGE', value: 'true' });
  // The app's destination, taken over: the sidecar passes metrics and logs there, and traces too
  // unless sidecar.exporter names the cluster's exporter.
  env.push(...(opts.upstream ?? []));
  // Operator extras last; one of ours with the same name is replaced, never duplicated.
  for (const [name, value] of Object.entries(settings.env)) {
    const i = env.findIndex((v) => v.name === name);
    if (i >= 0) env[i] = { name, value };
    else env.push({ name, value });
  }
  return env;
}

export function sidecarContainer(parts: SidecarParts): Container {
  const { settings, mode } = parts;
  const health = settings.ports.health;
  const probe = (periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path: '/', port: health, scheme: 'HTTP' },
    periodSeconds,
    failureThreshold,
    timeoutSeconds: 1,
  });
  const ports: ContainerPort[] = parts.ports.map((p) => ({ name: p.name, containerPort: p.port, protocol: p.protocol }));
  const container: Container = {
    name: settings.container_name,
    image: settings.image,
    imagePullPolicy: settings.image_pull_policy,
    // Native: an init container that keeps running; started before the app, stopped after it.
    ...(mode === 'native' ? { restartPolicy: 'Always' } : {}),
    env: sidecarEnv(settings, { headerBridge: parts.headerBridge === true, upstream: parts.upstream ?? [], mode }),
    ports,
    // Startup: the sidecar is ready within about a second; a native sidecar holds the app's start
    // until this passes, so it is short and frequent. No readiness probe on purpose: a sidecar
    // that is not ready must never take the app out of its Service's endpoints.
    startupProbe: probe(1, 30),
    livenessProbe: probe(10, 3),
    resources: settings.resources,
    securityContext: {
      runAsNonRoot: true,
      ...sidecarIds(settings, parts.namespace),
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
  if (parts.configVolume !== undefined) {
    container.volumeMounts = [{ name: parts.configVolume, mountPath: CONFIG_DIR, readOnly: true }];
  }
  return container;
}

/** The ConfigMap volume; `optional: true` so a missing ConfigMap leaves an empty directory. */
export function configVolume(name: string, configMap: string): Volume {
  return { name, configMap: { name: configMap, optional: true } };
}
