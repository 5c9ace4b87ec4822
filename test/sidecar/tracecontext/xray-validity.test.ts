import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  XRAY_MAX_AGE_SECONDS,
  XRAY_MAX_SKEW_SECONDS,
  isXRayValidTraceId,
  xrayEpochSeconds,
  xrayValidity,
} from '../../../sidecar/tracecontext/xray-validity.ts';
import { epochSecondsArb, traceIdArb } from './arbitraries.ts';

/** A trace ID whose bytes 0-3 hold `epoch` and whose bytes 4-15 are `rest`. */
function idAt(epoch: number, rest: Uint8Array = new Uint8Array(12).fill(0xab)): Uint8Array {
  const id = new Uint8Array(16);
  Buffer.from(id.buffer).writeUInt32BE(epoch >>> 0, 0);
  id.set(rest.subarray(0, 12), 4);
  return id;
}

describe('tracecontext legacy X-Ray validity', () => {
  it('uses the collector awsxrayexporter constants: 28 days and 5 minutes', () => {
    assert.equal(XRAY_MAX_AGE_SECONDS, 2_419_200);
    assert.equal(XRAY_MAX_SKEW_SECONDS, 300);
  });

  it('reads bytes 0-3 as a big-endian unsigned epoch, including after 2038', () => {
    assert.equal(xrayEpochSeconds(idAt(0x5759e988)), 0x5759e988);
    assert.equal(xrayEpochSeconds(idAt(0xfffffffe)), 0xfffffffe);
    const buf = new Uint8Array(30);
    buf.set(idAt(0x80000001), 7);
    assert.equal(xrayEpochSeconds(buf, 7), 0x80000001);
  });

  it('has inclusive bounds exactly as `delta > maxAge || delta < -maxSkew` rejects', () => {
    const ref = 1_800_000_000;
    assert.equal(xrayValidity(idAt(ref - XRAY_MAX_AGE_SECONDS), ref), 'valid');
    assert.equal(xrayValidity(idAt(ref - XRAY_MAX_AGE_SECONDS - 1), ref), 'too-old');
    assert.equal(xrayValidity(idAt(ref + XRAY_MAX_SKEW_SECONDS), ref), 'valid');
    assert.equal(xrayValidity(idAt(ref + XRAY_MAX_SKEW_SECONDS + 1), ref), 'in-future');
    assert.equal(xrayValidity(idAt(ref), ref), 'valid');
  });

  it('truncates a fractional reference as Go time.Unix() does', () => {
    const ref = 1_800_000_000;
    // ref + 0.9 truncates to ref: an epoch 28 days + 1 s before ref + 0.9 is still too old,
    // and one exactly 28 days before ref is valid.
    assert.equal(xrayValidity(idAt(ref - XRAY_MAX_AGE_SECONDS), ref + 0.9), 'valid');
    assert.equal(xrayValidity(idAt(ref + XRAY_MAX_SKEW_SECONDS + 1), ref + 0.9), 'in-future');
  });

  it('rejects the AWS documentation example today and accepts it in June 2016', () => {
    const id = idAt(0x5759e988);
    assert.equal(isXRayValidTraceId(id, Date.parse('2026-01-01T00:00:00Z') / 1000), false);
    assert.equal(isXRayValidTraceId(id, Date.parse('2016-06-10T00:00:00Z') / 1000), true);
  });

  it('agrees with a direct transcription of the collector check on random IDs and times', () => {
    fc.assert(
      fc.property(traceIdArb, epochSecondsArb, fc.integer({ min: -3_000_000, max: 3_000_000 }), (rest, ref, shift) => {
        const id = idAt(ref + shift, rest);
        const epoch = Buffer.from(id).readUInt32BE(0);
        const delta = ref - epoch;
        const expected = !(delta > 60 * 60 * 24 * 28 || delta < -60 * 5);
        assert.equal(isXRayValidTraceId(id, ref), expected);
      }),
      { numRuns: 500 },
    );
  });
});
