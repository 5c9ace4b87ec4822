// App wiring as a transparent takeover: injection never changes where an app's telemetry ends
// up, except where the operator's config names an exporter.
// - An app container that names a destination (OTEL_EXPORTER_OTLP_ENDPOINT, the per-signal
//   OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_ENDPOINT, AWS_XRAY_DAEMON_ADDRESS pointing elsewhere)
//   is pointed at the sidecar instead, and the sidecar gets the original variables as its upstream
//   (TRACEBRIDGE_UPSTREAM_*: EnvVar objects copied as they are, so a header from a Secret stays a
//   secretKeyRef; `$(VAR)` references bring their definitions along).
// - An app with no such variable keeps its env: the SDK defaults already reach the sidecar.
// - Where the app's telemetry cannot reach the sidecar (envFrom, TLS files the sidecar cannot read,
//   a second container naming another destination, sidecar.app_env: false), the container is left
//   as it is and its status says so.
// Every address written is 127.0.0.1, never `localhost` (which may resolve to ::1 while the sidecar
// binds IPv4 loopback). Both OTLP ports speak OTLP/gRPC and OTLP/HTTP, so the port chosen only
// follows the app's protocol for readability; the URL form is what the SDKs need (README table).
import { parseDaemonAddress, parseOtlpEndpoint, UPSTREAM_PREFIX, upstreamName } from '../sidecar/public.ts';
import * as keys from './annotations.ts';
import type { SidecarSettings } from './config.ts';
import { appContainers, envList, type Container, type EnvVar, type Pod } from './pod.ts';

/** What was done to one container's env (the header bridge uses the same record). */
export interface AppEnvOutcome {
  set: string[];
  /** Variable (or `*`) → why it was left alone. */
  left: Record<string, string>;
}

export type Reach = boolean | 'unknown';

/** One app container's telemetry wiring, as the status annotation records it. */
export interface TelemetryWiring extends AppEnvOutcome {
  /** Whether the container's telemetry reaches the sidecar (`unknown`: envFrom may decide). */
  reaches: Reach;
  /** One sentence for people: where its telemetry goes now. */
  detail: string;
  /** App variables handed to the sidecar as its upstream. */
  upstream?: string[];
  /** App variables taken out (per-signal endpoints: the generic one now names the sidecar). */
  removed?: string[];
}

export interface Takeover {
  containers: Record<string, TelemetryWiring>;
  /** Env for the sidecar container: the app's destination under TRACEBRIDGE_UPSTREAM_* names. */
  sidecarEnv: EnvVar[];
}

const XRAY_DAEMON = 'AWS_XRAY_DAEMON_ADDRESS';
const GENERIC_ENDPOINT = 'OTEL_EXPORTER_OTLP_ENDPOINT';
const SIGNALS = ['TRACES', 'METRICS', 'LOGS'] as const;
const ENDPOINTS = [GENERIC_ENDPOINT, ...SIGNALS.map((s) => `OTEL_EXPORTER_OTLP_${s}_ENDPOINT`)];
/** The variables that say where and how the app exports: copied to the sidecar as its upstream. */
const DESTINATION = /^OTEL_EXPORTER_OTLP_(?:(?:TRACES|METRICS|LOGS)_)?(?:ENDPOINT|PROTOCOL|HEADERS|INSECURE)$/;
/** Files in the app's filesystem: the sidecar cannot read them, so it cannot reach such a destination. */
const TLS_FILES = /^OTEL_EXPORTER_OTLP_(?:(?:TRACES|METRICS|LOGS)_)?(?:CERTIFICATE|CLIENT_KEY|CLIENT_CERTIFICATE)$/;
const INSECURE = /^OTEL_EXPORTER_OTLP_(?:(?:TRACES|METRICS|LOGS)_)?INSECURE$/;
const JAVA_OPTIONS = ['JAVA_TOOL_OPTIONS', 'JDK_JAVA_OPTIONS', '_JAVA_OPTIONS', 'JAVA_OPTS'];
const JAVA_ENDPOINT_PROPERTY = /-Dotel\.exporter\.otlp(?:\.(?:traces|metrics|logs))?\.endpoint=("[^"]*"|\S+)/g;
const REFERENCE = /\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g;

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

