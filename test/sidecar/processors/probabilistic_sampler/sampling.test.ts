// The probabilistic sampler's arithmetic and per-span decisions, against values derived
// independently of this code (a Python script implementing the collector's rules as read from its
// source: FNV-1a 32 from the FNV specification, float32 emulated with struct, thresholds with
// Python integers): testdata/vectors.py prints every vector used here.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decide, makeSampler, type Sampler } from '../../../../sidecar/processors/probabilistic_sampler/decide.ts';
import { probabilisticSamplerConfig, type ProbabilisticSamplerConfig } from '../../../../sidecar/processors/probabilistic_sampler/config.ts';
import {
  fnv1a32,
  hashAcceptBuckets,
  hashRandomness,
  hex14,
  percentageRatio,
  probabilityToThreshold,
  thresholdProbability,
  traceIdHash,
  tvalue,
  parseThreshold,
} from '../../../../sidecar/processors/probabilistic_sampler/sampling.ts';
import { parseTraceState, serializeTraceState } from '../../../../sidecar/processors/probabilistic_sampler/tracestate.ts';
import { ConfigErrors } from '../../../../sidecar/config/schema.ts';
import { ProbabilisticSamplerProcessor } from '../../../../sidecar/processors/probabilistic_sampler/processor.ts';
import { TracesData } from '../../../../sidecar/pdata/traces.ts';
import { MetricsRegistry } from '../../../../sidecar/telemetry/metrics.ts';
import { silentLogger } from '../../../support/sink.ts';

function cfg(over: Partial<ProbabilisticSamplerConfig>): ProbabilisticSamplerConfig {
  return { ...probabilisticSamplerConfig.defaultValue, ...over };
}

const id = (hex: string) => Buffer.from(hex, 'hex');
const th = (pct: number, precision = 4) => tvalue(probabilityToThreshold(percentageRatio(pct), precision)!);

function run(s: Sampler, traceId: string, tracestate = '', flags = 0) {
  return decide(s, id(traceId), 0, tracestate, flags);
}

