import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  formatXRayTraceId,
  hexToSpanId,
  hexToSpanIdInto,
  hexToTraceId,
  hexToTraceIdInto,
  isValidSpanId,
  isValidTraceId,
  parseXRayTraceId,
  parseXRayTraceIdInto,
  spanIdToHex,
  traceIdToHex,
  traceIdsEqual,
} from '../../../sidecar/tracecontext/ids.ts';
import { anyTraceIdArb, hex, junkArb, mixCase, spanIdArb, traceIdArb } from './arbitraries.ts';

const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));

describe('tracecontext ids', () => {
  describe('fixtures', () => {
    it('reads and writes the AWS documentation trace ID in both forms', () => {
      // AWS X-Ray developer guide, "Tracing header".
      const id = parseXRayTraceId('1-5759e988-bd862e3fe1be46a994272793');
      assert.deepEqual(id, bytes('5759e988bd862e3fe1be46a994272793'));
      assert.equal(traceIdToHex(id), '5759e988bd862e3fe1be46a994272793');
      assert.equal(formatXRayTraceId(id), '1-5759e988-bd862e3fe1be46a994272793');
      // The collector's doc comment example: 10:00 2016-12-02 PST = 0x58406520.
      assert.deepEqual(parseXRayTraceId('1-58406520-a006649127e371903a2de979'), bytes('58406520a006649127e371903a2de979'));
    });

    it('left-pads a 64-bit trace ID with 8 zero bytes, as the zipkin receiver does', () => {
      assert.deepEqual(hexToTraceId('a3ce929d0e0e4736'), bytes('0000000000000000a3ce929d0e0e4736'));
      assert.equal(traceIdToHex(hexToTraceId('a3ce929d0e0e4736')!), '0000000000000000a3ce929d0e0e4736');
    });

    it('accepts either hex case and writes lowercase', () => {
      assert.equal(traceIdToHex(hexToTraceId('4BF92F3577B34DA6A3CE929D0E0E4736')!), '4bf92f3577b34da6a3ce929d0e0e4736');
      assert.equal(spanIdToHex(hexToSpanId('00F067AA0BA902B7')!), '00f067aa0ba902b7');
      assert.equal(formatXRayTraceId(parseXRayTraceId('1-5759E988-BD862E3FE1BE46A994272793')!), '1-5759e988-bd862e3fe1be46a994272793');
    });

    it('rejects all-zero IDs in every form', () => {
      assert.equal(hexToTraceId('00000000000000000000000000000000'), undefined);
      assert.equal(hexToTraceId('0000000000000000'), undefined);
      assert.equal(hexToSpanId('0000000000000000'), undefined);
      assert.equal(parseXRayTraceId('1-00000000-000000000000000000000000'), undefined);
      assert.equal(isValidTraceId(new Uint8Array(16)), false);
      assert.equal(isValidSpanId(new Uint8Array(8)), false);
    });

    it('rejects wrong lengths, versions, separators and non-hex', () => {
      for (const bad of ['', 'a', '4bf92f3577b34da6a3ce929d0e0e473', '4bf92f3577b34da6a3ce929d0e0e47360', 'g3ce929d0e0e4736', ' a3ce929d0e0e4736', '-3ce929d0e0e4736']) {
        assert.equal(hexToTraceId(bad), undefined, bad);
      }
      for (const bad of ['2-5759e988-bd862e3fe1be46a994272793', '1_5759e988-bd862e3fe1be46a994272793', '1-5759e988_bd862e3fe1be46a994272793', '1-5759e98-bd862e3fe1be46a9942727933', '1-5759e988-bd862e3fe1be46a99427279', '1-5759e988-bd862e3fe1be46a99427279z', '15759e988bd862e3fe1be46a994272793']) {
        assert.equal(parseXRayTraceId(bad), undefined, bad);
      }
      assert.equal(hexToSpanId('00f067aa0ba902b'), undefined);
      assert.equal(hexToSpanId('00f067aa0ba902b7a3ce929d0e0e4736'), undefined);
    });

    it('rejects non-ASCII characters whose low byte looks like hex', () => {
      // U+0131 and U+0161 have low bytes 0x31 ('1') and 0x61 ('a').
      assert.equal(hexToSpanId('\u0131\u01610f067aa0ba902b7'.slice(0, 16)), undefined);
      assert.equal(hexToTraceId('\u0161'.repeat(16)), undefined);
    });

    it('refuses to write past the end of the output buffer', () => {
      assert.equal(hexToTraceIdInto('4bf92f3577b34da6a3ce929d0e0e4736', new Uint8Array(20), 5), false);
      assert.equal(hexToSpanIdInto('00f067aa0ba902b7', new Uint8Array(8), 1), false);
      assert.equal(parseXRayTraceIdInto('1-5759e988-bd862e3fe1be46a994272793', new Uint8Array(16), 1), false);
    });
  });

  describe('properties', () => {
    it('bytes -> hex -> bytes round-trips, and hex matches Buffer as an oracle', () => {
      fc.assert(
        fc.property(anyTraceIdArb, spanIdArb, (t, s) => {
          assert.equal(traceIdToHex(t), hex(t));
          assert.equal(spanIdToHex(s), hex(s));
          assert.deepEqual(hexToTraceId(traceIdToHex(t)), t);
          assert.deepEqual(hexToSpanId(spanIdToHex(s)), s);
        }),
        { numRuns: 300 },
      );
    });

    it('bytes -> X-Ray -> bytes round-trips, and the X-Ray form is 1-<bytes 0-3>-<bytes 4-15>', () => {
      fc.assert(
        fc.property(anyTraceIdArb, (t) => {
          const x = formatXRayTraceId(t);
          assert.equal(x, `1-${hex(t.subarray(0, 4))}-${hex(t.subarray(4))}`);
          assert.deepEqual(parseXRayTraceId(x), t);
        }),
        { numRuns: 300 },
      );
    });

    it('hex -> bytes -> hex gives the lowercase input for any case mix', () => {
      fc.assert(
        fc.property(traceIdArb, fc.nat(), (t, mask) => {
          const h = hex(t);
          assert.equal(traceIdToHex(hexToTraceId(mixCase(h, mask))!), h);
          assert.equal(formatXRayTraceId(parseXRayTraceId(mixCase(formatXRayTraceId(t), mask))!), formatXRayTraceId(t));
        }),
      );
    });

    it('the Into variants write exactly 16/8 bytes at the offset and nothing else', () => {
      fc.assert(
        fc.property(traceIdArb, spanIdArb, fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 255 }), (t, s, off, fill) => {
          const buf = new Uint8Array(off + 40).fill(fill);
          assert.ok(hexToTraceIdInto(hex(t), buf, off));
          assert.ok(hexToSpanIdInto(hex(s), buf, off + 16));
          assert.deepEqual(buf.subarray(off, off + 16), t);
          assert.deepEqual(buf.subarray(off + 16, off + 24), s);
          assert.ok(buf.subarray(0, off).every((b) => b === fill));
          assert.ok(buf.subarray(off + 24).every((b) => b === fill));
          assert.equal(traceIdToHex(buf, off), hex(t));
          assert.equal(spanIdToHex(buf, off + 16), hex(s));
          assert.ok(traceIdsEqual(buf, off, t, 0));
          assert.ok(parseXRayTraceIdInto(formatXRayTraceId(t), buf, off + 24));
          assert.equal(formatXRayTraceId(buf, off + 24), formatXRayTraceId(t));
        }),
      );
    });

    it('malformed input returns undefined and never throws', () => {
      const validish = fc.oneof(traceIdArb.map(hex), spanIdArb.map(hex), traceIdArb.map((t) => formatXRayTraceId(t)));
      fc.assert(
        fc.property(junkArb(validish), (s) => {
          const t = hexToTraceId(s);
          if (t !== undefined) assert.match(s, /^(?:[0-9a-f]{32}|[0-9a-f]{16})$/i);
          const x = parseXRayTraceId(s);
          if (x !== undefined) assert.match(s, /^1-[0-9a-f]{8}-[0-9a-f]{24}$/i);
          const sp = hexToSpanId(s);
          if (sp !== undefined) assert.match(s, /^[0-9a-f]{16}$/i);
        }),
        { numRuns: 500 },
      );
    });
  });
});