/** Appends `added` after the container's own env (kept as it came, malformed entries too). */
export function appendEnv(container: Container, added: readonly EnvVar[]): void {
  if (added.length > 0) container.env = [...(Array.isArray(container.env) ? container.env : []), ...added];
}

/** The variable's definition, if it is a literal value. */
function literal(e: EnvVar | undefined): string | undefined {
  return e !== undefined && e.valueFrom === undefined && typeof e.value === 'string' ? e.value.trim() : undefined;
}

/** The sidecar's OTLP receivers bind exactly this address. */
const SIDECAR_HOST = '127.0.0.1';
/** Names of loopback that may not reach the sidecar (`localhost` may resolve to ::1 first). */
const LOOPBACK_ALIAS = /^(?:localhost|\[::1\])$/i;

type EndpointKind =
  /** 127.0.0.1 at one of the sidecar's OTLP ports: already sends to the sidecar. */
  | 'sidecar'
  /** localhost or [::1] at a sidecar port: meant the sidecar, may miss it; rewritten to 127.0.0.1. */
  | 'alias'
  /** Anywhere else (or a value the injector cannot see: valueFrom, $(VAR)): handed over. */
  | 'foreign'
  /** A literal no exporter could send to: left as it is. */
  | 'invalid';

function endpointKind(e: EnvVar | undefined, ports: readonly number[]): EndpointKind {
  const value = literal(e);
  if (value === undefined || value.includes('$(')) return 'foreign';
  const ep = parseOtlpEndpoint(value);
  if (ep === undefined) return 'invalid';
  const port = ep.port ?? (ep.scheme === 'https' ? 443 : 80);
  if (!ports.includes(port)) return 'foreign';
  if (ep.host === SIDECAR_HOST) return 'sidecar';
  return LOOPBACK_ALIAS.test(ep.host) ? 'alias' : 'foreign';
}

/** `host:port`, `udp:h:p` or `udp:h:p tcp:h:p` with every part at 127.0.0.1 on the sidecar's X-Ray port. */
function daemonKind(e: EnvVar, settings: SidecarSettings): EndpointKind {
  const value = literal(e);
  if (value === undefined || value.includes('$(')) return 'foreign';
  const d = parseDaemonAddress(value);
  if (d === undefined) return 'invalid';
  const at = (hp: { host: string; port: number }, host: RegExp) => host.test(hp.host) && hp.port === settings.ports.xray;
  if (at(d.udp, /^127\.0\.0\.1$/) && at(d.tcp, /^127\.0\.0\.1$/)) return 'sidecar';
  if (at(d.udp, /^(?:127\.0\.0\.1|localhost|::1|\[::1\])$/i) && at(d.tcp, /^(?:127\.0\.0\.1|localhost|::1|\[::1\])$/i)) return 'alias';
  return 'foreign';
}

/**
 * The one value every OpenTelemetry SDK accepts whatever exporter the app built: the generic
 * OTEL_EXPORTER_OTLP_ENDPOINT as a base URL without a path. HTTP exporters append /v1/<signal> to
 * it (Go, Java, Python, JS, .NET, Rust alike); gRPC exporters use scheme, host and port, and
 * `http://` means plaintext in all of them. A per-signal endpoint has no such form: OTLP/HTTP
 * needs the full path, while gRPC exporters must get none (Java refuses a path, Go joins it into
 * the dial target, .NET puts it before the method path), and apps often build their exporter in
 * code, so the protocol is not known. Per-signal endpoints are therefore removed and the generic
 * one written instead. Both sidecar ports speak both protocols; the port follows the app's
 * protocol only for people reading the env.
 */
