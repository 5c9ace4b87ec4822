// The consistent-hash ring: the same endpoints give the same owner in any process, and adding or
// removing one backend of N moves about 1/N of the keys (only those it gains or loses).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { HashRing } from '../../../../sidecar/exporters/loadbalancing/ring.ts';

const KEYS = Array.from({ length: 10_000 }, () => randomBytes(16));
const backends = (n: number) => Array.from({ length: n }, (_, i) => `gateway-${i}.observability:4317`);

function owners(ring: HashRing): string[] {
  return KEYS.map((k) => ring.endpointFor(k)!);
}

function moved(a: string[], b: string[]): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n / a.length;
}

describe('loadbalancing hash ring', () => {
  it('two rings built independently from the same endpoints (in any order) agree on every key', () => {
    const a = new HashRing(backends(5));
    const b = new HashRing([...backends(5)].reverse().concat(backends(2)));
    assert.deepEqual(owners(a), owners(b));
  });

  it('gives a fixed owner for a fixed key (the hash must not change between versions)', () => {
    const ring = new HashRing(['10.0.0.1:4317', '10.0.0.2:4317', '10.0.0.3:4317']);
    const key = Buffer.from('4bf92f3577b34da6a3ce929d0e0e4736', 'hex');
    // Pinned: sidecars of different versions in one rollout must route alike.
    assert.equal(ring.endpointFor(key), PINNED_OWNER);
  });

  for (const n of [3, 5, 10]) {
    it(`adding a backend to ${n} moves about 1/${n + 1} of 10,000 keys, all to the new backend`, () => {
      const before = owners(new HashRing(backends(n)));
      const grown = backends(n + 1);
      const after = owners(new HashRing(grown));
      const share = moved(before, after);
      assert.ok(share <= 1 / (n + 1) + 0.05, `moved ${share}`);
      assert.ok(share >= 1 / (n + 1) - 0.05, `moved ${share}`);
      for (let i = 0; i < KEYS.length; i++) if (before[i] !== after[i]) assert.equal(after[i], grown[n]);
    });

    it(`removing one backend of ${n} moves only its keys, about 1/${n}`, () => {
      const all = backends(n);
      const before = owners(new HashRing(all));
      const gone = all[1]!;
      const after = owners(new HashRing(all.filter((e) => e !== gone)));
      const share = moved(before, after);
      assert.ok(share <= 1 / n + 0.05, `moved ${share}`);
      for (let i = 0; i < KEYS.length; i++) if (before[i] !== after[i]) assert.equal(before[i], gone);
    });
  }

  it('spreads keys evenly enough: every backend of 3 owns 25-42% of the keys', () => {
    const counts = new Map<string, number>();
    for (const o of owners(new HashRing(backends(3)))) counts.set(o, (counts.get(o) ?? 0) + 1);
    assert.equal(counts.size, 3);
    for (const [ep, c] of counts) assert.ok(c >= 2500 && c <= 4200, `${ep}: ${c}`);
  });

  it('an empty ring owns nothing', () => {
    assert.equal(new HashRing([]).endpointFor(KEYS[0]!), undefined);
  });
});

const PINNED_OWNER = '10.0.0.2:4317';
