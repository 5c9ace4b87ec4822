// Injection as a pure function: a deep copy of the pod goes in, the injected copy and a
// status record come out; the JSON Patch is computed afterwards by diffing the two
// (json-patch.ts), so nothing here deals in patch paths.
import * as keys from './annotations.ts';
import { isAppContainer, takeOverTelemetry, type AppEnvOutcome, type TelemetryWiring } from './app-env.ts';
import type { SidecarSettings } from './config.ts';
import { UPSTREAM_PREFIX as UPSTREAM } from '../sidecar/public.ts';
import type { Decision, ReasonCode } from './decision.ts';
import { headerBridgeRequest, proxyUrl, setBridgeEnv, type HeaderBridgeStatus } from './header-bridge.ts';
import type { ModeChoice, SidecarMode } from './mode.ts';
import { allContainers, appContainers, envList, isRecord, portList, stringMap, type NamespaceInfo, type Pod } from './pod.ts';
import { configVolume, sidecarContainer } from './sidecar-container.ts';
import { sidecarPortList, type SidecarPort } from './sidecar-ports.ts';

export interface InjectionContext {
  settings: SidecarSettings;
  mode: ModeChoice;
  decision: Decision;
  version: string;
  /** The pod's namespace metadata, when known (the UID some platforms assign depends on it). */
  namespace?: NamespaceInfo;
}

/** What `tracebridge.io/status` records: enough to explain the pod without the injector's logs. */
export interface InjectionStatus {
  version: string;
  reason: ReasonCode;
  message: string;
  mode: SidecarMode;
  modeReason: string;
  namespace?: string;
  /** Per app container: whether its telemetry reaches the sidecar, and what was changed for it. */
  appEnv: Record<string, TelemetryWiring>;
  headerBridge?: HeaderBridgeStatus;
  mesh?: unknown;
}

export interface Injected {
  pod: Pod;
  status: InjectionStatus;
}

/** Pod-level extra steps (mesh wiring) run on the copy before the status is written. */
export type PodStep = (pod: Pod, status: InjectionStatus) => void;

export function injectSidecar(original: Pod, ctx: InjectionContext, steps: readonly PodStep[] = []): Injected {
  const pod = structuredClone(original);
  const spec = (pod.spec ??= {});
  const { settings } = ctx;
  const bridge = headerBridgeRequest(original);

  const takenPorts = new Set(allContainers(pod).flatMap((c) => portList(c).map((p) => p.name).filter((n) => typeof n === 'string')));
  const ports: SidecarPort[] = sidecarPortList(settings.ports, { headerBridge: bridge.on }).map((p) => {
    const name = uniqueName(p.name, takenPorts, 15);
    takenPorts.add(name);
    return { ...p, name };
  });

  let volumeName: string | undefined;
  if (settings.config_map !== undefined) {
    const volumes = Array.isArray(spec.volumes) ? spec.volumes : [];
    volumeName = uniqueName('tracebridge-config', new Set(volumes.filter(isRecord).map((v) => String(v.name))), 63);
    spec.volumes = [...volumes, configVolume(volumeName, settings.config_map)];
  }

  const status: InjectionStatus = {
    version: ctx.version,
    reason: ctx.decision.reason,
    message: ctx.decision.message,
    mode: ctx.mode.mode,
    modeReason: ctx.mode.reason,
    ...(ctx.decision.namespaceUnknown !== undefined ? { namespace: `unknown: ${ctx.decision.namespaceUnknown}` } : {}),
    appEnv: {},
  };
  const takeover = takeOverTelemetry(pod, settings);
  status.appEnv = takeover.containers;
  if (bridge.on) status.headerBridge = bridgeStatus(pod, settings, ctx.mode.mode);
  else if (bridge.detail !== undefined) status.headerBridge = { enabled: false, detail: bridge.detail };

  const container = sidecarContainer({ settings, mode: ctx.mode.mode, ports, configVolume: volumeName, headerBridge: bridge.on, upstream: takeover.sidecarEnv, namespace: ctx.namespace });
  if (ctx.mode.mode === 'native') {
    // Appended: after a native mesh proxy already present, so it starts after the proxy and
    // stops before it, flushing while the proxy still routes its export.
    spec.initContainers = [...(Array.isArray(spec.initContainers) ? spec.initContainers : []), container];
  } else {
    spec.containers = [...(Array.isArray(spec.containers) ? spec.containers : []), container];
  }

  for (const step of steps) step(pod, status);

  const meta = (pod.metadata ??= {});
  meta.labels = { ...(isRecord(meta.labels) ? meta.labels : {}), [keys.INJECTED_LABEL]: 'true' };
  meta.annotations = { ...(isRecord(meta.annotations) ? meta.annotations : {}), [keys.STATUS]: JSON.stringify(status) };
  return { pod, status };
}

