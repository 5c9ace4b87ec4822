// The app's own telemetry destination, handed to the sidecar by the injector when it points the
// app at the sidecar instead ("transparent takeover"). The injector copies the app's
// `OTEL_EXPORTER_OTLP_*` and `AWS_XRAY_DAEMON_ADDRESS` variables into the sidecar under a
// `TRACEBRIDGE_UPSTREAM_` prefix (`OTEL_EXPORTER_OTLP_ENDPOINT` → `TRACEBRIDGE_UPSTREAM_OTLP_ENDPOINT`,
// `AWS_XRAY_DAEMON_ADDRESS` → `TRACEBRIDGE_UPSTREAM_XRAY_DAEMON_ADDRESS`), as EnvVar objects, so a
// header from a Secret stays a secretKeyRef. Here they are read back the way an OpenTelemetry SDK
// reads its own variables, so the sidecar sends each signal where the app would have.
import { parseDaemonAddress } from '../aws/daemon-address.ts';
import type { Env } from './load.ts';

export const UPSTREAM_PREFIX = 'TRACEBRIDGE_UPSTREAM_';

export type Signal = 'traces' | 'metrics' | 'logs';
export const SIGNALS: readonly Signal[] = ['traces', 'metrics', 'logs'];

export type OtlpProtocol = 'grpc' | 'http/protobuf' | 'http/json';

export interface UpstreamSignal {
  signal: Signal;
  /**
   * Where to send: for OTLP/HTTP the full URL of this signal (the generic endpoint gets
   * `/v1/<signal>` appended, a per-signal endpoint is used as it is); for gRPC the endpoint as given.
   */
  url: string;
  protocol: OtlpProtocol;
  /** How the protocol was chosen, for the start-up log. */
  protocolFrom: string;
  headers: Record<string, string>;
  /** gRPC without TLS: an `http://` URL, or OTEL_EXPORTER_OTLP_INSECURE=true on a URL without scheme. */
  insecure: boolean;
  /** The variable the endpoint came from (original name), for the start-up log. */
  from: string;
}

export interface Upstream {
  otlp: Partial<Record<Signal, UpstreamSignal>>;
  /** The app's X-Ray daemon, in AWS_XRAY_DAEMON_ADDRESS form (`host:port` or `udp:h:p tcp:h:p`). */
  xrayDaemon?: string;
  /** Variables that could not be used, and why (logged at start-up). */
  problems: string[];
}

/** `TRACEBRIDGE_UPSTREAM_` name of an app variable (`OTEL_EXPORTER_OTLP_ENDPOINT` → `..._OTLP_ENDPOINT`). */
export function upstreamName(appVariable: string): string {
  return UPSTREAM_PREFIX + appVariable.replace(/^OTEL_EXPORTER_/, '').replace(/^AWS_XRAY_/, 'XRAY_');
}

const PROTOCOLS = new Set<string>(['grpc', 'http/protobuf', 'http/json']);

function read(env: Env, appVariable: string): string | undefined {
  const v = env[upstreamName(appVariable)]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

/**
 * OTEL_EXPORTER_OTLP_HEADERS format: comma-separated `key=value` pairs, values percent-encoded
 * (the W3C Baggage syntax the specification names). Entries without `=` are skipped, as the SDKs do.
 */
export function parseOtlpHeaders(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    const raw = part.slice(eq + 1).trim();
    if (key === '') continue;
    let value = raw;
    try {
      value = decodeURIComponent(raw);
    } catch {
      // Not valid percent-encoding: the SDKs keep such a value as it is.
    }
    out[key] = value;
  }
  return out;
}

export interface OtlpEndpoint {
  /** Undefined for the `host:port` form (no scheme). */
  scheme?: 'http' | 'https';
  /** Host as written in a URL (IPv6 in brackets), lower-cased. */
  host: string;
  port?: number;
  /** Path, `''` when none. */
  path: string;
}

/**
 * An OTLP endpoint as the SDKs take it: an http(s) URL, or `host:port` (`[v6]:port`) without a
 * scheme. The injector and the sidecar read endpoints with this one parser, so the injector never
 * hands over a value the sidecar could not use.
 */
