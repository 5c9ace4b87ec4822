// The Zipkin v2 span as both decoders (JSON and proto3) hand it to the mapping: IDs already
// bytes (trace IDs always 16, 64-bit ones left-padded with zeros), times in microseconds.
// Bad input is a ZipkinFormatError naming the span and field; the receiver answers it 400.
import { PermanentError } from '../../component/errors.ts';
import { decodeHexInto } from '../../tracecontext/hex.ts';

export interface ZipkinEndpoint {
  serviceName: string;
  /** Text form; '' when absent. */
  ipv4: string;
  ipv6: string;
  /** 0 when absent. */
  port: number;
}

export interface ZipkinAnnotation {
  /** Epoch microseconds (may carry a fraction: the OpenTelemetry JS exporter sends one). */
  timestampUs: number;
  value: string;
}

export interface ZipkinSpan {
  traceId: Uint8Array;
  id: Uint8Array;
  /** Absent for roots, and when zero. */
  parentId: Uint8Array | undefined;
  /** 'CLIENT' | 'SERVER' | 'PRODUCER' | 'CONSUMER', anything else is treated as absent; '' when absent. */
  kind: string;
  name: string;
  /** Epoch microseconds; 0 when absent. */
  timestampUs: number;
  durationUs: number;
  localEndpoint: ZipkinEndpoint | undefined;
  remoteEndpoint: ZipkinEndpoint | undefined;
  annotations: ZipkinAnnotation[];
  /** Own enumerable string properties only. */
  tags: Record<string, string>;
  shared: boolean;
  debug: boolean;
}

export class ZipkinFormatError extends PermanentError {
  constructor(message: string) {
    super(message);
    this.name = 'ZipkinFormatError';
  }
}

const ZEROS = '00000000000000000000000000000000';

/**
 * A Zipkin hex ID of 1..2×`bytes` characters, left-padded to `bytes` bytes as Zipkin and
 * zipkin-go do (a 64-bit trace ID becomes 8 zero bytes + the ID, the collector's
 * idutils.UInt64ToTraceID(0, low)). Returns undefined when the text is not such an ID.
 */
export function parseHexId(text: string, bytes: 8 | 16): Uint8Array | undefined {
  const n = text.length;
  if (n === 0 || n > bytes * 2) return undefined;
  // 1..16 characters is a 64-bit ID: it fills the low half of a trace ID.
  const width = bytes === 16 && n <= 16 ? 16 : bytes * 2;
  const padded = n === width ? text : ZEROS.slice(0, width - n) + text;
  const out = Buffer.alloc(bytes);
  return decodeHexInto(padded, 0, width / 2, out, bytes - width / 2, false) ? out : undefined;
}

export function sameId(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** 8- or 16-byte trace IDs (proto3 encoding) as 16 bytes, 64-bit ones left-padded. */
export function padTraceId(id: Uint8Array): Uint8Array {
  if (id.length === 16) return id;
  const out = Buffer.alloc(16);
  out.set(id, 8);
  return out;
}

/** Dotted IPv4 text of 4 bytes. */
export function formatIPv4(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/** RFC 5952 text of 16 bytes (lower-case, longest run of two or more zero groups as `::`). */
export function formatIPv6(b: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) => groups.slice(from, to).map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}