/**
 * Points the app containers at the bridge. Regular containers only: init containers run to
 * completion before the app starts, when a classic sidecar is not running yet, and a native one
 * may not be listening yet either (it starts after the init containers before it).
 */
function bridgeStatus(pod: Pod, settings: SidecarSettings, mode: SidecarMode): HeaderBridgeStatus {
  const appEnv: Record<string, AppEnvOutcome> = {};
  for (const c of appContainers(pod)) {
    if (isAppContainer(c, settings.container_name)) appEnv[c.name] = setBridgeEnv(c, settings);
  }
  const notes: string[] = [];
  if (mode === 'classic') {
    notes.push('classic sidecar: the app may start before the bridge listens, and its first HTTP requests through it then fail');
  }
  // With TRACEBRIDGE_HEADER_BRIDGE=true the sidecar runs the bridge on 127.0.0.1:13128 whatever
  // config it loads (sidecar/cli.ts); another port must be configured in the sidecar's config.
  if (settings.ports.header_bridge !== 13128) {
    notes.push(`header bridge port ${settings.ports.header_bridge} is not the sidecar's default 13128: the sidecar's config must enable header_bridge on 127.0.0.1:${settings.ports.header_bridge}`);
  }
  return { enabled: true, proxy: proxyUrl(settings), appEnv, ...(notes.length > 0 ? { notes } : {}) };
}

/**
 * `base`, or `base-2`, `base-3`, ... cut to `max` characters, not in `taken`. Port names
 * (IANA_SVC_NAME) allow at most 15 characters and no hyphen at either end.
 */
export function uniqueName(base: string, taken: ReadonlySet<string>, max: number): string {
  if (!taken.has(base) && base.length <= max) return base;
  for (let i = 2; i < 1000; i++) {
    const suffix = `-${i}`;
    const candidate = base.slice(0, max - suffix.length).replace(/-+$/, '') + suffix;
    if (!taken.has(candidate)) return candidate;
  }
  throw new Error(`no free name for ${base}`);
}


/**
 * A pod the injector already injected, seen again (`reinvocationPolicy: IfNeeded`) after a later
 * webhook changed it: the OpenTelemetry Operator, for one, adds OTEL_EXPORTER_OTLP_ENDPOINT for its
 * collector after tracebridge ran. Such a destination is taken over as on the first call; the
 * sidecar gets it as its upstream unless it already has one for that kind (one upstream per kind),
 * and the status annotation records the new wiring. Returns undefined when nothing changes.
 */
export function takeOverOnReinvocation(original: Pod, settings: SidecarSettings): { pod: Pod; taken: string[] } | undefined {
  const pod = structuredClone(original);
  const sidecar = allContainers(pod).find((c) => c.name === settings.container_name);
  const statusText = stringMap(pod.metadata?.annotations)[keys.STATUS];
  if (sidecar === undefined || statusText === undefined) return undefined;
  let status: InjectionStatus;
  try {
    status = JSON.parse(statusText) as InjectionStatus;
  } catch {
    return undefined;
  }
  const sidecarEnvNames = new Set(envList(sidecar).map((e) => e.name));
  // A kind the sidecar already has an upstream for is left as the first call wired it.
  const has = (kind: 'OTLP' | 'XRAY') => [...sidecarEnvNames].some((n) => n.startsWith(`${UPSTREAM}${kind}_`));
  const again = takeOverTelemetry(pod, settings, { otlp: !has('OTLP'), xray: !has('XRAY') });
  const taken = Object.entries(again.containers)
    .filter(([, w]) => (w.upstream ?? []).length > 0)
    .map(([name]) => name);
  if (taken.length === 0) return undefined;
  sidecar.env = [...envList(sidecar), ...again.sidecarEnv.filter((e) => !sidecarEnvNames.has(e.name))];
  for (const name of taken) status.appEnv[name] = again.containers[name]!;
  const meta = (pod.metadata ??= {});
  meta.annotations = { ...stringMap(meta.annotations), [keys.STATUS]: JSON.stringify(status) };
  return { pod, taken };
}