export function parseOtlpEndpoint(text: string): OtlpEndpoint | undefined {
  const t = text.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(t)?.[1]?.toLowerCase();
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') return undefined;
  if (scheme === undefined && !/^(?:\[[0-9a-f:.]+\]|[^\s/:?#@[\]]+):\d+$/i.test(t)) return undefined;
  let u: URL;
  try {
    u = new URL(scheme === undefined ? `http://${t}` : t);
  } catch {
    return undefined;
  }
  if (u.hostname === '') return undefined;
  const path = u.pathname === '/' ? '' : u.pathname;
  return {
    ...(scheme !== undefined ? { scheme: scheme } : {}),
    host: u.hostname.toLowerCase(),
    ...(u.port !== '' ? { port: Number(u.port) } : {}),
    path,
  };
}

/** A URL for logs: no user info, no query (tokens travel there). */
export function redactUrl(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, '$1').replace(/\?.*$/, '');
}

/**
 * The protocol the app used for `signal`: its per-signal or generic PROTOCOL variable; else guessed
 * from the endpoint (port 4317 is OTLP/gRPC's, 4318 OTLP/HTTP's, a per-signal URL with a path is
 * OTLP/HTTP); else OTLP/HTTP protobuf, the specification's default.
 */
function protocolFor(env: Env, signal: Signal, url: string, perSignal: boolean, problems: string[]): { protocol: OtlpProtocol; from: string } {
  for (const name of [`OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_PROTOCOL`, 'OTEL_EXPORTER_OTLP_PROTOCOL']) {
    const v = read(env, name);
    if (v === undefined) continue;
    if (PROTOCOLS.has(v)) return { protocol: v as OtlpProtocol, from: name };
    problems.push(`${upstreamName(name)}=${v}: not grpc, http/protobuf or http/json; ignored`);
  }
  const ep = parseOtlpEndpoint(url);
  if (ep?.port === 4317) return { protocol: 'grpc', from: 'port 4317' };
  if (ep?.port === 4318) return { protocol: 'http/protobuf', from: 'port 4318' };
  if (perSignal && (ep?.path ?? '').replace(/\/+$/, '') !== '') return { protocol: 'http/protobuf', from: 'a URL path' };
  return { protocol: 'http/protobuf', from: 'the OTLP default' };
}

function truthy(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  return v.toLowerCase() === 'true';
}

/** Reads the upstream the injector handed over; empty when the sidecar was given none. */
export function readUpstream(env: Env): Upstream {
  const problems: string[] = [];
  const otlp: Upstream['otlp'] = {};
  const generic = read(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  for (const signal of SIGNALS) {
    const S = signal.toUpperCase();
    const perSignalName = `OTEL_EXPORTER_OTLP_${S}_ENDPOINT`;
    const perSignal = read(env, perSignalName);
    const endpoint = perSignal ?? generic;
    if (endpoint === undefined) continue;
    const from = perSignal !== undefined ? perSignalName : 'OTEL_EXPORTER_OTLP_ENDPOINT';
    const parsed = parseOtlpEndpoint(endpoint);
    if (parsed === undefined) {
      problems.push(`${upstreamName(from)}=${redactUrl(endpoint)}: not an http(s) URL or host:port; ${signal} have no upstream`);
      continue;
    }
    const { protocol, from: protocolFrom } = protocolFor(env, signal, endpoint, perSignal !== undefined, problems);
    let url = endpoint;
    if (protocol !== 'grpc') {
      if (!/^https?:\/\//i.test(url)) url = `http://${url}`;
      // The generic endpoint is a base URL: the SDKs append /v1/<signal> (one slash between).
      if (perSignal === undefined) url = `${url.replace(/\/+$/, '')}/v1/${signal}`;
    }
    const headerText = read(env, `OTEL_EXPORTER_OTLP_${S}_HEADERS`) ?? read(env, 'OTEL_EXPORTER_OTLP_HEADERS');
    const insecureVar = truthy(read(env, `OTEL_EXPORTER_OTLP_${S}_INSECURE`) ?? read(env, 'OTEL_EXPORTER_OTLP_INSECURE'));
    const insecure = /^http:\/\//i.test(endpoint) || (!/^https:\/\//i.test(endpoint) && insecureVar === true);
    otlp[signal] = { signal, url, protocol, protocolFrom, headers: headerText === undefined ? {} : parseOtlpHeaders(headerText), insecure, from };
  }
  let xrayDaemon = read(env, 'AWS_XRAY_DAEMON_ADDRESS');
  if (xrayDaemon !== undefined && parseDaemonAddress(xrayDaemon) === undefined) {
    problems.push(`${upstreamName('AWS_XRAY_DAEMON_ADDRESS')}=${xrayDaemon}: not host:port or "udp:host:port tcp:host:port"; X-Ray segments have no upstream`);
    xrayDaemon = undefined;
  }
  return { otlp, ...(xrayDaemon !== undefined ? { xrayDaemon } : {}), problems };
}
