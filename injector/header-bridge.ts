// The header bridge in an injected pod (issue 12): the pod opts in
// with `tracebridge.io/header-bridge: "true"`; the sidecar then runs its loopback forward proxy
// (TRACEBRIDGE_HEADER_BRIDGE=true, sidecar-container.ts) and app containers get HTTP_PROXY
// pointing at it. Only plain-HTTP calls are bridged: HTTPS_PROXY is never set, because a CONNECT
// tunnel carries TLS the bridge cannot read, so routing it through the bridge would only add
// latency.
import * as keys from './annotations.ts';
import { appendEnv, envLeftAlone, type AppEnvOutcome } from './app-env.ts';
import type { SidecarSettings } from './config.ts';
import { envList, stringMap, type Container, type EnvVar, type Pod } from './pod.ts';

/** What the pod asked for: on, or off with a reason worth recording (a value that is not "true"/"false"). */
export interface BridgeRequest {
  on: boolean;
  detail?: string;
}

export function headerBridgeRequest(pod: Pod): BridgeRequest {
  const value = stringMap(pod.metadata?.annotations)[keys.HEADER_BRIDGE];
  if (value === 'true') return { on: true };
  if (value === undefined || value === 'false') return { on: false };
  return { on: false, detail: `${keys.HEADER_BRIDGE}: ${JSON.stringify(value)} is not "true": the header bridge stays off` };
}

/** `tracebridge.io/status`'s `headerBridge`. */
export type HeaderBridgeStatus =
  | { enabled: true; proxy: string; appEnv: Record<string, AppEnvOutcome>; notes?: string[] }
  | { enabled: false; detail: string };

export const POD_IP_VAR = 'TRACEBRIDGE_POD_IP';
const PROXY_VARS = ['HTTP_PROXY', 'http_proxy'] as const;
const HTTPS_PROXY_VARS = ['HTTPS_PROXY', 'https_proxy'];
const NODE_USE_ENV_PROXY = 'NODE_USE_ENV_PROXY';

export function proxyUrl(settings: SidecarSettings): string {
  return `http://127.0.0.1:${settings.ports.header_bridge}`;
}

/**
 * Destinations that must not go through the bridge. Loopback and the pod's own IP (the bridge
 * would only loop back into the pod); the Kubernetes API by every name a client uses and by the
 * IP in-cluster clients dial ($(KUBERNETES_SERVICE_HOST)); the cloud metadata and credential
 * endpoints (EC2 IMDS, ECS task metadata, EKS Pod Identity agent, and their IPv6 forms), which
 * credential providers call with tight timeouts. No `.svc` or `.cluster.local` suffixes: every
 * in-cluster call would then bypass the bridge, which is the traffic it exists for.
 * `$(VAR)` is expanded by the kubelet from env entries defined earlier in the container (hence
 * TRACEBRIDGE_POD_IP before NO_PROXY) and from the service variables (KUBERNETES_SERVICE_HOST is
 * always among them, even with enableServiceLinks: false).
 */
export function noProxyList(clusterDomain: string): string {
  return [
    '127.0.0.1',
    'localhost',
    '::1',
    `$(${POD_IP_VAR})`,
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    `kubernetes.default.svc.${clusterDomain}`,
    '$(KUBERNETES_SERVICE_HOST)',
    '169.254.169.254',
    '169.254.170.2',
    '169.254.170.23',
    'fd00:ec2::254',
    'fd00:ec2::23',
  ].join(',');
}

/**
 * Points one app container at the bridge, only where it has not chosen otherwise. Mutates
 * `container` (a copy owned by the caller). A container that already names a proxy keeps it
 * and is skipped as a whole: it routes its traffic itself.
 */
export function setBridgeEnv(container: Container, settings: SidecarSettings): AppEnvOutcome {
  const outcome: AppEnvOutcome = { set: [], left: {} };
  // With envFrom, an env entry would override a proxy the app's ConfigMap or Secret may set.
  const alone = envLeftAlone(container, settings, 'HTTP_PROXY');
  if (alone !== undefined) {
    outcome.left['*'] = alone.startsWith('envFrom') ? `${alone}: set HTTP_PROXY yourself to use the bridge` : alone;
    return outcome;
  }
  const byName = new Map(envList(container).map((e) => [e.name, e]));
  const ownProxy = PROXY_VARS.find((n) => byName.has(n));
  if (ownProxy !== undefined) {
    outcome.left['*'] = `${ownProxy} already set: the app's own proxy is kept`;
    return outcome;
  }

  const proxy = proxyUrl(settings);
  const noProxy = noProxyList(settings.header_bridge.cluster_domain);
  const wanted: EnvVar[] = [
    { name: POD_IP_VAR, valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
    ...PROXY_VARS.map((name) => ({ name, value: proxy })),
    // One case set by the app: the other copies it, so that clients reading either case (Go reads
    // NO_PROXY first, curl and Python prefer no_proxy) agree on what bypasses the bridge.
    { name: 'NO_PROXY', value: byName.has('no_proxy') ? '$(no_proxy)' : noProxy },
    { name: 'no_proxy', value: byName.has('NO_PROXY') ? '$(NO_PROXY)' : noProxy },
  ];
  if (settings.header_bridge.node_use_env_proxy) {
    // Node (>= 24.5, 22.21) reads HTTP_PROXY only with NODE_USE_ENV_PROXY; it then reads
    // HTTPS_PROXY too, so an app that sets HTTPS_PROXY (Node ignoring it so far) would start
    // sending its https:// calls there: left alone.
    const https = HTTPS_PROXY_VARS.find((n) => byName.has(n));
    if (https !== undefined && !byName.has(NODE_USE_ENV_PROXY)) {
      outcome.left[NODE_USE_ENV_PROXY] = `${https} is set: Node would start sending https:// requests through it`;
    } else {
      wanted.push({ name: NODE_USE_ENV_PROXY, value: '1' });
    }
  }
  const added: EnvVar[] = [];
  for (const e of wanted) {
    if (byName.has(e.name)) {
      outcome.left[e.name] = 'already set';
      continue;
    }
    added.push(e);
    outcome.set.push(e.name);
  }
  for (const [name, other] of [['NO_PROXY', 'no_proxy'], ['no_proxy', 'NO_PROXY']] as const) {
    if (byName.has(name) && outcome.set.includes(other)) outcome.left[name] = `already set: kept, and ${other} copies it`;
  }
  appendEnv(container, added);
  return outcome;
}

/** One clause for the offline `inject` report: which containers use the bridge, which not and why. */
export function describeBridge(status: HeaderBridgeStatus): string {
  if (!status.enabled) return `header bridge off: ${status.detail}`;
  const entries = Object.entries(status.appEnv);
  const pointed = entries.filter(([, o]) => o.set.includes('HTTP_PROXY')).map(([name]) => name);
  const skipped = entries.filter(([, o]) => o.left['*'] !== undefined).map(([name, o]) => `${name} (${o.left['*']})`);
  const parts = [`header bridge ${status.proxy}`];
  parts.push(pointed.length > 0 ? `HTTP_PROXY set on ${pointed.join(', ')}` : 'HTTP_PROXY set on no container');
  if (skipped.length > 0) parts.push(`left alone: ${skipped.join(', ')}`);
  return parts.join('; ');
}
