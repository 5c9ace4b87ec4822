// The `grpc-timeout` request header (github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md):
//   Timeout → TimeoutValue TimeoutUnit; TimeoutValue → {positive integer as ASCII string of at
//   most 8 digits}; TimeoutUnit → H (hours) | M (minutes) | S | m (ms) | u (µs) | n (ns).

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
