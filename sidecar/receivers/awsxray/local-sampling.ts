// Answers for the X-Ray sampling API when X-Ray itself cannot be asked (no region, no
// credentials, unreachable): the X-Ray default rule (1 request per second, then 5 %), in the
// response shapes of GetSamplingRules and GetSamplingTargets, so that every X-Ray SDK keeps its
// centralized sampler running instead of each one falling back on its own.
// API reference: https://docs.aws.amazon.com/xray/latest/api/API_GetSamplingRules.html,
// https://docs.aws.amazon.com/xray/latest/api/API_GetSamplingTargets.html

export const DEFAULT_RULE_NAME = 'Default';
/** X-Ray's default rule: a reservoir of 1 per second, then a fixed rate of 5 %. */
export const DEFAULT_RESERVOIR_SIZE = 1;
export const DEFAULT_FIXED_RATE = 0.05;
/** Seconds between SamplingTargets reports, as X-Ray answers. */
export const TARGET_INTERVAL_SECONDS = 10;
/** A client that has not reported for this long no longer takes a share of the reservoir. */
const CLIENT_TTL_SECONDS = 3 * TARGET_INTERVAL_SECONDS;
/** Bound on remembered client IDs (each SDK process has one). */
const MAX_CLIENTS = 1024;

interface StatisticsDocument {
  RuleName?: unknown;
  ClientID?: unknown;
}

export class InvalidSamplingRequest extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidSamplingRequest';
  }
}

export class LocalSampling {
  private readonly ruleArn: string;
  private readonly createdAt: number;
  private readonly now: () => number;
  /** ClientID → last report, epoch seconds. */
  private readonly clients = new Map<string, number>();

  constructor(region: string | undefined, now: () => number = () => Date.now() / 1000) {
    this.now = now;
    this.createdAt = Math.floor(now());
    this.ruleArn = `arn:aws:xray:${region ?? ''}::sampling-rule/${DEFAULT_RULE_NAME}`;
  }

  /** The GetSamplingRules response: the default rule alone. */
  rules(): object {
    return {
      SamplingRuleRecords: [
        {
          SamplingRule: {
            RuleName: DEFAULT_RULE_NAME,
            RuleARN: this.ruleArn,
            ResourceARN: '*',
            Priority: 10000,
            FixedRate: DEFAULT_FIXED_RATE,
            ReservoirSize: DEFAULT_RESERVOIR_SIZE,
            ServiceName: '*',
            ServiceType: '*',
            Host: '*',
            HTTPMethod: '*',
            URLPath: '*',
            Version: 1,
            Attributes: {},
          },
          CreatedAt: this.createdAt,
          ModifiedAt: this.createdAt,
        },
      ],
    };
  }

  /**
   * The SamplingTargets response for a request body. The reservoir is shared among the clients
   * that reported recently, as X-Ray shares it among hosts: with R per second and n clients,
   * each gets R / n, the remainder going to the first clients by ID.
   */
  targets(body: unknown): object {
    const docs = (body as { SamplingStatisticsDocuments?: unknown } | null)?.SamplingStatisticsDocuments;
    if (!Array.isArray(docs)) throw new InvalidSamplingRequest('SamplingStatisticsDocuments must be a list');
    const now = this.now();
    for (const d of docs as StatisticsDocument[]) {
      if (typeof d?.ClientID === 'string') this.seen(d.ClientID, now);
    }
    this.forgetIdle(now);
    const active = [...this.clients.keys()].sort();
    const targets: object[] = [];
    const unprocessed: object[] = [];
    for (const d of docs as StatisticsDocument[]) {
      const rule = typeof d?.RuleName === 'string' ? d.RuleName : '';
      if (rule !== DEFAULT_RULE_NAME) {
        unprocessed.push({ RuleName: rule, ErrorCode: '400', Message: `unknown sampling rule "${rule}" (only ${DEFAULT_RULE_NAME} is served locally)` });
        continue;
      }
      const rank = typeof d.ClientID === 'string' ? active.indexOf(d.ClientID) : -1;
      targets.push({
        RuleName: DEFAULT_RULE_NAME,
        FixedRate: DEFAULT_FIXED_RATE,
        ReservoirQuota: rank < 0 ? 0 : reservoirShare(DEFAULT_RESERVOIR_SIZE, active.length, rank),
        ReservoirQuotaTTL: Math.floor(now) + TARGET_INTERVAL_SECONDS,
        Interval: TARGET_INTERVAL_SECONDS,
      });
    }
    return { SamplingTargetDocuments: targets, LastRuleModification: this.createdAt, UnprocessedStatistics: unprocessed };
  }

  private seen(clientId: string, now: number): void {
    this.clients.delete(clientId);
    this.clients.set(clientId, now);
    // Map order is insertion order, so the first key is the least recently seen.
    if (this.clients.size > MAX_CLIENTS) this.clients.delete(this.clients.keys().next().value!);
  }

  private forgetIdle(now: number): void {
    for (const [id, t] of this.clients) if (now - t > CLIENT_TTL_SECONDS) this.clients.delete(id);
  }
}

/** Client `rank` of `n`'s share of `reservoir` per second; the shares add up to `reservoir`. */
export function reservoirShare(reservoir: number, n: number, rank: number): number {
  if (n <= 0) return 0;
  return Math.floor(reservoir / n) + (rank < reservoir % n ? 1 : 0);
}