describe('probabilistic_sampler arithmetic', () => {
  it('thresholds from percentages, OTEP 235 encoding at precision 4 (and others)', () => {
    assert.equal(th(50), '8');
    assert.equal(th(25), 'c');
    assert.equal(th(100 / 3), 'aaab');
    assert.equal(th(10), 'e666');
    assert.equal(th(1), 'fd71');
    assert.equal(th(15.3), 'd8d5');
    assert.equal(th(10, 14), 'e6666666666666');
    assert.equal(th(10, 1), 'e');
    // Leading zero digits add precision: 99.99% (as float32) needs 7 digits.
    assert.equal(th(99.99), '00068e1');
    assert.equal(th(100), '0');
  });

  it('threshold text round-trips and gives the probability back', () => {
    assert.deepEqual(parseThreshold('8'), { hi: 0x80_0000, lo: 0 });
    assert.equal(thresholdProbability(parseThreshold('8')!), 0.5);
    assert.equal(thresholdProbability(parseThreshold('c')!), 0.25);
    assert.equal(parseThreshold(''), undefined);
    assert.equal(parseThreshold('123456789012345'), undefined);
    assert.equal(parseThreshold('xyz'), undefined);
  });

  it('FNV-1a 32 matches the FNV specification vectors', () => {
    assert.equal(fnv1a32(Buffer.from('')), 0x811c9dc5);
    assert.equal(fnv1a32(Buffer.from('a')), 0xe40c292c);
    assert.equal(fnv1a32(Buffer.from('foobar')), 0xbf9cf968);
  });

  it('hash_seed: the collector hash of seed + trace ID, its bucket and 56-bit randomness (known vectors)', () => {
    const vectors: [number, string, number, string][] = [
      [0, '0102030405060708090a0b0c0d0e0f10', 0xdf241a25, '976b7c4f241a25'],
      [0, '4bf92f3577b34da6a3ce929d0e0e4736', 0x3420408d, 'fdc8d0b520408d'],
      [22, '0102030405060708090a0b0c0d0e0f10', 0xd863b443, '2ef3615663b443'],
      [22, 'ffffffffffffffffffffffffffffffff', 0x03b425b3, '69300ed3b425b3'],
      [0xdeadbeef, '0102030405060708090a0b0c0d0e0f10', 0x6bcb41ab, 'f951af46cb41ab'],
      [0xdeadbeef, '00000000000000000000000000000001', 0x99bda6f8, '641e666fbda6f8'],
    ];
    for (const [seed, tid, hash, rnd] of vectors) {
      assert.equal(traceIdHash(id(tid), 0, seed), hash, `hash of ${seed}/${tid}`);
      assert.equal(hex14(hashRandomness(hash)), rnd, `randomness of ${seed}/${tid}`);
    }
  });

  it('hash_seed: accept buckets out of 16384 with the collector float32 truncation', () => {
    assert.equal(hashAcceptBuckets(10), 1638);
    assert.equal(hashAcceptBuckets(15.3), 2506);
    assert.equal(hashAcceptBuckets(33.333), 5461);
    assert.equal(hashAcceptBuckets(50), 8192);
    assert.equal(hashAcceptBuckets(100), 16384);
    assert.equal(hashAcceptBuckets(250), 16384);
    assert.equal(hashAcceptBuckets(0.001), 0);
    assert.equal(hashAcceptBuckets(0.01), 1);
  });

  it('hash_seed decisions: kept when bucket < accept, with rv and th:e668 at 10%', () => {
    const s = makeSampler(cfg({ sampling_percentage: 10 }));
    // seed 0: bucket 141 (kept), 6693 (dropped); seed 0xdeadbeef: bucket 427 (kept), 9976 (dropped).
    const kept = run(s, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.deepEqual(kept, { sampled: true, policy: 'trace_id_hash', tracestate: 'ot=rv:fdc8d0b520408d;th:e668' });
    assert.equal(run(s, '0102030405060708090a0b0c0d0e0f10').sampled, false);
    const seeded = makeSampler(cfg({ sampling_percentage: 10, hash_seed: 0xdeadbeef }));
    assert.equal(run(seeded, '0102030405060708090a0b0c0d0e0f10').sampled, true);
    assert.equal(run(seeded, '00000000000000000000000000000001').sampled, false);
    // 15.3% with seed 22 (the collector's README example): buckets 13379 and 9651, both out.
    const s22 = makeSampler(cfg({ sampling_percentage: 15.3, hash_seed: 22 }));
    assert.equal(run(s22, '0102030405060708090a0b0c0d0e0f10').sampled, false);
    assert.equal(run(s22, 'ffffffffffffffffffffffffffffffff').sampled, false);
  });

  it('hash_seed: a tracestate that already has rv or th is an error (fail_closed drops, open keeps untouched)', () => {
    const closed = makeSampler(cfg({ sampling_percentage: 100 }));
    assert.equal(run(closed, '4bf92f3577b34da6a3ce929d0e0e4736', 'ot=th:8').sampled, false);
    const open = makeSampler(cfg({ sampling_percentage: 100, fail_closed: false }));
    assert.deepEqual(run(open, '4bf92f3577b34da6a3ce929d0e0e4736', 'ot=th:8'), { sampled: true, policy: 'trace_id_hash', tracestate: undefined });
  });
});

describe('probabilistic_sampler tracestate', () => {
  it('parses ot sub-keys and keeps other vendors; serializes ot first, rv then th', () => {
    const ts = parseTraceState(' congo=t61rcWkgMzE , ot=th:c;foo:bar;rv:0123456789abcd,rojo=00f067aa0ba902b7');
    assert.deepEqual(ts, { ot: { rv: '0123456789abcd', th: 'c', extras: ['foo:bar'] }, others: ['congo=t61rcWkgMzE', 'rojo=00f067aa0ba902b7'] });
    assert.equal(serializeTraceState(ts), 'ot=rv:0123456789abcd;th:c;foo:bar,congo=t61rcWkgMzE,rojo=00f067aa0ba902b7');
  });

  it('refuses what W3C and the OTel tracestate rules refuse', () => {
    for (const bad of [
      'ot=th:xyz', // not hex
      'ot=th:123456789012345', // 15 digits
      'ot=rv:123', // rv is 14 digits
      'ot=TH:8', // ot keys are lower case
      'Upper=1', // W3C keys are lower case
      'a=1,a=2', // duplicate key
      'novalue=', // empty value
      'k=a,b', // "b" has no "="
      `ot=${'x:'.padEnd(257, 'y')}`, // ot value over 256
      Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(','), // 33 members
    ]) {
      assert.equal(parseTraceState(bad), undefined, bad);
    }
    assert.ok(parseTraceState(Array.from({ length: 32 }, (_, i) => `k${i}=v`).join(',')));
    assert.ok(parseTraceState('tenant@sys=v,,  ,x=y'));
  });

  it('adding ot to 32 members removes the right-most one', () => {
    const s = makeSampler(cfg({ sampling_percentage: 100, mode: 'proportional' }));
    const members = Array.from({ length: 32 }, (_, i) => `k${i}=v`);
    const d = run(s, '4bf92f3577b34da6a3ce929d0e0e4736', members.join(','));
    assert.equal(d.tracestate, `ot=th:0,${members.slice(0, 31).join(',')}`);
  });
});

describe('probabilistic_sampler decisions (proportional, equalizing, upstream)', () => {
  // Trace ID randomness is bytes 9..15: ...80000000000000 passes 50%, ...7fffffffffffff does not.
  const HIGH = '000000000000000000ffffffffffffff';
  const MID = '00000000000000000080000000000000';
  const LOW = '0000000000000000007fffffffffffff';

  it('proportional: writes th from the percentage, keeps other vendors and ot sub-keys', () => {
    const s = makeSampler(cfg({ sampling_percentage: 10, mode: 'proportional' }));
    assert.deepEqual(run(s, HIGH, 'rojo=1,ot=foo:bar'), { sampled: true, policy: 'trace_id_w3c', tracestate: 'ot=th:e666;foo:bar,rojo=1' });
    assert.equal(run(s, MID).sampled, false);
  });

  it('proportional: the incoming probability multiplies (th:8 at 10% → 5%, th:f333)', () => {
    const s = makeSampler(cfg({ sampling_percentage: 10, mode: 'proportional' }));
    assert.equal(run(s, HIGH, 'ot=th:8').tracestate, 'ot=th:f333');
  });

  it('rv in tracestate is the randomness, before the trace ID', () => {
    const s = makeSampler(cfg({ sampling_percentage: 50, mode: 'proportional' }));
    assert.deepEqual(run(s, LOW, 'ot=rv:9b8233f7e3a151;th:0'), { sampled: true, policy: 'sampling_randomness', tracestate: 'ot=rv:9b8233f7e3a151;th:8' });
    assert.equal(run(s, HIGH, 'ot=rv:1b8233f7e3a151').sampled, false);
  });

  it('equalizing: the stricter of incoming and own threshold; a stricter incoming th is never loosened', () => {
    const s = makeSampler(cfg({ sampling_percentage: 50, mode: 'equalizing' }));
    // Incoming 1/16 (th:f) is stricter than 50%: kept as it is, tracestate unchanged.
    assert.deepEqual(run(s, HIGH, 'ot=th:f'), { sampled: true, policy: 'trace_id_w3c', tracestate: undefined });
    // Incoming 100% (th:0): raised to th:8.
    assert.equal(run(s, HIGH, 'ot=th:0').tracestate, 'ot=th:8');
    assert.equal(run(s, LOW, 'ot=th:0').sampled, false);
  });

  it('an incoming th the randomness does not pass is inconsistent: dropped closed, kept open with th:0', () => {
    const closed = makeSampler(cfg({ sampling_percentage: 100, mode: 'proportional' }));
    assert.equal(run(closed, LOW, 'ot=th:8').sampled, false);
    const open = makeSampler(cfg({ sampling_percentage: 100, mode: 'proportional', fail_closed: false }));
    assert.deepEqual(run(open, LOW, 'ot=th:8'), { sampled: true, policy: 'trace_id_w3c', tracestate: 'ot=th:0' });
  });

  it('unparseable tracestate or no randomness: dropped when fail_closed, kept untouched when open', () => {
    for (const mode of ['proportional', 'equalizing', 'hash_seed'] as const) {
      const closed = makeSampler(cfg({ sampling_percentage: 100, mode }));
      const open = makeSampler(cfg({ sampling_percentage: 100, mode, fail_closed: false }));
      assert.equal(run(closed, HIGH, 'bad tracestate').sampled, false, mode);
      assert.deepEqual(run(open, HIGH, 'bad tracestate').tracestate, undefined, mode);
      assert.equal(run(open, HIGH, 'bad tracestate').sampled, true, mode);
      assert.equal(run(closed, '00000000000000000000000000000000').sampled, false, mode);
      assert.equal(run(closed, '00000000000000000000000000000000').policy, 'missing_randomness', mode);
    }
  });

  it('flags set with the sampled bit clear: dropped (upstream said not sampled); flags 0: unknown, decided', () => {
    const s = makeSampler(cfg({ sampling_percentage: 100, mode: 'proportional' }));
    assert.deepEqual(run(s, HIGH, '', 0x100), { sampled: false, policy: 'trace_flags', tracestate: undefined });
    assert.deepEqual(run(s, HIGH, '', 0x300), { sampled: false, policy: 'trace_flags', tracestate: undefined });
    assert.equal(run(s, HIGH, '', 0x101).sampled, true);
    assert.equal(run(s, HIGH, '', 0).sampled, true);
  });

  it('0% keeps nothing', () => {
    for (const mode of ['proportional', 'equalizing', 'hash_seed'] as const) {
      assert.equal(run(makeSampler(cfg({ sampling_percentage: 0, mode })), HIGH).sampled, false);
    }
  });

  it('the decision is a pure function of (trace ID, tracestate, flags, config): property', () => {
    const tracestates = fc.oneof(
      fc.constant(''),
      fc.constant('ot=th:8'),
      fc.constant('rojo=1,ot=th:c;x:y'),
      fc.stringMatching(/^[0-9a-f]{14}$/).map((rv) => `ot=rv:${rv}`),
      fc.string({ maxLength: 40 }),
    );
    const configs = fc.record({
      sampling_percentage: fc.oneof(fc.constant(10), fc.double({ min: 0, max: 120, noNaN: true })),
      hash_seed: fc.integer({ min: 0, max: 0xffff_ffff }),
      mode: fc.constantFrom('hash_seed', 'proportional', 'equalizing'),
      fail_closed: fc.boolean(),
      sampling_precision: fc.integer({ min: 1, max: 14 }),
    });
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), tracestates, fc.constantFrom(0, 1, 0x100, 0x101), configs, (tid, ts, flags, c) => {
        const errors = new ConfigErrors();
        const decoded = probabilisticSamplerConfig.decode(c, 'p', errors);
        fc.pre(!errors.any());
        // Two samplers built separately (two processes), the ID at different offsets of different buffers.
        const a = decide(makeSampler(decoded), tid, 0, ts, flags);
        const buf = Buffer.concat([Buffer.from('prefix'), tid]);
        const b = decide(makeSampler(decoded), buf, 6, ts, flags);
        assert.deepEqual(a, b);
        // And again with the first sampler after other decisions (no state carried over).
        const s = makeSampler(decoded);
        decide(s, Buffer.alloc(16, 0xab), 0, 'ot=th:c', 0);
        assert.deepEqual(decide(s, tid, 0, ts, flags), a);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('probabilistic_sampler config', () => {
  const decodeErrors = (raw: unknown) => {
    const errors = new ConfigErrors();
    probabilisticSamplerConfig.decode(raw, 'processors.probabilistic_sampler', errors);
    return errors.list();
  };

  it('defaults as the collector: hash_seed mode, seed 0, fail_closed, precision 4', () => {
    assert.deepEqual(probabilisticSamplerConfig.defaultValue, { sampling_percentage: 0, hash_seed: 0, mode: 'hash_seed', fail_closed: true, sampling_precision: 4 });
  });

  it('out-of-range values are errors naming the YAML path', () => {
    assert.deepEqual(decodeErrors({ sampling_percentage: -1 }), ['processors.probabilistic_sampler.sampling_percentage: expected a number >= 0, got -1']);
    assert.match(decodeErrors({ sampling_percentage: 1e-16 })[0]!, /^processors\.probabilistic_sampler\.sampling_percentage: .*below the smallest/);
    assert.match(decodeErrors({ hash_seed: 4294967296 })[0]!, /^processors\.probabilistic_sampler\.hash_seed: expected an integer between 0 and 4294967295/);
    assert.match(decodeErrors({ hash_seed: -1 })[0]!, /^processors\.probabilistic_sampler\.hash_seed: /);
    assert.match(decodeErrors({ sampling_precision: 15 })[0]!, /^processors\.probabilistic_sampler\.sampling_precision: expected an integer between 1 and 14/);
    assert.match(decodeErrors({ sampling_precision: 0 })[0]!, /^processors\.probabilistic_sampler\.sampling_precision: /);
    assert.match(decodeErrors({ mode: 'random' })[0]!, /^processors\.probabilistic_sampler\.mode: /);
    assert.match(decodeErrors({ attribute_source: 'record' })[0]!, /^processors\.probabilistic_sampler\.attribute_source: unknown key/);
    assert.deepEqual(decodeErrors({ sampling_percentage: 250 }), []);
  });
});

describe('probabilistic_sampler processor on broken framing', () => {
  it('rejects (never throws) when a batch does not frame, and counts nothing', async () => {
    const metrics = new MetricsRegistry();
    const next = { consumeTraces: () => Promise.resolve() };
    const p = new ProbabilisticSamplerProcessor({ id: 'probabilistic_sampler', kind: 'processor', logger: silentLogger, metrics, pipeline: 'traces' }, cfg({ sampling_percentage: 10 }), next);
    // A resource_spans field whose length runs past the end.
    const broken = TracesData.trusted(Buffer.from([0x0a, 0x05, 0x12, 0x00]), 1);
    let thrown: unknown;
    let promise: Promise<void> | undefined;
    try {
      promise = p.consumeTraces(broken);
    } catch (err) {
      thrown = err;
    }
    assert.equal(thrown, undefined);
    await assert.rejects(promise!, /truncated|past|length/i);
    assert.doesNotMatch(metrics.render(), /tracebridge_probabilistic_sampler_spans_processed_total\{/);
  });
});
