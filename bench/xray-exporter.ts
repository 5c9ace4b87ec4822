// `npx node bench/xray-exporter.ts [--quick]`: the awsxray exporter alone, on this machine.
//   1. translate: OTLP bytes → decode → segment documents (JSON, fitted to 64 kB), one core;
//   2. end to end: the exporter (transport api: SigV4, PutTraceSegments calls of 50 documents,
//      the shared queue with 4 senders) against a fake PutTraceSegments server in a child process.
// Prints spans/s and CPU-seconds per million spans (this process only; the fake server's CPU is
// not counted). Spans: bench/shapes.ts "realistic" (~1 KB, 18 attributes, HTTP semconv and Istio
// tags), 25 requests concatenated into batches of 500 spans, as the batch processor would.
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ConfigErrors } from '../sidecar/config/schema.ts';
import { awsxrayExporterConfig } from '../sidecar/exporters/awsxray/config.ts';
import { AwsXRayExporter } from '../sidecar/exporters/awsxray/exporter.ts';
import { toXRaySegments, type TranslateOptions } from '../sidecar/exporters/awsxray/translate.ts';
import { fitDocument } from '../sidecar/exporters/awsxray/trim.ts';
import { TracesData } from '../sidecar/pdata/traces.ts';
import { createLogger } from '../sidecar/telemetry/logger.ts';
import { MetricsRegistry } from '../sidecar/telemetry/metrics.ts';
import { makeShape } from './shapes.ts';

const quick = process.argv.includes('--quick');
const SECONDS = quick ? 3 : 10;
const BATCH_REQUESTS = 25;

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** The child: a fake PutTraceSegments endpoint that counts documents and accepts them all. */
function runServer(): void {
  let docs = 0;
  let calls = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { TraceSegmentDocuments?: string[] };
      docs += body.TraceSegmentDocuments?.length ?? 0;
      calls++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"UnprocessedTraceSegments":[]}');
    });
  });
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd === 'count') process.send?.({ docs, calls });
    if (m.cmd === 'exit') process.exit(0);
  });
}

function batches(): Buffer[] {
  const shape = makeShape('realistic');
  const out: Buffer[] = [];
  for (let v = 0; v < 4; v++) {
    const parts = Array.from({ length: BATCH_REQUESTS }, (_, i) => shape.requests[(v + i) % shape.requests.length]!);
    out.push(Buffer.concat(parts));
  }
  return out;
}

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

interface Figures {
  spansPerSec: number;
  cpuPerMillion: number;
}

/** Runs `step` (which returns the spans it handled) for the phase's duration, after a warm-up. */
function measure(step: (i: number) => number): Figures {
  for (let i = 0; i < 20; i++) step(i);
  let spans = 0;
  const c0 = cpu();
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  for (let i = 0; performance.now() < end; i++) spans += step(i);
  const wall = (performance.now() - t0) / 1000;
  return { spansPerSec: spans / wall, cpuPerMillion: ((cpu() - c0) / spans) * 1e6 };
}

function translateOnly(input: Buffer[]): { decode: Figures; map: Figures; total: Figures } {
  const opts: TranslateOptions = { indexing: { indexed: new Set(['http.route']), indexAll: false, alwaysIndexed: 'tracebridge.original_trace_id' }, logGroups: [] };
  let bytes = 0;
  const toDocs = (data: TracesData) => {
    toXRaySegments(data.toObjects(), opts, ({ doc }) => {
      bytes += fitDocument(doc).json?.length ?? 0;
    });
    return data.spanCount;
  };
  // A fresh TracesData each time: the decode (protobufjs, shared pdata code) is part of the cost.
  const decode = measure((i) => {
    const data = TracesData.fromProto(input[i % input.length]!);
    data.toObjects();
    return data.spanCount;
  });
  const decoded = input.map((b) => {
    const d = TracesData.fromProto(b);
    d.toObjects();
    return d;
  });
  const map = measure((i) => toDocs(decoded[i % decoded.length]!));
  const total = measure((i) => toDocs(TracesData.fromProto(input[i % input.length]!)));
  if (bytes === 0) throw new Error('no documents');
  return { decode, map, total };
}

