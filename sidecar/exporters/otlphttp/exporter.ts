// The `otlphttp` exporter: OTLP/HTTP POSTs over node:http(s) with keep-alive connections. Traces
// go as the pipeline's encoded bytes (encoding proto: lossless, no re-encode) or as OTLP/JSON;
// metrics and logs pass through as protobuf bytes. The body is encoded and compressed once per
// request (not per attempt); an authenticator extension (sigv4auth) signs every attempt.
import { bufferView } from '../../pdata/buffer-view.ts';
import type { Agent as HttpAgent, IncomingMessage } from 'node:http';
import type { CreateSettings, Exporter, Host, OpaqueConsumer, TracesConsumer } from '../../component/component.ts';
import { PermanentError } from '../../component/errors.ts';
import { traceRequestProtoToJson } from '../../pdata/otlp-json-encode.ts';
import { editLargeSpans, splitTraceRequest } from '../../pdata/split.ts';
import { trimSpan } from '../../pdata/trim.ts';
import { XRAY_OTLP_QUOTAS, xrayOtlpRegion } from '../../aws/endpoints.ts';
import type { BoundCounter } from '../../telemetry/metrics.ts';
import { OnceWarning } from '../../telemetry/logger.ts';
import type { OpaqueData, TracesData } from '../../pdata/traces.ts';
import { findAuthenticator, type HttpRequestAuthenticator } from '../../component/auth.ts';
import { readPartialSuccess, readPartialSuccessJson } from '../internal/otlp-response.ts';
import { QueuedSender } from '../internal/queued-sender.ts';
import type { ExportRequest, ExportSender, SendOutcome, SignalName } from '../internal/request.ts';
import { readTlsMaterial } from '../internal/tls.ts';
import { userAgent } from '../../component/user-agent.ts';
import { deflateAsync, gzipAsync, zstdCompressAsync } from '../../runtime/zlib.ts';
import { signalUrl, type OtlphttpExporterConfig } from './config.ts';
import { classifyHttpFailure } from './http-errors.ts';
// node:http by process.getBuiltinModule, not an ES import: importing it reads every export, and its
// WebSocket getter loads undici with node:tls and node:http2 (6.6 MiB of private memory at idle).
const http = process.getBuiltinModule('node:http');

const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';
/** Responses are small (empty or a partial-success message); anything larger is cut off. */
const MAX_RESPONSE_BYTES = 64 * 1024;

const COMPRESS: Record<string, ((b: Uint8Array) => Promise<Buffer>) | undefined> = {
  gzip: (b) => gzipAsync(b),
  zstd: (b) => zstdCompressAsync(b),
  deflate: (b) => deflateAsync(b),
};

interface HttpExportRequest extends ExportRequest {
  readonly payload: Uint8Array;
  /** The body as sent (encoded, compressed), made on the first attempt and reused by retries. */
  body?: Buffer;
}

interface Target {
  url: URL;
  href: string;
}

export class OtlphttpExporter implements Exporter, ExportSender<HttpExportRequest> {
  readonly traces: TracesConsumer;
  readonly metrics: OpaqueConsumer;
  readonly logs: OpaqueConsumer;
  private readonly cfg: OtlphttpExporterConfig;
  private readonly settings: CreateSettings;
  private readonly queue: QueuedSender<HttpExportRequest>;
  private readonly targets: Partial<Record<SignalName, Target>> = {};
  private readonly baseHeaders: Record<string, string>;
  /** Keep-alive agents by URL scheme, each made by the first export to that scheme. */
  private readonly agents: Partial<Record<'http:' | 'https:', HttpAgent>> = {};
  /** How to make them (start() sets it: https only when a target is https://, with the TLS settings). */
  private makeAgent: Partial<Record<'http:' | 'https:', () => HttpAgent>> = {};
  /** The backend's per-span limit (X-Ray's OTLP endpoint), with what trimming counts and says. */
  private readonly maxSpanBytes: number | undefined;
  private readonly trimmed: BoundCounter | undefined;
  private readonly oversized: BoundCounter | undefined;
  private readonly oversizeWarning: OnceWarning | undefined;
  private auth: HttpRequestAuthenticator | undefined;
  private stopped: Promise<void> | undefined;

