// Traffic for the load-balancing tests: traces of several spans with random IDs, sent over
// OTLP/gRPC to a sidecar (retrying a refusal as an SDK does), and where each span landed among
// several sinks.
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { decodeTraceRequest, encodeTraceRequest } from '../../sidecar/pdata/otlp-schema.ts';
import { EXPORT_PATH, type GrpcSink } from './otlp-sinks.ts';

export interface TestTrace {
  /** 32 hex digits. */
  traceId: string;
  /** 16 hex digits each. */
  spanIds: string[];
}

export function makeTraces(count: number, spansPerTrace: number): TestTrace[] {
  return Array.from({ length: count }, () => ({
    traceId: randomBytes(16).toString('hex'),
    spanIds: Array.from({ length: spansPerTrace }, () => randomBytes(8).toString('hex')),
  }));
}

/** One request holding these traces, their spans interleaved across two services (resources). */
export function encodeTraces(traces: readonly TestTrace[]): Buffer {
  const spans = (service: number) =>
    traces.flatMap((t) =>
      t.spanIds
        .filter((_, i) => i % 2 === service)
        .map((s, i) => ({
          traceId: Buffer.from(t.traceId, 'hex'),
          spanId: Buffer.from(s, 'hex'),
          name: `op-${i}`,
          kind: 2,
          startTimeUnixNano: 1_700_000_000_000_000_000n,
          endTimeUnixNano: 1_700_000_000_100_000_000n,
        })),
    );
  const resourceSpans = [0, 1].map((svc) => ({
    resource: { attributes: [{ key: 'service.name', value: { stringValue: `svc-${svc}` } }] },
    scopeSpans: [{ scope: { name: 'lb-test' }, spans: spans(svc) }],
  }));
  return Buffer.from(encodeTraceRequest({ resourceSpans }));
}

const raw = (b: Buffer) => b;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An OTLP/gRPC trace client to one sidecar; retries UNAVAILABLE / RESOURCE_EXHAUSTED as an SDK does. */
export class TraceClient {
  private readonly client: grpc.Client;

  constructor(port: number) {
    this.client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  }

  async send(body: Buffer): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const err = await new Promise<grpc.ServiceError | null>((resolve) =>
        this.client.makeUnaryRequest(EXPORT_PATH.traces, raw, raw, body, (e: grpc.ServiceError | null) => resolve(e)),
      );
      if (err === null) return;
      const retryable = err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.RESOURCE_EXHAUSTED;
      if (!retryable || attempt > 50) throw err;
      await sleep(100);
    }
  }

  close(): void {
    this.client.close();
  }
}

/** Where spans landed: span ID -> the sinks (by index) that received it, and trace ID -> sinks. */
export interface Landing {
  spans: Map<string, Set<number>>;
  /** trace ID -> sink index -> number of its spans received there. */
  traces: Map<string, Map<number, number>>;
}

export function landing(sinks: readonly GrpcSink[]): Landing {
  const spans = new Map<string, Set<number>>();
  const traces = new Map<string, Map<number, number>>();
  sinks.forEach((sink, i) => {
    for (const r of sink.received) {
      if (r.signal !== 'traces') continue;
      for (const rs of decodeTraceRequest(r.bytes).resourceSpans ?? []) {
        for (const ss of rs.scopeSpans ?? []) {
          for (const sp of ss.spans ?? []) {
            const sid = Buffer.from(sp.spanId!).toString('hex');
            const tid = Buffer.from(sp.traceId!).toString('hex');
            let at = spans.get(sid);
            if (at === undefined) spans.set(sid, (at = new Set()));
            at.add(i);
            let t = traces.get(tid);
            if (t === undefined) traces.set(tid, (t = new Map()));
            t.set(i, (t.get(i) ?? 0) + 1);
          }
        }
      }
    }
  });
  return { spans, traces };
}

/** Spans of `traces` not received by any sink. */
export function missingSpans(traces: readonly TestTrace[], l: Landing): number {
  let n = 0;
  for (const t of traces) for (const s of t.spanIds) if (!l.spans.has(s)) n++;
  return n;
}

/** Polls `check` every 50ms until it holds; throws with `what()` after `ms`. */
export async function eventually(check: () => boolean, ms: number, what: () => string): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out: ${what()}`);
    await sleep(50);
  }
}
