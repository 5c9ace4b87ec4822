// Points app containers at the sidecar, only where they have not chosen otherwise:
// the traces endpoint with its protocol (traces only: metrics and logs keep
// their own settings) and the X-Ray daemon address, all on 127.0.0.1 (never `localhost`,
// which may resolve to ::1 while the sidecar binds IPv4 loopback).
import * as keys from './annotations.ts';
import type { SidecarSettings } from './config.ts';
import { envList, type Container, type EnvVar } from './pod.ts';

export interface AppEnvOutcome {
  set: string[];
  /** Variable (or `*`) → why it was left alone. */
  left: Record<string, string>;
}

const TRACES_ENDPOINT = 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT';
const TRACES_PROTOCOL = 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL';
const XRAY_DAEMON = 'AWS_XRAY_DAEMON_ADDRESS';

const MESH_PROXIES = new Set([keys.ISTIO_PROXY_CONTAINER, keys.LINKERD_PROXY_CONTAINER]);

export function isAppContainer(c: Container, sidecarName: string): boolean {
  return c.name !== sidecarName && !MESH_PROXIES.has(c.name);
}

/** Why a container's env is not touched at all (`what`: the variables in question), or undefined. */
export function envLeftAlone(container: Container, settings: SidecarSettings, what: string): string | undefined {
  if (!settings.app_env) return 'sidecar.app_env is false';
  // env overrides envFrom, and envFrom's keys cannot be seen here: adding a variable could
  // silently replace the app's own value, so such containers are left alone.
  if (Array.isArray(container.envFrom) && container.envFrom.length > 0) return `envFrom may already set ${what}`;
  return undefined;
}

/** Mutates `container` (a copy owned by the caller) and says what it set and what it left. */
export function setAppEnv(container: Container, settings: SidecarSettings): AppEnvOutcome {
  const outcome: AppEnvOutcome = { set: [], left: {} };
  const alone = envLeftAlone(container, settings, 'these variables');
  if (alone !== undefined) {
    outcome.left['*'] = alone;
    return outcome;
  }
  const env = envList(container);
  const byName = new Map(env.map((e) => [e.name, e]));
  const added: EnvVar[] = [];

  if (byName.has(TRACES_ENDPOINT)) {
    outcome.left[TRACES_ENDPOINT] = 'already set';
  } else {
    const protocol = byName.get(TRACES_PROTOCOL);
    if (protocol !== undefined && typeof protocol.value !== 'string') {
      outcome.left[TRACES_ENDPOINT] = `${TRACES_PROTOCOL} comes from valueFrom: cannot pick the matching port`;
    } else {
      // Keep the app's protocol choice when it made one; else OTLP/HTTP protobuf, the SDKs' default.
      const chosen = protocol?.value ?? 'http/protobuf';
      const url = chosen === 'grpc' ? `http://127.0.0.1:${settings.ports.otlp_grpc}` : `http://127.0.0.1:${settings.ports.otlp_http}/v1/traces`;
      added.push({ name: TRACES_ENDPOINT, value: url });
      outcome.set.push(TRACES_ENDPOINT);
      if (protocol === undefined) {
        added.push({ name: TRACES_PROTOCOL, value: chosen });
        outcome.set.push(TRACES_PROTOCOL);
      }
    }
  }
  if (byName.has(XRAY_DAEMON)) {
    outcome.left[XRAY_DAEMON] = 'already set';
  } else {
    added.push({ name: XRAY_DAEMON, value: `127.0.0.1:${settings.ports.xray}` });
    outcome.set.push(XRAY_DAEMON);
  }
  appendEnv(container, added);
  return outcome;
}

/** Appends `added` after the container's own env (kept as it came, malformed entries too). */
export function appendEnv(container: Container, added: readonly EnvVar[]): void {
  if (added.length > 0) container.env = [...(Array.isArray(container.env) ? container.env : []), ...added];
}