async function endToEnd(input: Buffer[], port: number, count: () => Promise<{ docs: number; calls: number }>): Promise<{ spansPerSec: number; cpuPerMillion: number; calls: number }> {
  process.env.AWS_ACCESS_KEY_ID = 'AKIDBENCH';
  process.env.AWS_SECRET_ACCESS_KEY = 'bench-secret';
  const errors = new ConfigErrors();
  const cfg = awsxrayExporterConfig.decode(
    { region: 'us-east-1', endpoint: `http://127.0.0.1:${port}`, sending_queue: { num_consumers: 4, queue_size: 16 }, retry_on_failure: { initial_interval: '10ms' } },
    'exporters.awsxray',
    errors,
  );
  if (errors.any()) throw new Error(errors.list().join('\n'));
  const metrics = new MetricsRegistry();
  const exporter = new AwsXRayExporter({ id: 'awsxray', kind: 'exporter', logger: createLogger('warn'), metrics }, cfg);
  await exporter.start({ getExtension: () => undefined, status: 'running', startedAt: new Date() });
  const sent = () => metrics.counter('otelcol_exporter_sent_spans_total', '').get({ exporter: 'awsxray' });

  // Warm-up: the AWS SDK loads modules and credentials on its first calls.
  for (let w = 0; w < 4; w++) await exporter.traces.consumeTraces(TracesData.fromProto(input[w % input.length]!));
  while (sent() < 2000) await new Promise((r) => setTimeout(r, 10));
  const base = sent();

  const c0 = cpu();
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  let i = 0;
  let next = TracesData.fromProto(input[0]!);
  while (performance.now() < end) {
    try {
      await exporter.traces.consumeTraces(next);
      next = TracesData.fromProto(input[++i % input.length]!);
    } catch {
      // Queue full: the senders are the bottleneck; the same batch is offered again shortly,
      // as a receiver's client retries.
      await new Promise((r) => setTimeout(r, 2));
    }
  }
  const delivered = sent() - base;
  const wall = (performance.now() - t0) / 1000;
  const used = cpu() - c0;
  await exporter.shutdown();
  const server = await count();
  return { spansPerSec: delivered / wall, cpuPerMillion: (used / delivered) * 1e6, calls: server.calls };
}

async function main(): Promise<void> {
  const input = batches();
  const spansPerBatch = BATCH_REQUESTS * makeShape('realistic').spansPerRequest;
  out(`awsxray exporter bench (Node ${process.version}, ${SECONDS}s per phase, ${spansPerBatch} spans per batch, realistic ~1 KB spans)`);

  const t = translateOnly(input);
  const fmt = (f: Figures) => `${Math.round(f.spansPerSec).toLocaleString('en')} spans/s on one core, ${f.cpuPerMillion.toFixed(1)} CPU-s per million spans`;
  out(`translate   OTLP bytes → segment documents (JSON, fitted): ${fmt(t.total)}`);
  out(`  of which  decode to objects (pdata toObjects):          ${fmt(t.decode)}`);
  out(`            mapping + JSON on decoded objects:             ${fmt(t.map)}`);

  const child = fork(fileURLToPath(import.meta.url), ['--server'], { execPath: process.execPath, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  const count = () =>
    new Promise<{ docs: number; calls: number }>((resolve) => {
      child.once('message', (m: { docs: number; calls: number }) => resolve(m));
      child.send({ cmd: 'count' });
    });
  try {
    const e = await endToEnd(input, port, count);
    out(`end to end  → fake PutTraceSegments (SigV4, 50 docs/call, 4 senders): ${Math.round(e.spansPerSec).toLocaleString('en')} spans/s, ${e.cpuPerMillion.toFixed(2)} CPU-s per million spans (exporter process), ${e.calls.toLocaleString('en')} calls`);
  } finally {
    child.send({ cmd: 'exit' });
  }
}

if (process.argv.includes('--server')) runServer();
else await main();
