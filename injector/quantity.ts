// Kubernetes resource quantities (`10m`, `96Mi`, `1.5`, `1e3`), as the API server reads them: a
// decimal number, then a binary-SI suffix (Ki … Ei), a decimal-SI suffix (n, u, m, k, M … E) or a
// decimal exponent (e3, E-2). Container resources are never negative, so no sign but `+`.

export const QUANTITY = /^\+?(?:\d+(?:\.\d*)?|\.\d+)(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$/;

/** Powers of ten of the decimal-SI suffixes; the binary ones are powers of two (Ki = 2^10 …). */
const DECIMAL: Record<string, number> = { '': 0, n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };

/** A quantity exactly: digits × 10^pow10 × 2^pow2. */
interface Exact {
  digits: bigint;
  pow10: number;
  pow2: number;
}

function exact(q: string | undefined): Exact | undefined {
  const text = q?.trim() ?? '';
  if (!QUANTITY.test(text)) return undefined;
  const m = /^\+?(\d*)(?:\.(\d*))?(.*)$/.exec(text)!;
  const [whole, fraction, unit] = [m[1]!, m[2] ?? '', m[3]!];
  // `E` alone is exa; `E` or `e` followed by digits is an exponent.
  const exponent = /^[eE][+-]?\d/.test(unit) ? Number(unit.slice(1)) : (DECIMAL[unit] ?? 0);
  return { digits: BigInt(`${whole}${fraction}` || '0'), pow10: exponent - fraction.length, pow2: BINARY[unit] ?? 0 };
}

/**
 * Compares two quantities exactly, as the API server does (0.268G equals 268M, which doubles do
 * not always find): negative when a < b, 0 when equal, positive when a > b; undefined when either
 * is unset or unreadable.
 */
export function compareQuantities(a: string | undefined, b: string | undefined): number | undefined {
  const [x, y] = [exact(a), exact(b)];
  if (x === undefined || y === undefined) return undefined;
  if (x.digits === 0n || y.digits === 0n) return x.digits === y.digits ? 0 : x.digits === 0n ? -1 : 1;
  // Scale both to the smaller powers; exponents beyond any real quantity are compared by size.
  const [d10, d2] = [x.pow10 - y.pow10, x.pow2 - y.pow2];
  if (Math.abs(d10) > 400) return Math.sign(d10);
  const scale = (digits: bigint, p10: number, p2: number) => digits * 10n ** BigInt(p10) * 2n ** BigInt(p2);
  const xs = scale(x.digits, Math.max(0, d10), Math.max(0, d2));
  const ys = scale(y.digits, Math.max(0, -d10), Math.max(0, -d2));
  return xs === ys ? 0 : xs < ys ? -1 : 1;
}

/** The value of a quantity in its base unit (bytes, cores), as a double; undefined when unset or unreadable. */
function quantityValue(q: string | undefined): number | undefined {
  const x = exact(q);
  if (x === undefined) return undefined;
  const value = Number(x.digits) * 10 ** x.pow10 * 2 ** x.pow2;
  return Number.isFinite(value) ? value : undefined;
}

/**
 * Bytes of a memory quantity (`320Mi`, `1G`, `1e9`), rounded up as the API server rounds a
 * fractional byte count; undefined when unset, unreadable or zero.
 */
export function quantityBytes(q: string | undefined): number | undefined {
  const v = quantityValue(q);
  return v !== undefined && v > 0 ? Math.ceil(v) : undefined;
}