  constructor(settings: CreateSettings, cfg: OtlphttpExporterConfig) {
    this.settings = settings;
    this.cfg = cfg;
    for (const signal of ['traces', 'metrics', 'logs'] as const) {
      const href = signalUrl(cfg, signal);
      if (href !== undefined) this.targets[signal] = { url: new URL(href), href };
    }
    const limits = { items: cfg.max_request_spans, bytes: cfg.max_request_bytes };
    const tracesHref = this.targets.traces?.href;
    if (tracesHref !== undefined && xrayOtlpRegion(tracesHref) !== undefined) {
      // X-Ray's OTLP endpoint refuses whole requests over its quotas: apply them here, whatever
      // the config says, so nothing is sent that it must refuse.
      limits.items = capped(limits.items, XRAY_OTLP_QUOTAS.maxSpans);
      limits.bytes = capped(limits.bytes, XRAY_OTLP_QUOTAS.maxBytes);
      this.maxSpanBytes = XRAY_OTLP_QUOTAS.maxSpanBytes;
      const labels = { exporter: settings.id };
      this.trimmed = settings.metrics.counter('tracebridge_exporter_trimmed_spans_total', 'Spans cut to the backend\'s per-span limit (attributes/events/links dropped, recorded in tracebridge.trimmed).').bind(labels);
      this.oversized = settings.metrics.counter('tracebridge_exporter_oversized_dropped_spans_total', 'Spans over the backend\'s per-span limit even without attributes, events and links (dropped).').bind(labels);
      this.oversizeWarning = new OnceWarning(settings.logger, 'spans over the backend\'s per-span limit: trimmed (tracebridge.trimmed) or, when still too large, dropped');
    }
    this.queue = new QueuedSender(settings, cfg, this, limits);
    const compression = COMPRESS[cfg.compression] === undefined ? undefined : cfg.compression;
    // Configured headers first; the exporter's own (content negotiation, User-Agent) win.
    this.baseHeaders = { ...lowerKeys(cfg.headers), 'user-agent': userAgent('otlphttp') };
    if (compression !== undefined) this.baseHeaders['content-encoding'] = compression;
    this.traces = {
      mutatesData: false,
      consumeTraces: (d: TracesData) => this.enqueueTraces(d),
    };
    const opaque: OpaqueConsumer = {
      consumeOpaque: (d: OpaqueData) => this.enqueue({ signal: d.signal, items: 1, bytes: d.bytes.length, payload: d.bytes }),
    };
    this.metrics = opaque;
    this.logs = opaque;
  }

  /** Trims (or drops) spans over the per-span limit, when there is one, then queues. */
  private enqueueTraces(d: TracesData): Promise<void> {
    const max = this.maxSpanBytes;
    const edited = max === undefined ? undefined : editLargeSpans(d.bytes, d.view, max, (buf, s, e) => trimSpan(buf, s, e, max)?.payload);
    if (edited !== undefined) {
      this.trimmed?.add(edited.edited);
      this.oversized?.add(edited.dropped);
      this.oversizeWarning?.warn({ trimmed: edited.edited, dropped: edited.dropped, max_span_bytes: max });
      if (edited.part.spans === 0) return Promise.resolve();
      return this.enqueue({ signal: 'traces', items: edited.part.spans, bytes: edited.part.bytes.length, payload: edited.part.bytes });
    }
    return this.enqueue({ signal: 'traces', items: d.spanCount, bytes: d.byteLength, payload: d.bytes });
  }

  private enqueue(req: HttpExportRequest): Promise<void> {
    if (this.targets[req.signal] === undefined) {
      return Promise.reject(new PermanentError(`exporter ${this.settings.id} has no URL for ${req.signal}: set endpoint or ${req.signal}_endpoint`));
    }
    return this.queue.enqueue(req);
  }

