// Registry with the delivery components (issue 3) beside the test sink, and small helpers to build
// OTLP requests and read counters, for the exporter and processor tests.
import { request as httpRequest } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import nock from 'nock';
import { otlpExporterFactory } from '../../sidecar/exporters/otlp/factory.ts';
import { otlphttpExporterFactory } from '../../sidecar/exporters/otlphttp/factory.ts';
import { sigv4authFactory } from '../../sidecar/extensions/sigv4auth/factory.ts';
import { memoryLimiterFactory } from '../../sidecar/processors/memory_limiter/factory.ts';
import { resourceDetectionFactory } from '../../sidecar/processors/resourcedetection/factory.ts';
import { selfFilterFactory } from '../../sidecar/processors/tracebridge_selffilter/factory.ts';
import { encodeTraceRequest, type KeyValue } from '../../sidecar/pdata/otlp-schema.ts';
import type { ComponentRegistry } from '../../sidecar/service/components.ts';
import { testRegistry } from './sink.ts';

export const deliveryRegistry: ComponentRegistry = {
  ...testRegistry,
  exporter: new Map([...testRegistry.exporter, ['otlp', otlpExporterFactory], ['otlphttp', otlphttpExporterFactory]]),
  processor: new Map([
    ...testRegistry.processor,
    ['memory_limiter', memoryLimiterFactory],
    ['resourcedetection', resourceDetectionFactory],
    ['tracebridge_selffilter', selfFilterFactory],
  ]),
  extension: new Map([...testRegistry.extension, ['sigv4auth', sigv4authFactory]]),
};

let seq = 1;

/** An encoded ExportTraceServiceRequest with `n` spans (distinct IDs), optionally with span attributes. */
export function traceRequest(n: number, opts: { service?: string; attributes?: KeyValue[]; resource?: KeyValue[] } = {}): Buffer {
  const spans = Array.from({ length: n }, () => {
    const id = seq++;
    const traceId = Buffer.alloc(16);
    traceId.writeUInt32BE(0x5f000000 + id, 0);
    traceId.writeUInt32BE(id, 12);
    const spanId = Buffer.alloc(8);
    spanId.writeUInt32BE(id, 4);
    return { traceId, spanId, name: `span-${id}`, kind: 2, startTimeUnixNano: 1_700_000_000_000_000_000n, endTimeUnixNano: 1_700_000_000_100_000_000n, attributes: opts.attributes };
  });
  const resource = { attributes: opts.resource ?? [{ key: 'service.name', value: { stringValue: opts.service ?? 'checkout' } }] };
  return Buffer.from(encodeTraceRequest({ resourceSpans: [{ resource, scopeSpans: [{ scope: { name: 'test' }, spans }] }] }));
}

/** The value of one series in Prometheus text (0 when absent). */
export function metricValue(text: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{${want}} `) || (want === '' && line.startsWith(`${name} `))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A receiver that has not answered a request by then is stuck (it answers or refuses at once). */
const POST_TIMEOUT_MS = 15_000;

/** POSTs a body to a local HTTP server (the sidecar's OTLP/HTTP receiver); fails if it has not answered within 15 s. */
export function post(port: number, path: string, body: Buffer, headers: Record<string, string> = { 'Content-Type': 'application/x-protobuf' }): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', headers: { ...headers, 'Content-Length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.setTimeout(POST_TIMEOUT_MS, () => req.destroy(new Error(`POST ${path} to 127.0.0.1:${port}: no answer within ${POST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

const rawBytes = (b: Buffer) => b;

/** One unary OTLP/gRPC Export call with raw bytes; resolves with the response or the error. */
export function grpcExport(port: number, path: string, body: Buffer): Promise<grpc.ServiceError | Buffer> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, rawBytes, rawBytes, body, (err: grpc.ServiceError | null, res?: Buffer) => {
      client.close();
      resolve(err ?? res!);
    });
  });
}

export { EXPORT_PATH } from './otlp-sinks.ts';

/**
 * Call at the top of a describe() whose tests reach real servers: an active nock (left on by a
 * file that ran earlier) intercepts grpc-js' HTTP/2 connections too, even with net connect enabled.
 */
export function withRealNetwork(): void {
  before(() => {
    if (nock.isActive()) nock.restore();
  });
}
