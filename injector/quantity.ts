// Kubernetes resource quantities (`10m`, `96Mi`, `1.5`, `1e3`), as the API server reads them: a
// decimal number, then a binary-SI suffix (Ki … Ei), a decimal-SI suffix (n, u, m, k, M … E) or a
// decimal exponent (e3, E-2). Container resources are never negative, so no sign but `+`.

export const QUANTITY = /^\+?(?:\d+(?:\.\d*)?|\.\d+)(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$/;

const SUFFIX: Record<string, number> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** The value of a quantity in its base unit (bytes, cores); undefined when unset or unreadable. */
export function quantityValue(q: string | undefined): number | undefined {
  const text = q?.trim() ?? '';
  if (!QUANTITY.test(text)) return undefined;
  const m = /^\+?([\d.]+)(.*)$/.exec(text)!;
  const unit = m[2]!;
  // `E` alone is exa; `E` or `e` followed by digits is an exponent.
  const value = Number(m[1]) * (/^[eE][+-]?\d/.test(unit) ? 10 ** Number(unit.slice(1)) : SUFFIX[unit]!);
  return Number.isFinite(value) ? value : undefined;
}

/** Bytes of a memory quantity (`320Mi`, `1G`, `1e9`); undefined when unset, unreadable or zero. */
export function quantityBytes(q: string | undefined): number | undefined {
  const v = quantityValue(q);
  return v !== undefined && v > 0 ? Math.floor(v) : undefined;
}
