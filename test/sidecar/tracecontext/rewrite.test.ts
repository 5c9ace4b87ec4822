import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  DEFAULT_REWRITE_WINDOW_SECONDS,
  bucketOffsetSeconds,
  bucketStartSeconds,
  isUsableStartTime,
  readUnixNanosAsEpochSeconds,
  rewriteTraceIdAtReceiveTime,
  rewriteTraceIdIfInvalid,
  rewriteTraceIdInPlace,
  rewriteWindowError,
  rewrittenTraceId,
  traceBucketHash,
} from '../../../sidecar/tracecontext/rewrite.ts';
import { XRAY_MAX_AGE_SECONDS, isXRayValidTraceId, xrayEpochSeconds } from '../../../sidecar/tracecontext/xray-validity.ts';
import { epochSecondsArb, hex, traceIdArb, windowArb } from './arbitraries.ts';

const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
const DAY = 86_400;

/** A trace ID that is legacy-valid relative to `ref`: bytes 0-3 within [ref - 28 d, ref + 5 min]. */
function validIdAt(ref: number, rest: Uint8Array, back: number): Uint8Array {
  const id = new Uint8Array(16);
  Buffer.from(id.buffer).writeUInt32BE(ref - back, 0);
  id.set(rest.subarray(4, 16), 4);
  return id;
}

/**
 * What the tracecontext processor does for one span in one sidecar process: the span's start
 * time when usable, else this process's receive time. The process's clock enters only there.
 */
function processSpan(traceId: Uint8Array, startSeconds: number, receiveSeconds: number, window: number): Uint8Array {
  const buf = traceId.slice();
  if (rewriteTraceIdIfInvalid(buf, 0, startSeconds, window) === 'no-start-time') {
    rewriteTraceIdAtReceiveTime(buf, 0, receiveSeconds, window);
  }
  return buf;
}