  start(host: Host): Promise<void> {
    const sockets = this.cfg.sending_queue.enabled ? this.cfg.sending_queue.num_consumers : 16;
    // Keep-alive: an export every few hundred milliseconds must not pay a TCP and TLS handshake.
    // One agent per scheme, made by the first export that needs it: each signal's endpoint has its
    // own (traces to a collector over http://, metrics to a vendor over https://).
    this.makeAgent = { 'http:': () => new http.Agent({ keepAlive: true, maxSockets: sockets }) };
    if (Object.values(this.targets).some((t) => t.url.protocol === 'https:')) {
      // The certificate files are read now, so a missing one fails the start, not the first export.
      const pem = readTlsMaterial(this.cfg.tls);
      // node:https (node:tls and node:crypto under it) loads with the first https:// export, not
      // here: ~25 ms of a start on a 2-core VM, ~45 ms with the image's node flags (which make node
      // compile its own modules from source), all of it before the startup probe can pass. About
      // 1.7 MiB of private memory an exporter to http:// never needs.
      this.makeAgent['https:'] = () => {
        const { Agent } = process.getBuiltinModule('node:https');
        return new Agent({
          keepAlive: true,
          maxSockets: sockets,
          ca: pem.ca,
          cert: pem.cert,
          key: pem.key,
          rejectUnauthorized: !this.cfg.tls.insecure_skip_verify,
          servername: this.cfg.tls.server_name_override,
        });
      };
    }
    if (this.cfg.auth?.authenticator !== undefined) this.auth = findAuthenticator(host, this.cfg.auth.authenticator, this.settings.id);
    this.queue.start(host);
    this.settings.logger.info(
      { endpoints: Object.fromEntries(Object.entries(this.targets).map(([s, t]) => [s, t.href])), encoding: this.cfg.encoding, compression: this.cfg.compression || 'none', auth: this.cfg.auth?.authenticator },
      'OTLP HTTP exporter started',
    );
    return Promise.resolve();
  }

  private async body(req: HttpExportRequest): Promise<{ body: Buffer; contentType: string }> {
    const json = req.signal === 'traces' && this.cfg.encoding === 'json';
    const contentType = json ? JSON_TYPE : PROTOBUF;
    if (req.body === undefined) {
      const encoded = json ? Buffer.from(traceRequestProtoToJson(req.payload), 'utf8') : req.payload;
      const compress = COMPRESS[this.cfg.compression];
      req.body = compress ? await compress(encoded) : bufferView(encoded);
    }
    return { body: req.body, contentType };
  }

  async send(req: HttpExportRequest, abort: AbortSignal): Promise<SendOutcome | void> {
    const target = this.targets[req.signal]!;
    const { body, contentType } = await this.body(req);
    let headers: Record<string, string> = { ...this.baseHeaders, 'content-type': contentType, 'content-length': String(body.length) };
    if (this.auth !== undefined) headers = await this.auth.authenticateHttpRequest({ method: 'POST', url: target.url, headers, body });
    const res = await this.post(target.url, headers, body, abort);
    if (res.status >= 200 && res.status < 300) {
      if (res.body.length === 0) return undefined;
      return (res.headers['content-type'] ?? '').startsWith(JSON_TYPE) ? readPartialSuccessJson(res.body.toString('utf8')) : readPartialSuccess(res.body);
    }
    throw classifyHttpFailure(target.href, res.status, res.headers, res.body);
  }

  private post(url: URL, headers: Record<string, string>, body: Buffer, abort: AbortSignal): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> {
    const scheme = url.protocol === 'https:' ? 'https:' : 'http:';
    const send = scheme === 'https:' ? process.getBuiltinModule('node:https').request : http.request;
    const agent = (this.agents[scheme] ??= this.makeAgent[scheme]?.());
    return new Promise((resolve, reject) => {
      const req = send(url, { method: 'POST', headers, agent, signal: abort }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size < MAX_RESPONSE_BYTES) chunks.push(c);
          size += c.length;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Trace requests split at resource/scope/span boundaries; metrics and logs pass whole. */
  split(req: HttpExportRequest, maxItems: number, maxBytes: number): HttpExportRequest[] | undefined {
    if (req.signal !== 'traces') return undefined;
    return splitTraceRequest(req.payload, req.items, maxItems, maxBytes).map((p) => ({ signal: 'traces', items: p.spans, bytes: p.bytes.length, payload: p.bytes }));
  }

  shutdown(): Promise<void> {
    this.stopped ??= this.queue.shutdown().finally(() => {
      for (const agent of Object.values(this.agents)) agent.destroy();
    });
    return this.stopped;
  }
}

/** The smaller of a configured cap (0 = none) and a backend's quota. */
function capped(configured: number, quota: number): number {
  return configured > 0 ? Math.min(configured, quota) : quota;
}

function lowerKeys(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = v;
  return out;
}
