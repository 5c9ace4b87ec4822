// The `otlp` exporter: OTLP/gRPC on node:http2 (grpc-client.ts; not grpc-js, which it says why),
// sending the pipeline's encoded bytes unchanged (no decode, no re-encode: lossless, and fields
// newer than our schema survive). Metrics and logs pass through the same way to
// MetricsService/LogsService Export. Queueing and retries are the shared exporters/internal
// machinery; the client adds none of its own.
import type { CreateSettings, Exporter, Host, OpaqueConsumer, TracesConsumer } from '../../component/component.ts';
import type { OpaqueData, TracesData } from '../../pdata/traces.ts';
import { QueuedSender } from '../internal/queued-sender.ts';
import { readPartialSuccess } from '../internal/otlp-response.ts';
import type { ExportRequest, ExportSender, SendOutcome, SignalName } from '../internal/request.ts';
import { readTlsMaterial } from '../internal/tls.ts';
import { userAgent } from '../../component/user-agent.ts';
import { grpcTarget, type OtlpExporterConfig } from './config.ts';
import { classifyGrpcError } from './grpc-errors.ts';
import { GrpcH2Client } from './grpc-client.ts';
import { GrpcCode } from '../../net/grpc-protocol.ts';
import { GrpcCallError } from './grpc-status.ts';
import { LOGS_EXPORT, METRICS_EXPORT, TRACE_EXPORT } from '../../pdata/otlp-grpc-paths.ts';
import { bufferView } from '../../pdata/buffer-view.ts';
import { splitTraceRequest } from '../../pdata/split.ts';

export const EXPORT_PATHS: Record<SignalName, string> = { traces: TRACE_EXPORT, metrics: METRICS_EXPORT, logs: LOGS_EXPORT };

interface OtlpRequest extends ExportRequest {
  readonly payload: Buffer;
}

export class OtlpExporter implements Exporter, ExportSender<OtlpRequest> {
  readonly traces: TracesConsumer;
  readonly metrics: OpaqueConsumer;
  readonly logs: OpaqueConsumer;
  private readonly cfg: OtlpExporterConfig;
  private readonly settings: CreateSettings;
  private readonly queue: QueuedSender<OtlpRequest>;
  private client: GrpcH2Client | undefined;
  private stopped: Promise<void> | undefined;

  constructor(settings: CreateSettings, cfg: OtlpExporterConfig) {
    this.settings = settings;
    this.cfg = cfg;
    this.queue = new QueuedSender(settings, cfg, this, { items: cfg.max_request_spans, bytes: cfg.max_request_bytes });
    this.traces = {
      mutatesData: false,
      consumeTraces: (d: TracesData) =>
        this.queue.enqueue({ signal: 'traces', items: d.spanCount, bytes: d.byteLength, payload: bufferView(d.bytes) }),
    };
    const opaque: OpaqueConsumer = {
      consumeOpaque: (d: OpaqueData) => this.queue.enqueue({ signal: d.signal, items: 1, bytes: d.bytes.length, payload: bufferView(d.bytes) }),
    };
    this.metrics = opaque;
    this.logs = opaque;
  }

  start(host: Host): Promise<void> {
    const { target, insecure } = grpcTarget(this.cfg);
    const tls = this.cfg.tls;
    let clientTls: ConstructorParameters<typeof GrpcH2Client>[0]['tls'];
    if (!insecure) {
      const pem = readTlsMaterial(tls);
      clientTls = { ca: pem.ca, cert: pem.cert, key: pem.key, rejectUnauthorized: !tls.insecure_skip_verify, servername: tls.server_name_override };
    }
    const retry = this.cfg.retry_on_failure;
    this.client = new GrpcH2Client({
      target,
      tls: clientTls,
      userAgent: userAgent('otlp'),
      metadata: this.cfg.headers,
      // gzip by default, as the collector: spans compress ~5-10x and the link may be metered.
      compression: this.cfg.compression === 'gzip' ? 'gzip' : 'none',
      // Reconnect at least as eagerly as we retry, so a backend that comes back is used promptly.
      initialBackoffMs: Math.max(100, Math.min(retry.initial_interval, 1000)),
      maxBackoffMs: Math.max(1000, retry.max_interval),
      maxReceiveBytes: 4 * 1024 * 1024,
    });
    this.queue.start(host);
    this.settings.logger.info({ endpoint: target, tls: !insecure, compression: this.cfg.compression || 'none' }, 'OTLP gRPC exporter started');
    return Promise.resolve();
  }

  async send(req: OtlpRequest, abort: AbortSignal): Promise<SendOutcome | void> {
    const client = this.client;
    if (client === undefined) throw new Error('exporter not started');
    let res: Buffer;
    try {
      res = await client.call(EXPORT_PATHS[req.signal], req.payload, this.cfg.timeout, abort);
    } catch (err) {
      throw classifyGrpcError(err instanceof GrpcCallError ? err : new GrpcCallError(GrpcCode.INTERNAL, String(err), { cause: err }));
    }
    return res.length > 0 ? readPartialSuccess(res) : undefined;
  }

  /** Trace requests split at resource/scope/span boundaries; metrics and logs pass whole. */
  split(req: OtlpRequest, maxItems: number, maxBytes: number): OtlpRequest[] | undefined {
    if (req.signal !== 'traces') return undefined;
    return splitTraceRequest(req.payload, req.items, maxItems, maxBytes).map((p) => ({ signal: 'traces', items: p.spans, bytes: p.bytes.length, payload: bufferView(p.bytes) }));
  }

  shutdown(): Promise<void> {
    this.stopped ??= this.queue.shutdown().finally(() => this.client?.close());
    return this.stopped;
  }
}
