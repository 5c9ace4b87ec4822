import assert from 'node:assert/strict';
import fc from 'fast-check';
import { runConvert } from '../../../sidecar/tracecontext/convert-command.ts';
import { formatTraceparent } from '../../../sidecar/tracecontext/w3c.ts';
import { formatXRayHeader } from '../../../sidecar/tracecontext/xray-header.ts';
import { hex, w3cContextArb } from './arbitraries.ts';

const NOW = new Date('2026-11-25T12:00:00Z');
const AWS_HEADER = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';

interface Run {
  code: number;
  out: string[];
  err: string[];
  /** Value of the `label:` line. */
  field(label: string): string | undefined;
}

function run(args: string[], now: Date = NOW): Run {
  const out: string[] = [];
  const err: string[] = [];
  const code = runConvert(args, (l) => out.push(l), (l) => err.push(l), now);
  return {
    code,
    out,
    err,
    field: (label) => {
      const line = out.find((l) => l.startsWith(`${label}:`));
      return line?.slice(label.length + 1).trim();
    },
  };
}

describe('tracecontext convert command', () => {
  it('converts the AWS documentation header into every format', () => {
    const r = run([AWS_HEADER]);
    assert.equal(r.code, 0);
    assert.deepEqual(r.err, []);
    assert.equal(r.field('input'), 'X-Amzn-Trace-Id header');
    assert.equal(r.field('trace ID (W3C)'), '5759e988bd862e3fe1be46a994272793');
    assert.equal(r.field('trace ID (X-Ray)'), '1-5759e988-bd862e3fe1be46a994272793');
    assert.equal(r.field('span ID'), '53995c3f42cd8ad8');
    assert.equal(r.field('sampled'), 'yes');
    assert.equal(r.field('traceparent'), '00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01');
    assert.equal(r.field('X-Amzn-Trace-Id'), AWS_HEADER);
    assert.equal(r.field('b3'), '5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-1');
    assert.equal(r.field('x-b3-traceid'), '5759e988bd862e3fe1be46a994272793');
    assert.equal(r.field('x-b3-spanid'), '53995c3f42cd8ad8');
    assert.equal(r.field('x-b3-sampled'), '1');
    assert.match(r.field('legacy X-Ray now')!, /^rejected: embedded time 2016-06-09T22:11:20.000Z is \d+ days before now, more than 28 days$/);
    assert.match(r.field('on_invalid: rewrite')!, /^1-6b063c28-bd862e3fe1be46a994272793 = 6b063c28bd862e3fe1be46a994272793 /);
  });

  it('accepts a header name prefix and unquoted words (joined with a space)', () => {
    const a = run(['X-Amzn-Trace-Id:', AWS_HEADER]);
    const b = run([`x-amzn-trace-id: ${AWS_HEADER}`]);
    assert.equal(a.code, 0);
    assert.deepEqual(a.out, b.out);
    assert.deepEqual(a.out, run([AWS_HEADER]).out);
    assert.equal(run(['traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01']).field('input'), 'traceparent');
    assert.equal(run(['B3:80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1']).field('input'), 'b3 header');
  });

  it('reports an ID as accepted now when its timestamp is recent, and the rewrite as unchanged', () => {
    const r = run(['1-6925a000-abcdef012345678912345678'], new Date(0x6925a000 * 1000 + 3 * 86_400_000));
    assert.equal(r.code, 0);
    assert.equal(r.field('input'), 'X-Ray trace ID');
    assert.equal(r.field('legacy X-Ray now'), 'accepted (embedded time 2025-11-25T12:24:32.000Z, 3 days before now)');
    assert.match(r.field('on_invalid: rewrite')!, /^unchanged: already legacy-valid/);
    assert.equal(r.field('traceparent'), '(none: the input has no span ID)');
    assert.equal(r.field('X-Amzn-Trace-Id'), 'Root=1-6925a000-abcdef012345678912345678');
  });

  it('says why a future timestamp is rejected', () => {
    const r = run(['1-6925a000-abcdef012345678912345678'], new Date(0x6925a000 * 1000 - 10 * 60_000));
    assert.equal(r.field('legacy X-Ray now'), 'rejected: embedded time 2025-11-25T12:24:32.000Z is 10 minutes after now, more than 5 minutes');
  });

  it('pads a 64-bit ID and says so', () => {
    const r = run(['a3ce929d0e0e4736']);
    assert.equal(r.code, 0);
    assert.equal(r.field('note'), '64-bit trace ID, left-padded with 8 zero bytes to 16');
    assert.equal(r.field('trace ID (W3C)'), '0000000000000000a3ce929d0e0e4736');
    assert.match(r.field('legacy X-Ray now')!, /^rejected: embedded time 1970-01-01T00:00:00.000Z/);
  });

  it('prints B3 parent and debug from a b3 value', () => {
    const r = run(['80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-d-05e3ac9a4f6e3b90']);
    assert.equal(r.field('parent span ID'), '05e3ac9a4f6e3b90');
    assert.equal(r.field('sampled'), 'yes (debug)');
    assert.equal(r.field('x-b3-flags'), '1');
    assert.equal(r.field('x-b3-parentspanid'), '05e3ac9a4f6e3b90');
    assert.equal(r.field('traceparent'), '00-80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-01');
  });

  it('explains a bare b3 sampling decision', () => {
    const r = run(['0']);
    assert.equal(r.code, 0);
    assert.equal(r.field('sampled'), 'no');
    assert.match(r.field('note')!, /no trace ID to convert/);
  });

  it('exits 1 with one clear line on malformed input', () => {
    const cases: Array<[string, RegExp]> = [
      ['00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0', /^convert: "00-.*" is not a valid traceparent: expected /],
      ['00000000000000000000000000000000', /is not a valid trace ID: expected 32 or 16 hex digits, not all zero$/],
      ['1-5759e988-bd862e3fe1be46a99427279', /is not a valid X-Ray trace ID/],
      ['Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=maybe', /is not a valid X-Amzn-Trace-Id header/],
      ['80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-x', /is not a valid b3 header/],
      ['b3: nonsense', /is not a valid b3 header/],
      ['hello world', /^convert: "hello world" is not a trace ID \(32 or 16 hex\), an X-Ray trace ID/],
      ['abc', /is not a valid trace ID/],
    ];
    for (const [value, message] of cases) {
      const r = run([value]);
      assert.equal(r.code, 1, value);
      assert.deepEqual(r.out, []);
      assert.equal(r.err.length, 1, value);
      assert.match(r.err[0]!, message);
    }
    const long = run(['x'.repeat(5000)]);
    assert.ok(long.err[0]!.length < 500, 'echoes at most 200 characters of the value');
    assert.ok(!run(['Root=1-x\nevil']).err[0]!.includes('\n'), 'control characters are escaped');
  });

  it('exits 2 on usage errors and 0 with usage on --help', () => {
    for (const args of [[], [''], ['--at', 'now'], ['-x']]) {
      const r = run(args);
      assert.equal(r.code, 2, JSON.stringify(args));
      assert.match(r.err[0]!, /^convert: (missing VALUE|unknown option)/);
      assert.ok(r.err.some((l) => l.startsWith('usage: tracebridge-sidecar convert VALUE')));
    }
    const help = run(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.out[0]!, /^usage:/);
  });

  it('round-trips: converting any printed header gives back the same IDs', () => {
    fc.assert(
      fc.property(w3cContextArb, (ctx) => {
        const fromTp = run([formatTraceparent(ctx)!]);
        assert.equal(fromTp.code, 0);
        assert.equal(fromTp.field('trace ID (W3C)'), hex(ctx.traceId));
        for (const printed of [fromTp.field('X-Amzn-Trace-Id')!, fromTp.field('b3')!, fromTp.field('traceparent')!]) {
          const again = run([printed]);
          assert.equal(again.code, 0, printed);
          assert.equal(again.field('trace ID (W3C)'), hex(ctx.traceId));
          assert.equal(again.field('span ID'), hex(ctx.spanId!));
          assert.equal(again.field('sampled'), ctx.sampled ? 'yes' : 'no');
        }
        assert.equal(fromTp.field('X-Amzn-Trace-Id'), formatXRayHeader(ctx));
      }),
      { numRuns: 100 },
    );
  });
});
