// The `http` object, after the collector's makeHTTP (translator/http.go): old (semconv 1.12) and
// current HTTP attribute names, the URL rebuilt from its parts for server and client spans.
// Deviations, each because the collector loses or garbles data:
// - the URL path is `http.target`, else `url.path` plus `?url.query` (the collector puts
//   `url.query` where the path goes);
// - client spans also take `server.address`/`server.port` (current semconv) for the host;
// - `x_forwarded_for` is set when the client address came from a forwarded header and differs
//   from the socket peer (the collector: only when no peer address is known);
// - `content_length` is written only when known (the collector writes 0), also from
//   `http.response.body.size`;
// - when no `http` object results, the network attributes looked at stay in metadata (the
//   collector drops them).
import type { SpanEvent } from '../../pdata/otlp-schema.ts';
import { SpanKind } from '../../pdata/otlp-schema.ts';
import { asInt, asText, type SpanAttributes } from './attributes.ts';
import type { HttpData } from '../../aws/xray-segment.ts';

const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9a-fA-F:.]*:[0-9a-fA-F:.]*$/;

/** Go's net.ParseIP, near enough: dotted IPv4 or a colon-hex IPv6 form. */
function isIp(s: string): boolean {
  return IPV4.test(s) || (s.includes(':') && IPV6.test(s));
}

/** Attributes that make a span an HTTP span (any one is enough). */
const HTTP_KEYS = [
  'http.method', 'http.request.method', 'http.client_ip', 'http.user_agent', 'user_agent.original',
  'http.status_code', 'http.response.status_code', 'http.url', 'url.full', 'http.scheme', 'url.scheme',
  'http.host', 'http.target', 'url.query', 'url.path', 'http.server_name', 'net.host.port',
];

/** Attributes read only to build the URL or the client address. */
const URL_PART_KEYS = [
  'host.name', 'net.host.name', 'net.peer.name', 'net.peer.port', 'net.peer.ip', 'network.peer.address',
  'client.address', 'server.address', 'server.port',
];

export function makeHttp(kind: number, attrs: SpanAttributes, events: readonly SpanEvent[] | undefined): HttpData | undefined {
  let isHttp = false;
  for (const k of HTTP_KEYS) {
    if (attrs.has(k)) {
      isHttp = true;
      break;
    }
  }
  if (!isHttp) return undefined;
  for (const k of HTTP_KEYS) if (attrs.has(k)) attrs.consumed.add(k);
  for (const k of URL_PART_KEYS) if (attrs.has(k)) attrs.consumed.add(k);

  const t = (k: string) => attrs.text(k);
  const request: NonNullable<HttpData['request']> = {};
  const method = t('http.request.method') ?? t('http.method');
  if (method !== undefined) request.method = method;

  const url = buildUrl(kind, attrs);
  if (url !== undefined) request.url = url;

  const ua = t('user_agent.original') ?? t('http.user_agent');
  if (ua !== undefined) request.user_agent = ua;

  // Forwarded client address first (http.client_ip, client.address), then the socket peer.
  const netPeerIp = t('net.peer.ip');
  const networkPeer = t('network.peer.address');
  const peer = netPeerIp ?? (networkPeer !== undefined && isIp(networkPeer) ? networkPeer : undefined);
  const clientAddress = t('client.address');
  const forwarded = t('http.client_ip') ?? (clientAddress !== undefined && isIp(clientAddress) ? clientAddress : undefined);
  const clientIp = forwarded ?? peer;
  if (clientIp !== undefined) {
    request.client_ip = clientIp;
    // The collector marks x_forwarded_for only when no peer address is known; a forwarded
    // address that differs from the peer came through a proxy just the same.
    if (forwarded !== undefined && forwarded !== peer) request.x_forwarded_for = true;
  }

  const response: NonNullable<HttpData['response']> = {};
  const statusValue = attrs.get('http.response.status_code') ?? attrs.get('http.status_code');
  const status = statusValue === undefined ? undefined : asInt(statusValue);
  if (status !== undefined) response.status = status;
  const length = responseSize(attrs, events);
  if (length !== undefined) response.content_length = length;

  const http: HttpData = {};
  if (Object.keys(request).length > 0) http.request = request;
  if (Object.keys(response).length > 0) http.response = response;
  return http;
}

/** Only spans with an address attribute get a URL, as in the collector (hasHTTPRequestURLAttributes). */
function buildUrl(kind: number, attrs: SpanAttributes): string | undefined {
  const t = (k: string) => attrs.text(k);
  const full = t('url.full') ?? t('http.url');
  if (full !== undefined) return full;
  const hasAddress =
    attrs.has('http.host') || attrs.has('http.server_name') || attrs.has('host.name') || attrs.has('net.host.name') ||
    attrs.has('net.peer.name') || attrs.has('net.peer.ip') || attrs.has('server.address') ||
    (attrs.has('network.peer.address') && isIp(t('network.peer.address')!));
  if (!hasAddress) return undefined;

  const scheme = t('url.scheme') ?? t('http.scheme') ?? 'http';
  let host = t('http.host');
  let port: string | undefined;
  if (host === undefined) {
    if (kind === SpanKind.SERVER) {
      host = t('http.server_name') ?? t('net.host.name') ?? t('host.name') ?? t('server.address') ?? '';
      port = t('net.host.port') ?? t('server.port');
    } else {
      host = t('net.peer.name') ?? t('net.peer.ip') ?? t('server.address') ?? '';
      port = t('net.peer.port') ?? t('server.port');
    }
  }
  let out = `${scheme}://${host}`;
  if (port !== undefined && port !== '' && !(scheme === 'http' && port === '80') && !(scheme === 'https' && port === '443')) out += `:${port}`;
  const target = t('http.target');
  if (target !== undefined) return out + target;
  const path = t('url.path');
  const query = t('url.query');
  if (path === undefined && query === undefined) return `${out}/`;
  return out + (path ?? '/') + (query === undefined || query === '' ? '' : `?${query}`);
}

/**
 * Response size: `http.response.body.size` / `http.response_content_length`, else the collector's
 * rule (a `message.type: RECEIVED` attribute set or event with `messaging.message.payload_size_bytes`).
 */
function responseSize(attrs: SpanAttributes, events: readonly SpanEvent[] | undefined): number | undefined {
  for (const k of ['http.response.body.size', 'http.response_content_length']) {
    const v = attrs.get(k);
    if (v !== undefined) {
      const n = asInt(v);
      if (n !== undefined) {
        attrs.consumed.add(k);
        return n;
      }
    }
  }
  const fromSpan = receivedSize(attrs.get('message.type'), attrs.get('messaging.message.payload_size_bytes'));
  if (fromSpan !== undefined) return fromSpan;
  for (const e of events ?? []) {
    let type;
    let size;
    for (const kv of e.attributes ?? []) {
      if (kv.key === 'message.type') type = kv.value;
      else if (kv.key === 'messaging.message.payload_size_bytes') size = kv.value;
    }
    const n = receivedSize(type, size);
    if (n !== undefined) return n;
  }
  return undefined;
}

function receivedSize(type: Parameters<typeof asText>[0] | undefined, size: Parameters<typeof asInt>[0] | undefined): number | undefined {
  if (type === undefined || size === undefined || asText(type) !== 'RECEIVED') return undefined;
  const n = asInt(size);
  return n === undefined || n === 0 ? undefined : n;
}