function sidecarBase(byName: Map<string, EnvVar>, endpoints: readonly string[], settings: SidecarSettings): string {
  const protocols = [literal(byName.get('OTEL_EXPORTER_OTLP_PROTOCOL')), ...SIGNALS.map((s) => literal(byName.get(`OTEL_EXPORTER_OTLP_${s}_PROTOCOL`)))].filter(
    (v) => v !== undefined,
  );
  // The port as written ($(VAR) hosts included): 4317 is OTLP/gRPC's.
  const ports = endpoints.map((n) => /:(\d+)(?:[/?#]|$)/.exec(literal(byName.get(n)) ?? '')?.[1]);
  const grpc = protocols.length > 0 ? protocols.every((v) => v === 'grpc') : ports.length > 0 && ports.every((port) => port === '4317');
  return `http://127.0.0.1:${grpc ? settings.ports.otlp_grpc : settings.ports.otlp_http}`;
}

interface ContainerPlan {
  wiring: TelemetryWiring;
  /** The container names an OTLP endpoint / an X-Ray daemon (else the SDK defaults apply). */
  namesOtlp: boolean;
  namesXray: boolean;
  otlpReaches: Reach;
  xrayReaches: Reach;
  /** Signature of the destination handed over (undefined: none to hand over). */
  otlpKey?: string;
  otlpUpstream: EnvVar[];
  /** The app variables handed over (original names). */
  otlpHanded: string[];
  otlpApp: EnvChange[];
  xrayKey?: string;
  xrayUpstream: EnvVar[];
  xrayApp: EnvChange[];
  notes: string[];
}

/** Last definition of each name (the kubelet lets a later entry win). */
function definitions(c: Container): Map<string, EnvVar> {
  return new Map(envList(c).map((e) => [e.name, e]));
}

/**
 * The definitions `vars` reference through `$(NAME)` (defined earlier in the container: the kubelet
 * expands only those), copied for the sidecar under TRACEBRIDGE_UPSTREAM_REF_<NAME> so they can
 * never clash with the sidecar's own variables (which it reads as settings), definitions first.
 * Returns them and the renames to apply to the values that reference them.
 */
function referenced(vars: readonly EnvVar[], c: Container): { defs: EnvVar[]; renames: Map<string, string> } {
  const env = envList(c);
  const found = new Map<string, EnvVar>();
  const pending = [...vars];
  while (pending.length > 0) {
    const v = pending.pop()!;
    if (typeof v.value !== 'string') continue;
    const at = env.lastIndexOf(v);
    for (const [, ref] of v.value.matchAll(REFERENCE)) {
      if (found.has(ref!)) continue;
      const def = env.slice(0, at < 0 ? env.length : at).filter((e) => e.name === ref).pop();
      if (def === undefined) continue;
      found.set(ref!, def);
      pending.push(def);
    }
  }
  const renames = new Map([...found.keys()].map((n) => [n, `${UPSTREAM_PREFIX}REF_${n}`]));
  const defs = [...found.values()]
    .sort((a, b) => env.lastIndexOf(a) - env.lastIndexOf(b))
    .map((d) => withRefs({ ...structuredClone(d), name: renames.get(d.name)! }, renames));
  return { defs, renames };
}

/** `e` with its `$(NAME)` references renamed (`$$(NAME)` is an escape, left as it is). */
function withRefs(e: EnvVar, renames: ReadonlyMap<string, string>): EnvVar {
  if (typeof e.value !== 'string' || renames.size === 0) return e;
  return { ...e, value: e.value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, n: string | undefined) => (n !== undefined && renames.has(n) ? `$(${renames.get(n)!})` : m)) };
}

function toUpstream(e: EnvVar, renames: ReadonlyMap<string, string>): EnvVar {
  const { name: _name, ...rest } = e;
  return withRefs({ name: upstreamName(e.name), ...structuredClone(rest) }, renames);
}

/** `http://localhost:4318/v1/traces` → `http://127.0.0.1:4318/v1/traces` (scheme, port and path kept). */
function onSidecarHost(value: string): string {
  return value.replace(/^((?:[a-z][a-z0-9+.-]*:\/\/)?)(?:localhost|\[::1\])(?=[:/]|$)/i, `$1${SIDECAR_HOST}`);
}

function plan(c: Container, settings: SidecarSettings): ContainerPlan {
  const wiring: TelemetryWiring = { reaches: true, detail: '', set: [], left: {} };
  const byName = definitions(c);
  const endpoints = ENDPOINTS.filter((n) => byName.has(n));
  const xray = byName.get(XRAY_DAEMON);
  const p: ContainerPlan = {
    wiring,
    namesOtlp: endpoints.length > 0,
    namesXray: xray !== undefined,
    otlpReaches: true,
    xrayReaches: true,
    otlpUpstream: [],
    otlpHanded: [],
    otlpApp: [],
    xrayUpstream: [],
    xrayApp: [],
    notes: [],
  };
  const otlpPorts = [settings.ports.otlp_grpc, settings.ports.otlp_http];
  const kinds = new Map(endpoints.map((n) => [n, endpointKind(byName.get(n), otlpPorts)]));
  const xrayKind = xray === undefined ? undefined : daemonKind(xray, settings);

  const alone = envLeftAlone(c, settings, 'OTEL_EXPORTER_OTLP_* or AWS_XRAY_DAEMON_ADDRESS');
  if (alone !== undefined) {
    wiring.left['*'] = alone;
    const otlpOff = [...kinds.values()].some((k) => k === 'foreign' || k === 'invalid');
    const xrayOff = xrayKind === 'foreign' || xrayKind === 'invalid';
    if (alone.startsWith('envFrom')) {
      // What envFrom sets cannot be seen: only a destination visible elsewhere is known not to reach.
      p.otlpReaches = p.xrayReaches = !(otlpOff || xrayOff) ? 'unknown' : false;
      p.notes.push(`left as it is (${alone}): its telemetry reaches the sidecar only if that env leaves the endpoints unset or points them at 127.0.0.1`);
    } else {
      p.otlpReaches = !otlpOff && (p.namesOtlp || settings.ports.otlp_http === 4318);
      p.xrayReaches = !xrayOff && (p.namesXray || settings.ports.xray === 2000);
      p.notes.push(`left as it is (${alone})`);
    }
    return p;
  }

  // OTLP.
  const tlsFiles = [...byName.keys()].filter((n) => TLS_FILES.test(n));
  const foreign = endpoints.filter((n) => kinds.get(n) === 'foreign');
  const invalid = endpoints.filter((n) => kinds.get(n) === 'invalid');
  // Java system properties (-Dotel.exporter.otlp.endpoint=...) win over the env in the Java SDK and
  // agent: one naming a destination other than the sidecar decides where the app sends.
  const javaProps = JAVA_OPTIONS.find((n) =>
    [...(literal(byName.get(n)) ?? '').matchAll(JAVA_ENDPOINT_PROPERTY)].some(([, v]) => endpointKind({ name: n, value: v! }, otlpPorts) !== 'sidecar'),
  );
  if (javaProps !== undefined) {
    p.namesOtlp = true;
    p.otlpReaches = false;
    wiring.left[javaProps] = 'sets -Dotel.exporter.otlp.*endpoint, a system property that overrides the env';
    p.notes.push(`OTLP left as the app configured it (${javaProps} sets -Dotel.exporter.otlp.*endpoint)`);
  } else if (invalid.length > 0) {
    for (const n of invalid) wiring.left[n] = 'not an http(s) URL or host:port: no exporter can send there';
    p.otlpReaches = false;
    p.notes.push(`OTLP left as it is (${invalid.join(', ')} is not an http(s) URL or host:port)`);
  } else if (foreign.length > 0 && tlsFiles.length > 0) {
    for (const n of foreign) wiring.left[n] = `${tlsFiles.join(', ')} names a file in the app's container the sidecar cannot read`;
    p.otlpReaches = false;
    p.notes.push(`OTLP left going to its own destination (${tlsFiles[0]} is a file the sidecar cannot read)`);
  } else if (foreign.length > 0) {
    const destination = [...byName.values()].filter((e) => DESTINATION.test(e.name));
    const { defs, renames } = referenced(destination, c);
    p.otlpUpstream = [...defs, ...destination.map((e) => toUpstream(e, renames))];
    p.otlpHanded = destination.map((e) => e.name);
    // The same destination whatever the order of its variables.
    p.otlpKey = JSON.stringify(p.otlpUpstream.map((e) => JSON.stringify(e)).sort());
    for (const n of endpoints) if (n !== GENERIC_ENDPOINT) p.otlpApp.push({ name: n, remove: true });
    p.otlpApp.push({ name: GENERIC_ENDPOINT, value: sidecarBase(byName, endpoints, settings) });
    // `http://` already means plaintext; an explicit INSECURE=false would still ask some SDKs for TLS.
    for (const e of destination) if (INSECURE.test(e.name) && literal(e)?.toLowerCase() !== 'true') p.otlpApp.push({ name: e.name, value: 'true' });
  } else if (endpoints.length > 0) {
    // Only the sidecar, some of it by a name that may resolve to ::1: spelled 127.0.0.1.
    for (const n of endpoints) if (kinds.get(n) === 'alias') p.otlpApp.push({ name: n, value: onSidecarHost(literal(byName.get(n))!) });
  } else if (settings.ports.otlp_grpc !== 4317 || settings.ports.otlp_http !== 4318) {
    // The SDK defaults (4317/4318) miss a sidecar on other ports: name it (both ports speak both protocols).
    p.otlpApp.push({ name: GENERIC_ENDPOINT, value: `http://${SIDECAR_HOST}:${settings.ports.otlp_http}` });
  }

  // X-Ray daemon.
  if (xray !== undefined && xrayKind === 'invalid') {
    wiring.left[XRAY_DAEMON] = 'not host:port or "udp:host:port tcp:host:port": the X-Ray SDKs cannot send there';
    p.xrayReaches = false;
    p.notes.push('X-Ray left as it is (AWS_XRAY_DAEMON_ADDRESS is not an address the X-Ray SDKs accept)');
  } else if (xray !== undefined && xrayKind === 'foreign') {
    const { defs, renames } = referenced([xray], c);
    p.xrayUpstream = [...defs, toUpstream(xray, renames)];
    p.xrayKey = JSON.stringify(p.xrayUpstream);
    p.xrayApp.push({ name: XRAY_DAEMON, value: `${SIDECAR_HOST}:${settings.ports.xray}` });
  } else if ((xray !== undefined && xrayKind === 'alias') || (xray === undefined && settings.ports.xray !== 2000)) {
    p.xrayApp.push({ name: XRAY_DAEMON, value: `${SIDECAR_HOST}:${settings.ports.xray}` });
  }
  return p;
}

/** A variable to set, or (`remove`) to take out of the app's env. */
type EnvChange = EnvVar | { name: string; remove: true };

/**
 * Applies `changes` to the container's env: a set replaces every definition of its name in place
 * (or is appended), a remove takes them all out; every other entry stays where it was.
 */
function changeEnv(c: Container, changes: readonly EnvChange[]): void {
  if (changes.length === 0) return;
  let env: unknown[] = Array.isArray(c.env) ? [...c.env] : [];
  const named = (e: unknown, name: string) => typeof e === 'object' && e !== null && (e as EnvVar).name === name;
  for (const ch of changes) {
    if ('remove' in ch) {
      env = env.filter((e) => !named(e, ch.name));
      continue;
    }
    const at = env.findIndex((e) => named(e, ch.name));
    if (at < 0) {
      env.push(ch);
      continue;
    }
    env = env.filter((e, i) => i === at || !named(e, ch.name));
    env[at] = ch;
  }
  c.env = env as EnvVar[];
}

/**
 * Takes over the app containers of `pod` (a copy owned by the caller: their env is rewritten) and
 * returns what each container now does, and the upstream env for the sidecar. The first container
 * naming a destination sets the sidecar's upstream; another naming a different one is left
 * sending there itself (the sidecar has one upstream per signal).
 */
export function takeOverTelemetry(pod: Pod, settings: SidecarSettings, kinds: { otlp: boolean; xray: boolean } = { otlp: true, xray: true }): Takeover {
  const out: Takeover = { containers: {}, sidecarEnv: [] };
  let otlpOwner: { name: string; key: string } | undefined;
  let xrayOwner: { name: string; key: string } | undefined;
  const sidecarEnv = new Map<string, EnvVar>();
  const add = (vars: readonly EnvVar[]) => {
    for (const v of vars) if (!sidecarEnv.has(v.name)) sidecarEnv.set(v.name, v);
  };
  for (const c of appContainers(pod)) {
    if (!isAppContainer(c, settings.container_name)) continue;
    const p = plan(c, settings);
    const w = p.wiring;
    // A kind not to take over now (the sidecar already has an upstream for it): left as it is.
    if (!kinds.otlp) {
      p.otlpApp = [];
      p.otlpKey = undefined;
    }
    if (!kinds.xray) {
      p.xrayApp = [];
      p.xrayKey = undefined;
    }
    out.containers[c.name] = w;
    if (p.otlpKey !== undefined) {
      if (otlpOwner === undefined || otlpOwner.key === p.otlpKey) {
        otlpOwner ??= { name: c.name, key: p.otlpKey };
        add(p.otlpUpstream);
        w.upstream = [...(w.upstream ?? []), ...p.otlpHanded];
        p.notes.push(`OTLP to the sidecar, which passes it on to the app's own destination`);
      } else {
        for (const e of p.otlpApp) if (ENDPOINTS.includes(e.name)) w.left[e.name] = `container "${otlpOwner.name}" names another OTLP destination, and the sidecar has one`;
        p.notes.push(`OTLP left going to its own destination (container "${otlpOwner.name}" names another, and the sidecar has one upstream)`);
        p.otlpApp = [];
        p.otlpReaches = false;
      }
    }
    if (p.xrayKey !== undefined) {
      if (xrayOwner === undefined || xrayOwner.key === p.xrayKey) {
        xrayOwner ??= { name: c.name, key: p.xrayKey };
        add(p.xrayUpstream);
        w.upstream = [...(w.upstream ?? []), XRAY_DAEMON];
        p.notes.push('X-Ray segments to the sidecar, which forwards them to the daemon the app named');
      } else {
        w.left[XRAY_DAEMON] = `container "${xrayOwner.name}" names another X-Ray daemon, and the sidecar has one`;
        p.notes.push(`X-Ray segments left going to their own daemon (container "${xrayOwner.name}" names another)`);
        p.xrayApp = [];
        p.xrayReaches = false;
      }
    }
    const changes = [...p.otlpApp, ...p.xrayApp];
    changeEnv(c, changes);
    w.set = changes.filter((e) => !('remove' in e)).map((e) => e.name);
    const removed = changes.filter((e) => 'remove' in e).map((e) => e.name);
    if (removed.length > 0) w.removed = removed;
    // What the container produces: what it names, else (naming nothing) whatever its SDK defaults send.
    const produced = [p.namesOtlp ? p.otlpReaches : undefined, p.namesXray ? p.xrayReaches : undefined].filter((r) => r !== undefined);
    w.reaches = anyReach(produced.length > 0 ? produced : [p.otlpReaches, p.xrayReaches]);
    if (!p.namesOtlp && !p.namesXray && w.left['*'] === undefined) {
      p.notes.push(w.set.length > 0 ? `pointed at the sidecar (${w.set.join(', ')})` : 'keeps its env: the SDK defaults reach the sidecar');
    } else if (w.set.length > 0 && w.upstream === undefined) {
      p.notes.push(`pointed at the sidecar (${w.set.join(', ')})`);
    } else if (p.otlpKey === undefined && p.xrayKey === undefined && w.left['*'] === undefined && w.reaches) {
      p.notes.push('already sends to the sidecar');
    }
    w.detail = p.notes.join('; ');
  }
  out.sidecarEnv = [...sidecarEnv.values()];
  return out;
}

/** True if any part reaches the sidecar, else `unknown` if any may, else false. */
function anyReach(parts: readonly Reach[]): Reach {
  if (parts.includes(true)) return true;
  return parts.includes('unknown') ? 'unknown' : false;
}

/** Per container, one clause: whether its telemetry reaches the sidecar. */
export function describeWiring(containers: Record<string, TelemetryWiring>): string {
  return Object.entries(containers)
    .map(([name, w]) => `${name}: ${w.reaches === 'unknown' ? 'may reach the sidecar' : w.reaches ? 'reaches the sidecar' : 'does NOT reach the sidecar'} (${w.detail})`)
    .join('; ');
}
