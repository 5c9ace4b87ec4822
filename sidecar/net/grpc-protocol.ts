// The gRPC-over-HTTP/2 pieces the OTLP/gRPC receiver (receivers/otlp/grpc-h2.ts) and the otlp
// exporter's client (exporters/otlp/grpc-client.ts) share, each written once with its inverse:
// status codes (github.com/grpc/grpc/blob/master/doc/statuscodes.md), the `grpc-timeout` header
// (github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md):
//   Timeout → TimeoutValue TimeoutUnit; TimeoutValue → {positive integer as ASCII string of at
//   most 8 digits}; TimeoutUnit → H (hours) | M (minutes) | S | m (ms) | u (µs) | n (ns),
// and `grpc-message` (percent-encoded UTF-8).

export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

const NAMES: readonly string[] = Object.keys(GrpcCode);

/** `UNAVAILABLE` for 14; the number itself for a code outside the table. */
export function grpcCodeName(code: number): string {
  return NAMES[code] ?? String(code);
}

const UNIT_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };

/**
 * The timeout in milliseconds, or a string saying why the header is malformed. Sub-millisecond
 * timeouts round up to 1 ms: the call still gets the deadline it asked for, never zero.
 */
export function parseGrpcTimeout(value: string): number | string {
  if (value.length < 2) return `timeout string is too short: ${JSON.stringify(value)}`;
  if (value.length > 9) return `timeout string is too long: ${JSON.stringify(value)}`;
  const unit = UNIT_MS[value[value.length - 1]!];
  if (unit === undefined) return `timeout unit is not recognized: ${JSON.stringify(value)}`;
  const digits = value.slice(0, -1);
  if (!/^\d+$/.test(digits)) return `timeout value is not a decimal number: ${JSON.stringify(value)}`;
  const ms = Number(digits) * unit;
  return ms > 0 && ms < 1 ? 1 : Math.ceil(ms);
}

/** The header for a deadline `ms` away: at most 8 digits and a unit, never less than the time left. */
export function formatGrpcTimeout(ms: number): string {
  const n = Math.max(1, Math.ceil(ms));
  if (n < 1e8) return `${n}m`;
  const s = Math.ceil(n / 1000);
  return s < 1e8 ? `${s}S` : `${Math.min(99_999_999, Math.ceil(s / 3600))}H`;
}

/**
 * grpc-message as the gRPC spec writes it: UTF-8, with '%' and bytes outside 0x20-0x7E
 * percent-encoded, so clients show "a: b, c" rather than "a%3A%20b%2C%20c".
 */
export function percentEncodeGrpcMessage(message: string): string {
  let out = '';
  for (const b of Buffer.from(message, 'utf8')) {
    out += b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** grpc-message as sent: percent-encoded UTF-8. A malformed escape is kept as it is, as grpc-go does. */
export function percentDecodeGrpcMessage(s: string): string {
  if (!s.includes('%')) return s;
  return s.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => Buffer.from(run.replaceAll('%', ''), 'hex').toString('utf8'));
}
