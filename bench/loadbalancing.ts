// `node bench/loadbalancing.ts [--quick] [--no-throughput]`: what the loadbalancing exporter costs.
//   1. Routing cost per span, in process: hashing every span's trace ID, the ring lookup and
//      re-framing one part per backend (route()), for batches of 512 spans over 1, 3 and 10
//      backends. Median of several rounds.
//   2. Throughput with 3 backends, in process: the exporter (its queue, routing, three OTLP/gRPC
//      clients) fed as fast as its queue accepts, three grpc-js servers counting spans. The
//      receiver is not in the loop; on a shared machine the figure is noisy (say how noisy).
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { Host } from '../sidecar/component/component.ts';
import { decodeOrThrow } from '../sidecar/config/schema.ts';
import { loadBalancingExporterConfig } from '../sidecar/exporters/loadbalancing/config.ts';
import { LoadBalancingExporter } from '../sidecar/exporters/loadbalancing/exporter.ts';
import { resolutionCounter } from '../sidecar/exporters/loadbalancing/obs.ts';
import { HashRing } from '../sidecar/exporters/loadbalancing/ring.ts';
import { KeyHasher, route } from '../sidecar/exporters/loadbalancing/routing.ts';
import { StaticResolver } from '../sidecar/exporters/loadbalancing/static-resolver.ts';
import { encodeTraceRequest } from '../sidecar/pdata/otlp-schema.ts';
import { TracesData } from '../sidecar/pdata/traces.ts';
import { countSpans } from '../sidecar/pdata/wire.ts';
import { createLogger } from '../sidecar/telemetry/logger.ts';
import { MetricsRegistry } from '../sidecar/telemetry/metrics.ts';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 3 : 7;
const SPANS = 512;

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** 512 spans: ~100 traces of ~5 spans over 4 services, attributes as an HTTP server span has. */
function batchBytes(): Uint8Array {
  const traces = Array.from({ length: SPANS / 5 + 1 }, () => randomBytes(16));
  const resourceSpans = [0, 1, 2, 3].map((svc) => ({
    resource: { attributes: [{ key: 'service.name', value: { stringValue: `svc-${svc}` } }, { key: 'host.name', value: { stringValue: `pod-${svc}-7d9f` } }] },
    scopeSpans: [
      {
        scope: { name: '@opentelemetry/instrumentation-http', version: '0.57.0' },
        spans: Array.from({ length: SPANS / 4 }, (_, i) => ({
          traceId: traces[(i * 4 + svc) % traces.length]!,
          spanId: randomBytes(8),
          parentSpanId: randomBytes(8),
          name: 'GET /api/orders/:id',
          kind: 2,
          startTimeUnixNano: 1_700_000_000_000_000_000n,
          endTimeUnixNano: 1_700_000_000_020_000_000n,
          attributes: [
            { key: 'http.request.method', value: { stringValue: 'GET' } },
            { key: 'url.path', value: { stringValue: `/api/orders/${i}` } },
            { key: 'http.response.status_code', value: { intValue: 200 } },
          ],
        })),
      },
    ],
  }));
  return encodeTraceRequest({ resourceSpans });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function routingCost(): void {
  const bytes = batchBytes();
  out(`## Routing cost (route(): hash each span's trace ID, ring lookup, one re-framed part per backend), ${SPANS}-span batches, ${bytes.length} bytes`);
  out('');
  out('| backends | ns per span (median) | min..max of rounds | parts per batch |');
  out('| ---: | ---: | ---: | ---: |');
  const hasher = new KeyHasher('traceID');
  for (const n of [1, 3, 10]) {
    const ring = new HashRing(Array.from({ length: n }, (_, i) => `10.0.0.${i + 1}:4317`));
    const iterations = quick ? 300 : 1000;
    const perSpan: number[] = [];
    let parts = 0;
    for (let r = 0; r < ROUNDS + 1; r++) {
      // A fresh TracesData each time, view included: the exporter gets data whose view the receiver built.
      const datas = Array.from({ length: iterations }, () => TracesData.fromProto(bytes));
      const t0 = process.hrtime.bigint();
      for (const d of datas) parts = route(d, ring, hasher).length;
      const ns = Number(process.hrtime.bigint() - t0);
      if (r > 0) perSpan.push(ns / (iterations * SPANS)); // round 0 warms up
    }
    out(`| ${n} | ${median(perSpan).toFixed(0)} | ${Math.min(...perSpan).toFixed(0)}..${Math.max(...perSpan).toFixed(0)} | ${parts} |`);
  }
  out('');
}

const raw = (b: Buffer) => b;

async function countingServer(): Promise<{ port: number; spans: () => number; stop: () => void }> {
  let spans = 0;
  const server = new grpc.Server();
  server.addService(
    { Export: { path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export', requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw } },
    {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        spans += countSpans(call.request);
        cb(null, Buffer.alloc(0));
      },
    },
  );
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  return { port, spans: () => spans, stop: () => server.forceShutdown() };
}

async function throughput(): Promise<void> {
  const seconds = quick ? 5 : 15;
  const servers = await Promise.all([0, 1, 2].map(() => countingServer()));
  const cfg = decodeOrThrow(loadBalancingExporterConfig, {
    protocol: { otlp: { tls: { insecure: true }, compression: 'none' } },
    resolver: { static: { hostnames: servers.map((s) => `127.0.0.1:${s.port}`) } },
  });
  const metrics = new MetricsRegistry();
  const settings = { id: 'loadbalancing', kind: 'exporter' as const, logger: createLogger('silent'), metrics };
  const exp = new LoadBalancingExporter(settings, cfg, new StaticResolver(cfg.resolver.static!.hostnames, resolutionCounter(metrics, 'loadbalancing', 'static')), 'static');
  const host: Host = { getExtension: () => undefined, status: 'running', startedAt: new Date() };
  await exp.start(host);
  const bytes = batchBytes();
  const total = () => servers.reduce((n, s) => n + s.spans(), 0);
  const until = Date.now() + seconds * 1000;
  const perSecond: number[] = [];
  let last = 0;
  let lastAt = Date.now();
  const sampler = setInterval(() => {
    const now = Date.now();
    const t = total();
    perSecond.push(((t - last) * 1000) / (now - lastAt));
    last = t;
    lastAt = now;
  }, 1000);
  while (Date.now() < until) {
    try {
      await exp.traces.consumeTraces(TracesData.fromProto(bytes));
    } catch {
      await new Promise((r) => setTimeout(r, 2)); // queue full: back off as a receiver's client would
    }
  }
  clearInterval(sampler);
  await exp.shutdown();
  for (const s of servers) s.stop();
  const steady = perSecond.slice(1);
  out(`## Throughput, 3 backends, in process (${seconds}s, ${SPANS}-span batches, no compression)`);
  out('');
  out(`spans/s per 1 s sample: median ${median(steady).toFixed(0)}, min ${Math.min(...steady).toFixed(0)}, max ${Math.max(...steady).toFixed(0)}; per backend: ${servers.map((s) => s.spans()).join(' / ')} spans`);
  out(`load average at the end: ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')} (${(await import('node:os')).cpus().length} CPUs)`);
}

routingCost();
if (!process.argv.includes('--no-throughput')) await throughput();
