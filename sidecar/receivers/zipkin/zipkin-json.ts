// Zipkin v2 JSON (`POST /api/v2/spans`, a JSON array of spans) checked field by field, so a bad
// request is answered 400 with the span and field at fault, as zipkin-go (which the collector
// uses) refuses it: missing or zero traceId/id, IDs that are not hex, values of the wrong type.
//
// Deliberately accepted: timestamps and durations as numbers with a fraction or an exponent
// (the OpenTelemetry JS exporter sends fractional microseconds; Envoy 1.13 sent
// `1.58266276796031e+15`, envoy #9341) and as decimal strings (Envoy before #10400).
import { isIP } from 'node:net';
import { isAllZero } from '../../tracecontext/hex.ts';
import { parseHexId, ZipkinFormatError, type ZipkinAnnotation, type ZipkinEndpoint, type ZipkinSpan } from './model.ts';

type Json = Record<string, unknown>;

const NUMERIC = /^\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

function fail(where: string, expected: string, got: unknown): never {
  const shown = typeof got === 'string' ? JSON.stringify(got.length > 64 ? `${got.slice(0, 64)}...` : got) : Array.isArray(got) ? 'an array' : got === null ? 'null' : typeof got;
  throw new ZipkinFormatError(`${where}: expected ${expected}, got ${shown}`);
}

// The readers take the path of the field as (where, field) and join them only on failure: a
// request's worth of path strings built up front was garbage on every accepted span.

function micros(v: unknown, where: string, field: string): number {
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'number' ? v : typeof v === 'string' && NUMERIC.test(v) ? Number(v) : NaN;
  if (!(n >= 0 && n <= Number.MAX_SAFE_INTEGER)) fail(`${where}.${field}`, 'a non-negative number of microseconds', v);
  return n;
}

function optString(v: unknown, where: string, field: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') fail(`${where}.${field}`, 'a string', v);
  return v;
}

function optBool(v: unknown, where: string, field: string): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') fail(`${where}.${field}`, 'true or false', v);
  return v;
}

function endpoint(v: unknown, at: string, field: string): ZipkinEndpoint | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) fail(`${at}.${field}`, 'an object', v);
  const e = v as Json;
  const ipv4 = typeof e.ipv4 === 'string' ? e.ipv4 : optString(e.ipv4, `${at}.${field}`, 'ipv4');
  if (ipv4 !== '' && isIP(ipv4) !== 4) fail(`${at}.${field}.ipv4`, 'an IPv4 address', ipv4);
  const ipv6 = typeof e.ipv6 === 'string' ? e.ipv6 : optString(e.ipv6, `${at}.${field}`, 'ipv6');
  if (ipv6 !== '' && isIP(ipv6) !== 6) fail(`${at}.${field}.ipv6`, 'an IPv6 address', ipv6);
  let port = 0;
  if (e.port !== undefined && e.port !== null) {
    if (typeof e.port !== 'number' || !Number.isInteger(e.port) || e.port < 0 || e.port > 65535) fail(`${at}.${field}.port`, 'an integer port 0..65535', e.port);
    port = e.port;
  }
  const serviceName = typeof e.serviceName === 'string' ? e.serviceName : optString(e.serviceName, `${at}.${field}`, 'serviceName');
  // zipkin-go drops an endpoint with nothing in it.
  if (serviceName === '' && ipv4 === '' && ipv6 === '' && port === 0) return undefined;
  return { serviceName, ipv4, ipv6, port };
}

function annotations(v: unknown, at: string): ZipkinAnnotation[] {
  if (v === undefined || v === null) return [];
  const where = `${at}.annotations`;
  if (!Array.isArray(v)) fail(where, 'an array', v);
  const out = new Array<ZipkinAnnotation>(v.length);
  for (let i = 0; i < v.length; i++) {
    const a = v[i] as unknown;
    const at = `${where}[${i}]`;
    if (a === null || typeof a !== 'object' || Array.isArray(a)) fail(at, 'an object', a);
    const timestampUs = micros((a as Json).timestamp, at, 'timestamp');
    // zipkin-go: "valid annotation timestamp required".
    if (timestampUs === 0) fail(`${at}.timestamp`, 'a timestamp (epoch microseconds)', (a as Json).timestamp);
    out[i] = { timestampUs, value: optString((a as Json).value, at, 'value') };
  }
  return out;
}

function tags(v: unknown, at: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) fail(`${at}.tags`, 'an object of string values', v);
  const t = v as Json;
  for (const key in t) {
    if (typeof t[key] !== 'string') fail(`${at}.tags[${JSON.stringify(key)}]`, 'a string', t[key]);
  }
  return t as Record<string, string>;
}

function span(v: unknown, where: string): ZipkinSpan {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(where, 'a span object', v);
  const s = v as Json;
  const traceText = optString(s.traceId, where, 'traceId');
  const traceId = parseHexId(traceText, 16);
  if (traceId === undefined) fail(`${where}.traceId`, '16 or 32 hex characters', s.traceId);
  if (isAllZero(traceId, 0, 16)) fail(`${where}.traceId`, 'a non-zero trace ID', s.traceId);
  const id = parseHexId(optString(s.id, where, 'id'), 8);
  if (id === undefined) fail(`${where}.id`, '16 hex characters', s.id);
  if (isAllZero(id, 0, 8)) fail(`${where}.id`, 'a non-zero span ID', s.id);
  const parentText = optString(s.parentId, where, 'parentId');
  let parentId: Uint8Array | undefined;
  if (parentText !== '') {
    parentId = parseHexId(parentText, 8);
    if (parentId === undefined) fail(`${where}.parentId`, '16 hex characters', s.parentId);
    if (isAllZero(parentId, 0, 8)) parentId = undefined;
  }
  return {
    traceId,
    id,
    parentId,
    kind: optString(s.kind, where, 'kind'),
    name: optString(s.name, where, 'name'),
    timestampUs: micros(s.timestamp, where, 'timestamp'),
    durationUs: micros(s.duration, where, 'duration'),
    localEndpoint: endpoint(s.localEndpoint, where, 'localEndpoint'),
    remoteEndpoint: endpoint(s.remoteEndpoint, where, 'remoteEndpoint'),
    annotations: annotations(s.annotations, where),
    tags: tags(s.tags, where),
    shared: optBool(s.shared, where, 'shared'),
    debug: optBool(s.debug, where, 'debug'),
  };
}

/** Parses a Zipkin v2 JSON body. Throws ZipkinFormatError (answered 400). */
export function decodeZipkinJson(body: Buffer | string): ZipkinSpan[] {
  let doc: unknown;
  try {
    doc = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch (err) {
    throw new ZipkinFormatError(`malformed JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(doc)) fail('body', 'a JSON array of Zipkin v2 spans', doc);
  const out = new Array<ZipkinSpan>(doc.length);
  for (let i = 0; i < doc.length; i++) out[i] = span(doc[i], `spans[${i}]`);
  return out;
}
