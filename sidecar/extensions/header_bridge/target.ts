// Request targets (RFC 9112 §3.2). A forward proxy gets the absolute form
// (`GET http://host:port/path?q HTTP/1.1`), CONNECT the authority form (`host:port`), a reverse
// proxy the origin form (`/path?q`). The path is passed on byte for byte: WHATWG URL parsing
// would normalise it (dot segments, percent-encoding) and change what the upstream receives.

export interface Target {
  host: string;
  port: number;
  /** Origin-form path and query sent upstream. */
  path: string;
  /** `host:port` as written, for Host when the client sent none, and for messages. */
  authority: string;
}

export type Parsed<T> = T | { error: string };

const HOST_PORT = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:@[\]/?#]+))(?::(\d{1,5}))?$/;

function parseAuthority(authority: string, defaultPort: number | undefined): Parsed<{ host: string; port: number }> {
  // userinfo@ is deprecated in http URIs (RFC 9110 §4.2.4) and meaningless to the upstream.
  const at = authority.lastIndexOf('@');
  const hostPort = at >= 0 ? authority.slice(at + 1) : authority;
  const m = HOST_PORT.exec(hostPort);
  if (m === null) return { error: `invalid authority "${authority}"` };
  const port = m[3] === undefined ? defaultPort : Number(m[3]);
  if (port === undefined) return { error: `"${authority}" needs a port` };
  if (port < 1 || port > 65535) return { error: `invalid port in "${authority}"` };
  return { host: m[1] ?? m[2]!, port };
}

/** The absolute-form target of a forward-proxy request. */
export function parseAbsoluteTarget(url: string): Parsed<Target> {
  const m = /^http:\/\/([^/?#]*)([^#]*)/i.exec(url);
  if (m === null) {
    if (url.startsWith('/')) return { error: 'this is a forward proxy: send the absolute URI (http://host/path), as HTTP_PROXY clients do' };
    if (/^https:\/\//i.test(url)) return { error: 'https:// through a proxy needs CONNECT' };
    return { error: `unsupported request target "${url.slice(0, 100)}"` };
  }
  const authority = m[1]!;
  const hp = parseAuthority(authority, 80);
  if ('error' in hp) return hp;
  const rest = m[2]!;
  const path = rest === '' ? '/' : rest.startsWith('?') ? `/${rest}` : rest;
  return { ...hp, path, authority: authority.slice(authority.lastIndexOf('@') + 1) };
}

/** The authority-form target of CONNECT: host and port both required. */
export function parseConnectTarget(url: string): Parsed<{ host: string; port: number }> {
  return parseAuthority(url, undefined);
}

/** A reverse-proxy request's path; an absolute-form target keeps only its path (RFC 9112 §3.2.2). */
export function originPath(url: string): string {
  if (url.startsWith('/') || url === '*') return url;
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*([^#]*)/i.exec(url);
  if (m === null) return '/';
  const rest = m[1]!;
  return rest === '' ? '/' : rest.startsWith('?') ? `/${rest}` : rest;
}