describe('tracecontext rewrite', () => {
  describe('fixtures', () => {
    it('pins the bucket hash (FNV-1a 32 over bytes 4-15 + fmix32): changing it splits traces across versions', () => {
      // Pinned from an independent Python transcription; a change here is a breaking change.
      const id = bytes('5759e988bd862e3fe1be46a994272793');
      assert.equal(traceBucketHash(id), traceBucketHash(bytes('00000000bd862e3fe1be46a994272793')));
      assert.equal(traceBucketHash(id), referenceHash(id));
      assert.equal(traceBucketHash(id).toString(16), PINNED_HASH_HEX);
    });

    it('rewrites the AWS example ID for a span starting 2026-11-25T12:00:00Z to the pinned value', () => {
      const start = Date.parse('2026-11-25T12:00:00Z') / 1000;
      const out = rewrittenTraceId(bytes('5759e988bd862e3fe1be46a994272793'), start)!;
      assert.equal(hex(out), PINNED_REWRITE_HEX);
      assert.ok(isXRayValidTraceId(out, start));
    });

    it('validates the window: whole seconds in [1 s, 28 days]', () => {
      assert.equal(rewriteWindowError(DEFAULT_REWRITE_WINDOW_SECONDS), undefined);
      assert.equal(rewriteWindowError(1), undefined);
      assert.equal(rewriteWindowError(XRAY_MAX_AGE_SECONDS), undefined);
      for (const bad of [0, -1, 0.5, XRAY_MAX_AGE_SECONDS + 1, Number.NaN, Number.POSITIVE_INFINITY]) {
        assert.match(rewriteWindowError(bad) ?? '', /whole number of seconds between 1s and 672h/, String(bad));
        assert.throws(() => rewriteTraceIdIfInvalid(new Uint8Array(16).fill(1), 0, 1_800_000_000, bad), RangeError);
      }
    });

    it('treats 0, negative, non-finite and beyond-2106 start times as unusable', () => {
      for (const bad of [0, -5, 0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 32]) assert.equal(isUsableStartTime(bad), false, String(bad));
      assert.equal(isUsableStartTime(1_800_000_000.7), true);
      const id = bytes('4bf92f3577b34da6a3ce929d0e0e4736');
      assert.equal(rewriteTraceIdIfInvalid(id, 0, 0), 'no-start-time');
      assert.equal(hex(id), '4bf92f3577b34da6a3ce929d0e0e4736');
      assert.equal(rewrittenTraceId(id, 0), undefined);
      assert.equal(rewriteTraceIdInPlace(id, 0, Number.NaN), false);
    });

    it('leaves all-zero IDs and short buffers alone', () => {
      const zero = new Uint8Array(16);
      assert.equal(rewriteTraceIdIfInvalid(zero, 0, 1_800_000_000), 'invalid-id');
      assert.ok(zero.every((b) => b === 0));
      assert.equal(rewriteTraceIdIfInvalid(new Uint8Array(16).fill(1), 4, 1_800_000_000), 'invalid-id');
      assert.equal(rewrittenTraceId(new Uint8Array(8).fill(1), 1_800_000_000), undefined);
    });

    it('clamps the bucket start at 0 in January 1970 and stays valid', () => {
      const id = bytes('ffffffff00000000000000000000000a');
      const start = 100;
      const out = rewrittenTraceId(id, start, 2_419_200)!;
      assert.ok(xrayEpochSeconds(out) <= start);
      assert.ok(isXRayValidTraceId(out, start));
    });

    it('reads OTLP fixed64 nanoseconds exactly, at an offset, without BigInt', () => {
      const buf = new Uint8Array(12);
      const view = new DataView(buf.buffer);
      const cases = [0n, 999_999_999n, 1_000_000_000n, 1_764_072_000_999_999_999n, 1_764_072_001_000_000_000n, 2n ** 64n - 1n];
      for (const nanos of cases) {
        view.setBigUint64(3, nanos, true);
        assert.equal(readUnixNanosAsEpochSeconds(buf, 3), Number(nanos / 1_000_000_000n), String(nanos));
      }
    });
  });

  describe('properties', () => {
    it('output is always legacy-valid relative to the span start and never later than it', () => {
      fc.assert(
        fc.property(traceIdArb, epochSecondsArb, fc.double({ min: 0, max: 0.999, noNaN: true }), windowArb, (id, s, frac, w) => {
          const start = s + frac;
          const out = rewrittenTraceId(id, start, w)!;
          assert.ok(isXRayValidTraceId(out, start));
          const b = xrayEpochSeconds(out);
          if (!isXRayValidTraceId(id, start)) {
            assert.ok(b <= s && b > s - w, `bucket start ${b} for start ${s}, window ${w}`);
            assert.ok(s - b < XRAY_MAX_AGE_SECONDS);
          }
        }),
        { numRuns: 1000 },
      );
    });

    it('keeps bytes 4-15 and is deterministic', () => {
      fc.assert(
        fc.property(traceIdArb, epochSecondsArb, windowArb, (id, s, w) => {
          const a = rewrittenTraceId(id, s, w)!;
          const b = rewrittenTraceId(id.slice(), s, w)!;
          assert.deepEqual(a, b);
          assert.deepEqual(a.subarray(4), id.subarray(4));
        }),
        { numRuns: 500 },
      );
    });

    it('never changes a valid ID (rewrite-if-invalid returns the same bytes)', () => {
      fc.assert(
        fc.property(traceIdArb, epochSecondsArb, fc.integer({ min: -300, max: XRAY_MAX_AGE_SECONDS }), windowArb, (rest, s, back, w) => {
          const id = validIdAt(s, rest, back);
          const buf = id.slice();
          assert.equal(rewriteTraceIdIfInvalid(buf, 0, s, w), 'kept');
          assert.deepEqual(buf, id);
          assert.deepEqual(rewrittenTraceId(id, s, w), id);
        }),
        { numRuns: 500 },
      );
    });

    it('rewriting is idempotent: a rewritten ID is kept when seen again', () => {
      fc.assert(
        fc.property(traceIdArb, epochSecondsArb, windowArb, (id, s, w) => {
          const once = rewrittenTraceId(id, s, w)!;
          assert.deepEqual(rewrittenTraceId(once, s, w), once);
        }),
      );
    });

    it('two processes with clocks minutes apart give the same result for the same span start', () => {
      fc.assert(
        fc.property(traceIdArb, epochSecondsArb, fc.integer({ min: 0, max: 120 }), fc.integer({ min: -30, max: 30 }), windowArb, (id, start, delay, clockMinutes, w) => {
          // Process B's clock is `clockMinutes` ahead of (or behind) process A's.
          const receiveA = start + delay;
          const receiveB = receiveA + clockMinutes * 60;
          assert.deepEqual(processSpan(id, start, receiveA, w), processSpan(id, start, receiveB, w));
        }),
        { numRuns: 500 },
      );
    });

    it('without a start time the receive time anchors it, and that does differ between processes', () => {
      // The documented non-deterministic case: spans straddling a bucket boundary in receive time.
      const id = bytes('4bf92f3577b34da6a3ce929d0e0e4736');
      const w = 3600;
      const boundary = bucketStartSeconds(id, 1_800_000_000, w) + w;
      const a = processSpan(id, 0, boundary - 60, w);
      const b = processSpan(id, 0, boundary + 60, w);
      assert.notDeepEqual(a, b);
      assert.ok(isXRayValidTraceId(a, boundary - 60) && isXRayValidTraceId(b, boundary + 60));
    });

    it('spans of one trace starting in the same bucket share one ID; the boundary splits them', () => {
      fc.assert(
        fc.property(traceIdArb, epochSecondsArb, windowArb, fc.nat(), fc.nat(), (id, s, w, i, j) => {
          fc.pre(!isXRayValidTraceId(id, s) && !isXRayValidTraceId(id, s + w));
          const b = bucketStartSeconds(id, s, w);
          const s1 = b + (i % w);
          const s2 = b + (j % w);
          fc.pre(!isXRayValidTraceId(id, s1) && !isXRayValidTraceId(id, s2));
          assert.deepEqual(rewrittenTraceId(id, s1, w), rewrittenTraceId(id, s2, w));
          const next = rewrittenTraceId(id, b + w, w)!;
          assert.equal(xrayEpochSeconds(next), b + w);
          if (b > 0) assert.equal(xrayEpochSeconds(rewrittenTraceId(id, b - 1, w)!), b - w);
        }),
        { numRuns: 300 },
      );
    });

    it('bucket boundaries of random traces cover the window roughly uniformly', () => {
      // 20 bins, 8000 random traces: expected 400 per bin. Chi-square with 19 degrees of freedom
      // exceeds 43.8 with probability 0.001; fixed seed keeps the test reproducible.
      for (const w of [DAY, 3600, 7 * DAY]) {
        const bins = new Array<number>(20).fill(0);
        fc.assert(
          fc.property(traceIdArb, (id) => {
            const o = bucketOffsetSeconds(id, w);
            assert.ok(o >= 0 && o < w);
            bins[Math.floor((o / w) * 20)]!++;
          }),
          { numRuns: 8000, seed: 42 },
        );
        const chi2 = bins.reduce((acc, n) => acc + (n - 400) ** 2 / 400, 0);
        assert.ok(chi2 < 43.8, `window ${w}: chi-square ${chi2.toFixed(1)} over bins ${bins.join(',')}`);
      }
    });

    it('bucket offsets spread even for IDs that differ in one byte (no clustering of sequential IDs)', () => {
      const bins = new Array<number>(16).fill(0);
      const id = bytes('00000000000000000000000000000000');
      for (let i = 0; i < 4096; i++) {
        id[14] = i >> 8;
        id[15] = i & 0xff;
        bins[Math.floor((bucketOffsetSeconds(id, DAY) / DAY) * 16)]!++;
      }
      // Expected 256 per bin; chi-square, 15 degrees of freedom, p = 0.001 at 37.7.
      const chi2 = bins.reduce((acc, n) => acc + (n - 256) ** 2 / 256, 0);
      assert.ok(chi2 < 37.7, `chi-square ${chi2.toFixed(1)} over ${bins.join(',')}`);
    });

    it('rewrites in place at an offset and touches only bytes 0-3 of that ID', () => {
      fc.assert(
        fc.property(traceIdArb, epochSecondsArb, fc.integer({ min: 0, max: 40 }), (id, s, off) => {
          fc.pre(!isXRayValidTraceId(id, s));
          const buf = new Uint8Array(off + 16 + 9).fill(0x5a);
          buf.set(id, off);
          assert.equal(rewriteTraceIdIfInvalid(buf, off, s), 'rewritten');
          assert.deepEqual(buf.subarray(off, off + 16), rewrittenTraceId(id, s));
          assert.ok(buf.subarray(0, off).every((b) => b === 0x5a));
          assert.ok(buf.subarray(off + 16).every((b) => b === 0x5a));
        }),
      );
    });

    it('readUnixNanosAsEpochSeconds agrees with BigInt division', () => {
      fc.assert(
        fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (nanos) => {
          const buf = new Uint8Array(8);
          new DataView(buf.buffer).setBigUint64(0, nanos, true);
          assert.equal(readUnixNanosAsEpochSeconds(buf, 0), Number(nanos / 1_000_000_000n));
        }),
        { numRuns: 500 },
      );
    });
  });
});

