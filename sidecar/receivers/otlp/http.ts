// OTLP/HTTP server: POST /v1/traces (and /v1/metrics, /v1/logs when a pipeline takes them),
// binary protobuf or JSON, compressed or not. Answers in the request's content type; errors carry
// a google.rpc.Status as the OTLP specification asks. Trace requests are validated to the leaves
// (OTLP/JSON after its conversion to protobuf), metrics and logs at their outer levels, and
// malformed ones refused with 400 naming the path of the fault, before anything is acknowledged.
//
// One handler serves requests of both HTTP versions: HTTP/1.1 (node:http) and HTTP/2 without TLS
// (h2c, as `nghttp` or `curl --http2-prior-knowledge` send), through node:http2's compatibility
// objects, whose interface is node:http's. Only a refused body is handled differently (see
// closeAfter). Which connections reach it: endpoint.ts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse, IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { Consumers, OpaqueConsumer, TracesConsumer } from '../../component/component.ts';
import { classifyRefusal, PermanentError, type Refusal } from '../../component/errors.ts';
import { passthroughObs, receiverObs, type PassthroughObs, type ReceiverObs } from '../../component/obsreport.ts';
import { encodeTraceResponse } from '../../pdata/otlp-schema.ts';
import { traceRequestJsonToProto, traceResponseJson } from '../../pdata/otlp-json.ts';
import { TracesData } from '../../pdata/traces.ts';
import { WireFormatError } from '../../pdata/wire.ts';
import { validateLogsRequest, validateMetricsRequest } from '../../pdata/passthrough.ts';
import type { Logger } from '../../telemetry/logger.ts';
import type { MetricsRegistry } from '../../telemetry/metrics.ts';
import { HttpError, mediaType, readBody } from '../../net/http-body.ts';
import { encodeRpcStatus } from '../../net/rpc-status.ts';
import { httpStatusOf, ingestTraces, retryAfterHeader } from '../internal/ingest.ts';
import type { HttpConfig } from './config.ts';

const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';

type Format = 'proto' | 'json';

/** A request of either HTTP version; node:http2's compatibility objects mirror node:http's. */
export type HttpRequest = IncomingMessage | Http2ServerRequest;
export type HttpResponse = ServerResponse | Http2ServerResponse;
type Route = (res: HttpResponse, fmt: Format, body: Buffer) => Promise<void>;

const VALIDATE = { metrics: validateMetricsRequest, logs: validateLogsRequest } as const;
const MESSAGE = { metrics: 'ExportMetricsServiceRequest', logs: 'ExportLogsServiceRequest' } as const;

const GRPC_CODE = { invalid: 3, throttle: 8, unavailable: 14 } as const;
/** The empty ExportTraceServiceResponse (full success): encodes to no bytes; shared, only read. */
const EMPTY = Buffer.alloc(0);

export class OtlpHttpHandler {
  private readonly cfg: HttpConfig;
  private readonly logger: Logger;
  private readonly routes = new Map<string, Route>();

  constructor(id: string, cfg: HttpConfig, next: Consumers, logger: Logger, metrics: MetricsRegistry) {
    this.cfg = cfg;
    this.logger = logger;
    if (next.traces !== undefined) {
      const traces = next.traces;
      const obs = receiverObs(metrics, id, 'http');
      this.routes.set(cfg.traces_url_path, (res, fmt, body) => this.handleTraces(traces, obs, res, fmt, body));
    }
    for (const [signal, path] of [['metrics', cfg.metrics_url_path], ['logs', cfg.logs_url_path]] as const) {
      const consumer = next[signal];
      if (consumer !== undefined) {
        const obs = passthroughObs(metrics, id, 'http', signal);
        this.routes.set(path, (res, fmt, body) => this.handleOpaque(consumer, obs, signal, res, fmt, body));
      }
    }
  }

  /** Serves one request (node:http's `request` event, or one made by serveHttp2). */
  serve(req: HttpRequest, res: HttpResponse): void {
    this.handle(req, res).catch((err: unknown) => {
      this.logger.error({ err }, 'OTLP HTTP handler failed');
      if (!res.headersSent) this.sendError(res, 'json', 500, { kind: 'unavailable', message: 'internal error', retryAfterMs: undefined });
    });
  }

  /** Serves a request that came on an HTTP/2 stream, as node:http2's own `request` event would. */
  serveHttp2(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: string[]): void {
    // node:http2 is loaded by now (the stream came from it); it is not imported statically so an
    // idle receiver never loads it (grpc-h2.ts, h2Server).
    const { Http2ServerRequest, Http2ServerResponse } = process.getBuiltinModule('node:http2');
    const req = new Http2ServerRequest(stream, headers, {}, rawHeaders);
    const res = new Http2ServerResponse(stream);
    // As node:http does for HTTP/1.1 without a `checkContinue` listener.
    const expect = headers.expect;
    if (expect !== undefined) {
      if (expect.toLowerCase() !== '100-continue') {
        this.sendText(res, 417, `unsupported Expect "${expect}"`);
        req.resume();
        return;
      }
      res.writeContinue();
    }
    this.serve(req, res);
  }

