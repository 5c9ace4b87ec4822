// Consistent hashing: every backend owns VIRTUAL_POINTS points on a 32-bit ring, and a key belongs
// to the backend owning the first point at or after the key's hash (wrapping). Adding or removing
// one backend of N moves only the keys of the points it gains or loses, about 1/N of them; with
// many points per backend the shares stay even (about ±10% of a share with 160 points).
//
// Deterministic across processes: the points depend only on the endpoint strings and the hash is
// fixed (FNV-1a then the murmur3 finalizer), so sidecars given the same endpoints route a trace to
// the same backend without talking to each other. Never change the hash or the point naming: the
// sidecars of one rollout would then disagree until all have restarted.

import { fnv1aFmix32 } from '../../pdata/hash.ts';

/** Points per backend: more evens out the shares, at 8 bytes per point and a slower rebuild. */
export const VIRTUAL_POINTS = 160;

/** 32-bit hash of `buf[start, end)`: FNV-1a over the bytes, then murmur3's fmix32 to spread the bits. */
export function hashBytes(buf: Uint8Array, start = 0, end = buf.length): number {
  return fnv1aFmix32(buf, start, end);
}

export class HashRing {
  /** The backends, sorted; owner indexes point into it. */
  readonly endpoints: readonly string[];
  private readonly points: Uint32Array;
  private readonly owners: Uint16Array;

  /** `endpoints` are sorted and de-duplicated here, so their order does not matter. */
  constructor(endpoints: readonly string[]) {
    const sorted = [...new Set(endpoints)].sort();
    if (sorted.length > 0xffff) throw new RangeError('too many backends for one ring');
    this.endpoints = sorted;
    const all: { point: number; owner: number }[] = [];
    const enc = new TextEncoder();
    sorted.forEach((ep, owner) => {
      for (let i = 0; i < VIRTUAL_POINTS; i++) all.push({ point: hashBytes(enc.encode(`${ep}#${i}`)), owner });
    });
    // Ties (two endpoints hashing a point to the same value) break by endpoint order: deterministic.
    all.sort((a, b) => a.point - b.point || a.owner - b.owner);
    this.points = Uint32Array.from(all, (p) => p.point);
    this.owners = Uint16Array.from(all, (p) => p.owner);
  }

  get size(): number {
    return this.endpoints.length;
  }

  /** Index (into `endpoints`) of the owner of a key hash; -1 for an empty ring. */
  ownerOf(hash: number): number {
    const n = this.points.length;
    if (n === 0) return -1;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.points[mid]! < hash) lo = mid + 1;
      else hi = mid;
    }
    return this.owners[lo === n ? 0 : lo]!;
  }

  /** The endpoint owning a key, or undefined for an empty ring. */
  endpointFor(key: Uint8Array): string | undefined {
    return this.endpoints[this.ownerOf(hashBytes(key))];
  }
}
