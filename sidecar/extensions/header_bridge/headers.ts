// Header lines in and out of the proxy, over Node's rawHeaders (names as sent, duplicates and
// order kept, so Set-Cookie pairs and repeated custom headers pass unchanged).
//
// Hop-by-hop (RFC 9110 §7.6.1): Connection and every header it names, plus Keep-Alive, TE,
// Trailer, Transfer-Encoding, Upgrade and the Proxy-* family are for one connection only and are
// not forwarded. Node re-frames bodies itself (chunked or Content-Length), so dropping
// Transfer-Encoding is safe. Upgrade is forwarded only by the upgrade path, which re-declares it.
// Every forwarded message gets `Via: 1.1 <pseudonym>` (RFC 9110 §7.6.3); the pseudonym is random
// per bridge instance, so a request that comes back carrying it is a loop.
import type { Format } from './config.ts';
import { B3_MULTI_NAMES, translate, type BridgeRules, type IncomingPropagation, type Translation } from './translate.ts';
import type { IdSource } from './ids.ts';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-connection']);

/** Lowercase tokens listed in every Connection header line. */
function connectionTokens(raw: readonly string[]): Set<string> | undefined {
  let tokens: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 10 && raw[i]!.toLowerCase() === 'connection') {
      tokens ??= new Set();
      for (const t of raw[i + 1]!.split(',')) {
        const token = t.trim().toLowerCase();
        if (token !== '') tokens.add(token);
      }
    }
  }
  return tokens;
}

function isHopByHop(lower: string, tokens: Set<string> | undefined, request: boolean): boolean {
  if (HOP_BY_HOP.has(lower) || tokens?.has(lower) === true) return true;
  // Proxy-Authorization and friends are addressed to this proxy, which uses none of them. On
  // responses Proxy-Status (RFC 9209) is end to end and kept.
  return request ? lower.startsWith('proxy-') : lower === 'proxy-authenticate';
}

export interface PreparedRequest {
  /** Flat [name, value, ...] list for http.request. */
  headers: string[];
  translation: Translation;
  /** The Host header as received, if any. */
  host: string | undefined;
  /** A Via line carries this bridge's pseudonym: the request has been here before. */
  looped: boolean;
}

/** Which lowercase header names belong to which configured format. */
function formatOf(lower: string, formats: readonly Format[]): Format | 'tracestate' | undefined {
  if (lower === 'traceparent') return formats.includes('traceparent') ? 'traceparent' : undefined;
  if (lower === 'tracestate') return formats.includes('traceparent') ? 'tracestate' : undefined;
  if (lower === 'x-amzn-trace-id') return formats.includes('xray') ? 'xray' : undefined;
  if (lower === 'b3' || (lower.startsWith('x-b3-') && MULTI.has(lower))) return formats.includes('b3') ? 'b3' : undefined;
  return undefined;
}
const MULTI = new Set(Object.keys(B3_MULTI_NAMES));

/**
 * Filters a request's raw headers for forwarding and bridges its trace context.
 * `upgrade`: keep Upgrade and declare `Connection: Upgrade` (WebSocket and other upgrades).
 */
export function prepareRequestHeaders(raw: readonly string[], rules: BridgeRules, ids: IdSource, via: string, upgrade = false): PreparedRequest {
  const tokens = connectionTokens(raw);
  const out: string[] = [];
  const inc: IncomingPropagation = {};
  // Received lines per format, re-emitted as they were when the translation keeps them.
  const received: Record<Format | 'b3multi', string[]> = { traceparent: [], xray: [], b3: [], b3multi: [] };
  let host: string | undefined;
  let looped = false;
  let upgradeValue: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const lower = name.toLowerCase();
    if (upgrade && lower === 'upgrade') {
      upgradeValue = value;
      continue;
    }
    if (isHopByHop(lower, tokens, true)) continue;
    const format = formatOf(lower, rules.formats);
    if (format !== undefined) {
      const key = format === 'tracestate' ? 'traceparent' : lower.startsWith('x-b3-') ? 'b3multi' : format;
      received[key].push(name, value);
      if (lower.startsWith('x-b3-')) {
        inc.b3Multi ??= {};
        (inc.b3Multi[lower] ??= []).push(value);
      } else {
        const field = lower === 'x-amzn-trace-id' ? 'xray' : (lower as 'traceparent' | 'tracestate' | 'b3');
        (inc[field] ??= []).push(value);
      }
      continue;
    }
    if (lower === 'host') host ??= value;
    else if (lower === 'via' && !looped) looped = viaNames(value, via);
    out.push(name, value);
  }
  const translation = translate(inc, rules, ids);
  for (const f of rules.formats) {
    const action = translation[f];
    if (action === 'keep') out.push(...received[f === 'b3' && translation.b3Kept === 'multi' ? 'b3multi' : f]);
    else for (const [n, v] of action) out.push(n, v);
  }
  if (upgradeValue !== undefined) out.push('Connection', 'Upgrade', 'Upgrade', upgradeValue);
  out.push('Via', `1.1 ${via}`);
  return { headers: out, translation, host, looped };
}

/** True when one of a Via line's entries (`1.1 name, 1.0 other`) was received by `via`. */
function viaNames(value: string, via: string): boolean {
  if (!value.includes(via)) return false;
  return value.split(',').some((entry) => entry.trim().split(/[ \t]+/)[1] === via);
}

/** Filters an upstream response's raw headers for the client and adds Via. */
export function prepareResponseHeaders(raw: readonly string[], via: string, upgrade = false): string[] {
  const tokens = connectionTokens(raw);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (upgrade && (lower === 'upgrade' || lower === 'connection')) {
      out.push(raw[i]!, raw[i + 1]!);
      continue;
    }
    if (isHopByHop(lower, tokens, false)) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  out.push('Via', `1.1 ${via}`);
  return out;
}

/** A random pseudonym for Via, per bridge instance. */
export function viaPseudonym(ids: IdSource): string {
  const b = new Uint8Array(4);
  ids.fill(b);
  return `tracebridge-${Buffer.from(b).toString('hex')}`;
}
