// The byte hashes the sidecar uses where processes must agree without talking to each other.
// fnv1aFmix32 (FNV-1a, then MurmurHash3's fmix32 finaliser to spread the bits) decides trace ID
// rewrite buckets (tracecontext/rewrite.ts) and the loadbalancing ring; plain FNV-1a is the
// OpenTelemetry Collector's probabilistic sampler hash. Never change either: the sidecars of one
// rollout (and a collector configured alike) would disagree until all have restarted.
export const FNV32_OFFSET = 0x811c9dc5;
const FNV32_PRIME = 0x01000193;

/** FNV-1a 32 over `bytes[from, to)`, continuing from `hash` (the offset basis to start). Unsigned. */
export function fnv1a32(bytes: Uint8Array, from = 0, to = bytes.length, hash = FNV32_OFFSET): number {
  let h = hash;
  for (let i = from; i < to; i++) h = Math.imul(h ^ bytes[i]!, FNV32_PRIME);
  return h >>> 0;
}

/** Unsigned 32-bit hash of `buf[start, end)`: FNV-1a, then fmix32. */
export function fnv1aFmix32(buf: Uint8Array, start = 0, end = buf.length): number {
  let h = fnv1a32(buf, start, end);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
