// The `zipkin` receiver: a Zipkin server's span intake, `POST /api/v2/spans` in JSON or proto3,
// answered 202 Accepted as Zipkin answers. Each request becomes one TracesData (encoded once).
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Component, Consumers, CreateSettings, TracesConsumer } from '../../component/component.ts';
import { receiverObs, type ReceiverObs } from '../../component/obsreport.ts';
import { TracesData } from '../../pdata/traces.ts';
import { HttpError, mediaType, readBody } from '../../net/http-body.ts';
import { httpStatusOf, ingestTraces, retryAfterHeader } from '../internal/ingest.ts';
import { closeServer, listen } from '../../net/listen.ts';
import { startOrSkip } from '../internal/start-or-skip.ts';
import { httpSettings, type ZipkinHttpConfig, type ZipkinReceiverConfig } from './config.ts';
import { ZipkinFormatError, type ZipkinSpan } from './model.ts';
import { toTraceRequest, type MappingOptions } from './to-traces.ts';
import { decodeZipkinJson } from './zipkin-json.ts';
import { decodeZipkinProto } from './zipkin-proto.ts';
// node:http by process.getBuiltinModule, not an ES import: importing it reads every export, and its
// WebSocket getter loads undici with node:tls and node:http2 (6.6 MiB of private memory at idle).
const { createServer } = process.getBuiltinModule('node:http');

export const SPANS_PATH = '/api/v2/spans';
const V1_PATH = '/api/v1/spans';
const JSON_TYPE = 'application/json';
const PROTOBUF = 'application/x-protobuf';

type Format = 'json' | 'proto';

/** Zipkin servers and the collector take a missing Content-Type as JSON. */
function formatOf(type: string): Format | undefined {
  if (type === JSON_TYPE || type === '') return 'json';
  if (type === PROTOBUF || type === 'application/protobuf') return 'proto';
  return undefined;
}

export class ZipkinReceiver implements Component {
  private readonly settings: CreateSettings;
  private readonly http: ZipkinHttpConfig;
  private readonly next: TracesConsumer;
  private readonly mapping: MappingOptions;
  // Transport labels as the collector's zipkinreceiver reports them.
  private readonly obs: Record<Format, ReceiverObs>;
  private readonly server: Server;
  private stopped: Promise<void> | undefined;

  constructor(settings: CreateSettings, cfg: ZipkinReceiverConfig, next: Consumers) {
    if (next.traces === undefined) throw new Error(`receiver ${settings.id} takes traces only`);
    this.settings = settings;
    this.next = next.traces;
    this.mapping = { parseStringTags: cfg.parse_string_tags };
    const { http, overridden } = httpSettings(cfg);
    this.http = http;
    if (overridden) settings.logger.warn('both the top-level endpoint settings and protocols.http are set; using protocols.http');
    this.obs = {
      json: receiverObs(settings.metrics, settings.id, 'http_v2_json'),
      proto: receiverObs(settings.metrics, settings.id, 'http_v2_proto'),
    };
    this.server = createServer({ requestTimeout: 60_000, headersTimeout: 30_000 }, (req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        settings.logger.error({ err }, 'Zipkin handler failed');
        if (!res.headersSent) this.sendText(res, 500, 'internal error');
      });
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path !== SPANS_PATH) {
      req.resume();
      if (path === V1_PATH) {
        this.sendText(res, 415, `Zipkin v1 (Thrift and JSON) is not supported: send Zipkin v2 JSON or proto3 to ${SPANS_PATH} (Envoy: collector_endpoint_version HTTP_JSON or HTTP_PROTO)`);
      } else {
        this.sendText(res, 404, `no Zipkin endpoint at ${path}: spans go to POST ${SPANS_PATH}`);
      }
      return;
    }
    if (req.method !== 'POST') {
      req.resume();
      res.setHeader('Allow', 'POST');
      this.sendText(res, 405, `${req.method ?? ''} not allowed: use POST`);
      return;
    }
    const type = mediaType(req);
    const format = formatOf(type);
    if (format === undefined) {
      req.resume();
      this.sendText(res, 415, `unsupported Content-Type "${type}": use ${JSON_TYPE} or ${PROTOBUF}`);
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(req, this.http.max_request_body_size);
    } catch (err) {
      const e = err instanceof HttpError ? err : new HttpError(400, String(err));
      res.setHeader('Connection', 'close');
      this.sendText(res, e.status, e.message);
      return;
    }
    let data: TracesData;
    try {
      const spans: ZipkinSpan[] = format === 'json' ? decodeZipkinJson(body) : decodeZipkinProto(body);
      if (spans.length === 0) {
        res.writeHead(202).end();
        return;
      }
      data = TracesData.fromObjects(toTraceRequest(spans, this.mapping));
    } catch (err) {
      if (!(err instanceof ZipkinFormatError)) throw err;
      this.settings.logger.debug({ err: err.message }, 'malformed Zipkin request');
      this.sendText(res, 400, err.message);
      return;
    }
    const out = await ingestTraces(this.next, this.obs[format], data);
    if (out.ok) {
      res.writeHead(202).end();
      return;
    }
    for (const [k, v] of Object.entries(retryAfterHeader(out))) res.setHeader(k, v);
    this.sendText(res, httpStatusOf(out), out.message);
  }

  private sendText(res: ServerResponse, status: number, text: string): void {
    const body = `${text}\n`;
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }

  async start(): Promise<void> {
    await startOrSkip(this.settings, 'http', async () => {
      await listen(this.server, this.http.endpoint);
      this.settings.logger.info({ endpoint: this.http.endpoint, port: this.port }, 'Zipkin receiver listening');
    });
  }

  get port(): number {
    return (this.server.address() as AddressInfo | null)?.port ?? 0;
  }

  shutdown(): Promise<void> {
    this.stopped ??= closeServer(this.server, 5000);
    return this.stopped;
  }
}