  private async handle(req: HttpRequest, res: HttpResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const route = this.routes.get(path);
    if (route === undefined) {
      this.sendText(res, 404, `no OTLP endpoint at ${path} (this receiver serves ${[...this.routes.keys()].join(', ') || 'nothing'})`);
      req.resume();
      return;
    }
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      this.sendText(res, 405, `${req.method ?? ''} not allowed: use POST`);
      req.resume();
      return;
    }
    const type = mediaType(req);
    const fmt: Format | undefined = type === PROTOBUF ? 'proto' : type === JSON_TYPE ? 'json' : undefined;
    if (fmt === undefined) {
      this.sendText(res, 415, `unsupported Content-Type "${type}": use ${PROTOBUF} or ${JSON_TYPE}`);
      req.resume();
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(req, this.cfg.max_request_body_size);
    } catch (err) {
      const e = err instanceof HttpError ? err : new HttpError(400, String(err));
      closeAfter(res);
      this.sendError(res, fmt, e.status, { kind: 'invalid', message: e.message });
      return;
    }
    await route(res, fmt, body);
  }

  private async handleTraces(next: TracesConsumer, obs: ReceiverObs, res: HttpResponse, fmt: Format, body: Buffer): Promise<void> {
    let data: TracesData;
    try {
      data = TracesData.fromProto(fmt === 'json' ? traceRequestJsonToProto(body) : body);
    } catch (err) {
      if (!(err instanceof PermanentError)) throw err;
      // traceRequestJsonToProto's messages already say what was wrong with the JSON.
      const message = err instanceof WireFormatError ? `malformed ExportTraceServiceRequest: ${err.message}` : err.message;
      this.sendError(res, fmt, 400, { kind: 'invalid', message });
      return;
    }
    const out = await ingestTraces(next, obs, data);
    if (!out.ok) {
      this.sendError(res, fmt, httpStatusOf(out), out);
      return;
    }
    if (fmt === 'json') this.send(res, 200, JSON_TYPE, traceResponseJson(out.rejected, out.message));
    else this.send(res, 200, PROTOBUF, out.rejected === 0 && out.message === '' ? EMPTY : Buffer.from(encodeTraceResponse(out.rejected, out.message)));
  }

  private async handleOpaque(
    next: OpaqueConsumer,
    obs: PassthroughObs,
    signal: 'metrics' | 'logs',
    res: HttpResponse,
    fmt: Format,
    body: Buffer,
  ): Promise<void> {
    if (fmt === 'json') {
      // Pass-through is byte for byte to OTLP exporters that speak protobuf.
      this.sendError(res, fmt, 415, { kind: 'invalid', message: `OTLP/JSON ${signal} are not supported: send ${PROTOBUF}` });
      return;
    }
    try {
      VALIDATE[signal](body);
    } catch (err) {
      if (!(err instanceof PermanentError)) throw err;
      obs.refused.add(1);
      this.sendError(res, fmt, 400, { kind: 'invalid', message: `malformed ${MESSAGE[signal]}: ${err.message}` });
      return;
    }
    try {
      await next.consumeOpaque({ signal, bytes: body });
      obs.accepted.add(1);
      this.send(res, 200, PROTOBUF, EMPTY);
    } catch (err) {
      obs.refused.add(1);
      const r = classifyRefusal(err);
      this.sendError(res, fmt, httpStatusOf(r), r);
    }
  }

  private sendError(res: HttpResponse, fmt: Format, status: number, r: Refusal): void {
    for (const [k, v] of Object.entries(retryAfterHeader(r))) res.setHeader(k, v);
    const code = GRPC_CODE[r.kind];
    if (fmt === 'json') this.send(res, status, JSON_TYPE, JSON.stringify({ code, message: r.message }));
    else this.send(res, status, PROTOBUF, encodeRpcStatus({ code, message: r.message, details: [] }));
  }

  private sendText(res: HttpResponse, status: number, text: string): void {
    this.send(res, status, 'text/plain; charset=utf-8', `${text}\n`);
  }

  private send(res: HttpResponse, status: number, type: string, body: string | Buffer): void {
    res.statusCode = status;
    res.setHeader('Content-Type', type);
    res.setHeader('Content-Length', Buffer.byteLength(body));
    res.end(body);
  }
}

const NGHTTP2_NO_ERROR = 0;

/** An HTTP/2 response; node:http2 is not loaded to ask (an HTTP/1.1 response has no `stream`). */
function isHttp2Response(res: HttpResponse): res is Http2ServerResponse {
  return 'stream' in res;
}

/**
 * After a refused body (too large, undecodable) the rest of it is not read. HTTP/1.1: the
 * connection closes after the answer instead of draining it. HTTP/2: the answer goes out, then
 * RST_STREAM NO_ERROR asks the client to stop sending (RFC 9113 §8.1), freeing the stream's
 * flow-control window; the connection and its other streams go on.
 */
function closeAfter(res: HttpResponse): void {
  if (isHttp2Response(res)) {
    const stream = res.stream;
    res.once('finish', () => {
      if (!stream.closed) stream.close(NGHTTP2_NO_ERROR);
    });
  } else {
    res.setHeader('Connection', 'close');
  }
}