/** Independent transcription of the documented hash, to catch an accidental edit of either. */
function referenceHash(id: Uint8Array): number {
  let h = 2166136261;
  for (let i = 4; i < 16; i++) h = Number((BigInt(h ^ id[i]!) * 16777619n) & 0xffffffffn);
  h ^= h >>> 16;
  h = Number((BigInt(h >>> 0) * 0x85ebca6bn) & 0xffffffffn);
  h ^= h >>> 13;
  h = Number((BigInt(h >>> 0) * 0xc2b2ae35n) & 0xffffffffn);
  h ^= h >>> 16;
  return h >>> 0;
}

const PINNED_HASH_HEX = '6615eda8';
// Computed independently (Python): offset 0x6615eda8 mod 86400 = 5928 s, so buckets start at
// 01:38:48 UTC each day; the one holding 12:00 starts 2026-11-25T01:38:48Z = 0x6b063c28.
const PINNED_REWRITE_HEX = '6b063c28bd862e3fe1be46a994272793';

describe('rewrittenTraceId with a Buffer input', () => {
  it('returns a copy and never writes into the caller\'s Buffer (Buffer#slice is a view)', () => {
    const input = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
    const before = Buffer.from(input);
    const out = rewrittenTraceId(input, Math.floor(Date.now() / 1000));
    assert.ok(out !== undefined);
    assert.deepEqual(input, before);
    assert.notDeepEqual(Buffer.from(out), before);
  });
});
