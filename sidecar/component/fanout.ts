// Fan-out to several consumers. Data is copied only for consumers that mutate it: read-only
// consumers share the original, and when every consumer mutates, the last one takes the original
// (the collector's internal/fanoutconsumer does the same).
import type { OpaqueConsumer, TracesConsumer } from './component.ts';
import type { OpaqueData, TracesData } from '../pdata/traces.ts';

export function fanoutTraces(consumers: readonly TracesConsumer[]): TracesConsumer {
  if (consumers.length === 1) return consumers[0]!;
  const readOnly = consumers.filter((c) => c.mutatesData !== true);
  const mutating = consumers.filter((c) => c.mutatesData === true);
  return {
    mutatesData: false,
    async consumeTraces(data: TracesData): Promise<void> {
      const calls: Promise<void>[] = [];
      mutating.forEach((c, i) => {
        const own = readOnly.length === 0 && i === mutating.length - 1 ? data : data.clone();
        calls.push(c.consumeTraces(own));
      });
      for (const c of readOnly) calls.push(c.consumeTraces(data));
      await settleAll(calls);
    },
  };
}

export function fanoutOpaque(consumers: readonly OpaqueConsumer[]): OpaqueConsumer {
  if (consumers.length === 1) return consumers[0]!;
  return {
    async consumeOpaque(data: OpaqueData): Promise<void> {
      await settleAll(consumers.map((c) => c.consumeOpaque(data)));
    },
  };
}

/** Waits for every call; rethrows the first failure after all have settled. */
async function settleAll(calls: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(calls);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}
