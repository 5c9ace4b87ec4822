// Config of the `header_bridge` extension. There is no collector component of this name; the
// field names follow the collector's conventions (`endpoint`, durations as `5s`).
import {
  bool,
  duration,
  endpoint,
  int,
  list,
  number,
  object,
  oneOf,
  parseHostPort,
  withDefault,
  type ConfigErrors,
  type ObjectSchema,
} from '../../config/schema.ts';
import { isLoopbackAddress, isUnspecifiedAddress } from './addresses.ts';

export const FORMATS = ['traceparent', 'xray', 'b3'] as const;
export type Format = (typeof FORMATS)[number];

/** Outside Istio's 15000–15090 and Linkerd's 4140–4191; next to health_check's 13133. */
export const DEFAULT_ENDPOINT = '127.0.0.1:13128';

const LOOPBACK_HINT = 'must be a loopback address (127.0.0.1 or [::1]; names such as localhost are not accepted)';

function hostOf(ep: string): string | undefined {
  return parseHostPort(ep)?.host;
}

const reverseRoute = object(
  {
    /** Where the reverse proxy listens: loopback, or pod-facing (0.0.0.0, the pod IP) for traffic from outside. */
    endpoint: endpoint(),
    /** The app port it forwards to: loopback only (the bridge never forwards to another host in this mode). */
    target: endpoint(),
  },
  {
    check(v, path, errors) {
      if (v.endpoint === undefined) errors.add(`${path}.endpoint`, 'required');
      if (v.target === undefined) errors.add(`${path}.target`, 'required');
      else if (!isLoopbackAddress(hostOf(v.target))) errors.add(`${path}.target`, `${LOOPBACK_HINT}, got "${v.target}"`);
      else if (parseHostPort(v.target)?.port === 0) errors.add(`${path}.target`, 'port 0 is not a target');
    },
  },
);

const fields = {
  /** Forward proxy (HTTP_PROXY) listen address. Loopback only: anything else would be an open proxy. */
  endpoint: withDefault(endpoint(), DEFAULT_ENDPOINT),
  /** Reverse proxies in front of app ports. */
  reverse: withDefault(list(reverseRoute), []),
  /** Propagation formats made present and consistent on every request. Others pass untouched. */
  formats: withDefault(list(oneOf(FORMATS)), [...FORMATS]),
  /** Which format wins when several are present and disagree. */
  primary: withDefault(oneOf(FORMATS), 'traceparent'),
  /** B3 output: true single `b3`, false `X-B3-*`; absent: the style that came in, else single. */
  b3_single: bool(),
  /** Start a new trace on requests that carry no context. */
  start_traces: withDefault(bool(), false),
  /** Sampling decision for started traces, and for deferred decisions written to a traceparent. */
  sampling_ratio: withDefault(number({ min: 0, max: 1 }), 1),
  /** Request and response header block limit; larger request headers get 431. */
  max_header_bytes: withDefault(int({ min: 1024, max: 1024 * 1024 }), 32 * 1024),
  /** Client connections per listener; further connections are dropped and counted. */
  max_connections: withDefault(int({ min: 1, max: 65535 }), 1024),
  /** TCP connect to the upstream; exceeded → 504. */
  connect_timeout: withDefault(duration({ min: 1 }), 5000),
  /** From the end of the request body to the upstream's response headers; exceeded → 504. */
  response_header_timeout: withDefault(duration({ min: 1 }), 60_000),
  /** No bytes either way on a connection (request, response or tunnel) for this long → closed. */
  idle_timeout: withDefault(duration({ min: 1 }), 120_000),
};

// The type comes from the field table alone, so that the check below can refer to it.
export type HeaderBridgeConfig = ObjectSchema<typeof fields>['defaultValue'];
export const headerBridgeConfig = object(fields, { check: checkBridge });

function checkBridge(v: HeaderBridgeConfig, path: string, errors: ConfigErrors): void {
  const at = (key: string) => (path === '' ? key : `${path}.${key}`);
  if (!isLoopbackAddress(hostOf(v.endpoint))) errors.add(at('endpoint'), `${LOOPBACK_HINT}, got "${v.endpoint}"`);
  if (v.formats.length === 0) errors.add(at('formats'), `must name at least one of ${FORMATS.join(', ')}`);
  if (new Set(v.formats).size !== v.formats.length) errors.add(at('formats'), 'lists a format twice');
  if (v.formats.length > 0 && !v.formats.includes(v.primary)) errors.add(at('primary'), `"${v.primary}" is not in formats (${v.formats.join(', ')})`);

  // Listen addresses must be distinct, and no target may be one of them (a request would loop).
  const listens = [v.endpoint, ...v.reverse.map((r) => r.endpoint)];
  const seen = new Set<string>();
  v.reverse.forEach((r, i) => {
    if (r.endpoint !== undefined && sameListener(r.endpoint, v.endpoint)) errors.add(at(`reverse[${i}].endpoint`), `same address as endpoint (${v.endpoint})`);
    if (r.endpoint !== undefined && seen.has(r.endpoint)) errors.add(at(`reverse[${i}].endpoint`), 'listed twice');
    if (r.endpoint !== undefined) seen.add(r.endpoint);
    if (r.target !== undefined && listens.some((l) => l !== undefined && targetsListener(r.target!, l))) {
      errors.add(at(`reverse[${i}].target`), `"${r.target}" is one of the bridge's own listen addresses: requests would loop`);
    }
  });
}

function sameListener(a: string, b: string): boolean {
  const x = parseHostPort(a);
  const y = parseHostPort(b);
  if (x === undefined || y === undefined || x.port === 0 || y.port === 0) return false;
  return x.port === y.port && (x.host === y.host || isUnspecifiedAddress(x.host) || isUnspecifiedAddress(y.host));
}

function targetsListener(target: string, listen: string): boolean {
  const t = parseHostPort(target);
  const l = parseHostPort(listen);
  if (t === undefined || l === undefined || l.port === 0) return false;
  return t.port === l.port && (t.host === l.host || isUnspecifiedAddress(l.host));
}
