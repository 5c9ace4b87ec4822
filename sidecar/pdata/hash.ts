// The one byte hash the sidecar uses where processes must agree without talking to each other:
// 32-bit FNV-1a over the bytes, then MurmurHash3's fmix32 finaliser to spread the bits. Trace ID
// rewrites (tracecontext/rewrite.ts) and the loadbalancing ring depend on its exact output: never
// change it, or the sidecars of one rollout disagree until all have restarted.
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** Unsigned 32-bit hash of `buf[start, end)`. */
export function fnv1aFmix32(buf: Uint8Array, start = 0, end = buf.length): number {
  let h = FNV_OFFSET;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, FNV_PRIME);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
