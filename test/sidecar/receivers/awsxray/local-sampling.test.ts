// The local answers of the sampling proxy: the X-Ray default rule, and targets that share its
// reservoir among the SDK clients that report.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InvalidSamplingRequest, LocalSampling, reservoirShare } from '../../../../sidecar/receivers/awsxray/local-sampling.ts';

type Targets = {
  SamplingTargetDocuments: { RuleName: string; FixedRate: number; ReservoirQuota: number; ReservoirQuotaTTL: number; Interval: number }[];
  LastRuleModification: number;
  UnprocessedStatistics: { RuleName: string }[];
};

const stats = (...docs: { RuleName: string; ClientID: string }[]) => ({
  SamplingStatisticsDocuments: docs.map((d) => ({ ...d, RequestCount: 10, SampledCount: 1, BorrowCount: 0, Timestamp: 1 })),
});

describe('awsxray local sampling', () => {
  it('serves the X-Ray default rule: reservoir 1/s, fixed rate 5%, matching everything', () => {
    const rules = new LocalSampling('eu-west-1', () => 1_700_000_000).rules() as { SamplingRuleRecords: { SamplingRule: Record<string, unknown>; CreatedAt: number }[] };
    assert.equal(rules.SamplingRuleRecords.length, 1);
    const r = rules.SamplingRuleRecords[0]!;
    assert.deepEqual(r.SamplingRule, {
      RuleName: 'Default',
      RuleARN: 'arn:aws:xray:eu-west-1::sampling-rule/Default',
      ResourceARN: '*',
      Priority: 10000,
      FixedRate: 0.05,
      ReservoirSize: 1,
      ServiceName: '*',
      ServiceType: '*',
      Host: '*',
      HTTPMethod: '*',
      URLPath: '*',
      Version: 1,
      Attributes: {},
    });
    assert.equal(r.CreatedAt, 1_700_000_000);
  });

  it('answers targets for the default rule and lists unknown rules as unprocessed', () => {
    let now = 1_700_000_000;
    const local = new LocalSampling(undefined, () => now);
    const a = local.targets(stats({ RuleName: 'Default', ClientID: 'aaa' }, { RuleName: 'custom', ClientID: 'aaa' })) as Targets;
    assert.deepEqual(a.SamplingTargetDocuments, [{ RuleName: 'Default', FixedRate: 0.05, ReservoirQuota: 1, ReservoirQuotaTTL: now + 10, Interval: 10 }]);
    assert.deepEqual(a.UnprocessedStatistics.map((u) => u.RuleName), ['custom']);
    assert.equal(a.LastRuleModification, 1_700_000_000);

    // A second client: the 1/s reservoir goes to one of them, not to both.
    now += 5;
    const b = local.targets(stats({ RuleName: 'Default', ClientID: 'bbb' })) as Targets;
    assert.equal(b.SamplingTargetDocuments[0]!.ReservoirQuota, 0);
    // Once the first client stops reporting, the second gets the reservoir.
    now += 60;
    const b2 = local.targets(stats({ RuleName: 'Default', ClientID: 'bbb' })) as Targets;
    assert.equal(b2.SamplingTargetDocuments[0]!.ReservoirQuota, 1);
  });

  it('rejects a body without statistics documents', () => {
    assert.throws(() => new LocalSampling(undefined).targets({}), InvalidSamplingRequest);
    assert.throws(() => new LocalSampling(undefined).targets(null), InvalidSamplingRequest);
  });

  it('property: the shares of a reservoir add up to it and differ by at most one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 200 }), (reservoir, n) => {
        const shares = Array.from({ length: n }, (_, rank) => reservoirShare(reservoir, n, rank));
        assert.equal(shares.reduce((x, y) => x + y, 0), reservoir);
        assert.ok(Math.max(...shares) - Math.min(...shares) <= 1);
      }),
    );
  });
});
