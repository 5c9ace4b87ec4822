// The `otlp` exporter: OTLP/gRPC with grpc-js, sending the pipeline's encoded bytes unchanged
// (no decode, no re-encode: lossless, and fields newer than our schema survive). Metrics and logs
// pass through the same way to MetricsService/LogsService Export. Queueing and retries are the
// shared exporters/internal machinery.
import * as grpc from '@grpc/grpc-js';
import type { CreateSettings, Exporter, Host, OpaqueConsumer, TracesConsumer } from '../../component/component.ts';
import type { OpaqueData, TracesData } from '../../pdata/traces.ts';
import { QueuedSender } from '../internal/queued-sender.ts';
import { readPartialSuccess } from '../internal/otlp-response.ts';
import type { ExportRequest, ExportSender, SendOutcome, SignalName } from '../internal/request.ts';
import { readTlsMaterial } from '../internal/tls.ts';
import { userAgent } from '../../component/user-agent.ts';
import { grpcTarget, type OtlpExporterConfig } from './config.ts';
import { classifyGrpcError } from './grpc-errors.ts';
import { LOGS_EXPORT, METRICS_EXPORT, TRACE_EXPORT } from '../../pdata/otlp-grpc-paths.ts';
import { bufferView } from '../../pdata/buffer-view.ts';
import { splitTraceRequest } from '../../pdata/split.ts';

export const EXPORT_PATHS: Record<SignalName, string> = { traces: TRACE_EXPORT, metrics: METRICS_EXPORT, logs: LOGS_EXPORT };

interface OtlpRequest extends ExportRequest {
  readonly payload: Buffer;
}

const identity = (b: Buffer): Buffer => b;

export class OtlpExporter implements Exporter, ExportSender<OtlpRequest> {
  readonly traces: TracesConsumer;
  readonly metrics: OpaqueConsumer;
  readonly logs: OpaqueConsumer;
  private readonly cfg: OtlpExporterConfig;
  private readonly settings: CreateSettings;
  private readonly queue: QueuedSender<OtlpRequest>;
  private readonly metadata = new grpc.Metadata();
  private client: grpc.Client | undefined;
  private stopped: Promise<void> | undefined;

  constructor(settings: CreateSettings, cfg: OtlpExporterConfig) {
    this.settings = settings;
    this.cfg = cfg;
    this.queue = new QueuedSender(settings, cfg, this, { items: cfg.max_request_spans, bytes: cfg.max_request_bytes });
    for (const [k, v] of Object.entries(cfg.headers)) this.metadata.set(k.toLowerCase(), v);
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
    let creds: grpc.ChannelCredentials;
    if (insecure) {
      creds = grpc.credentials.createInsecure();
    } else {
      const pem = readTlsMaterial(tls);
      creds = grpc.credentials.createSsl(pem.ca ?? null, pem.key ?? null, pem.cert ?? null, {
        rejectUnauthorized: !tls.insecure_skip_verify,
        ...(tls.insecure_skip_verify ? { checkServerIdentity: () => undefined } : {}),
      });
    }
    const retry = this.cfg.retry_on_failure;
    const options: grpc.ChannelOptions = {
      'grpc.primary_user_agent': userAgent('otlp'),
      // gzip by default, as the collector: spans compress ~5-10x and the link may be metered.
      'grpc.default_compression_algorithm': this.cfg.compression === 'gzip' ? 2 : 0,
      // Reconnect at least as eagerly as we retry, so a backend that comes back is used promptly
      // (grpc-js would otherwise back off up to 120s between connection attempts).
      'grpc.initial_reconnect_backoff_ms': Math.max(100, Math.min(retry.initial_interval, 1000)),
      'grpc.max_reconnect_backoff_ms': Math.max(1000, retry.max_interval),
      // Large batches: match the receiver's limits rather than grpc-js' 4 MiB send default.
      'grpc.max_send_message_length': -1,
      'grpc.max_receive_message_length': 4 * 1024 * 1024,
    };
    if (tls.server_name_override !== undefined) options['grpc.ssl_target_name_override'] = tls.server_name_override;
    this.client = new grpc.Client(target, creds, options);
    this.queue.start(host);
    this.settings.logger.info({ endpoint: target, tls: !insecure, compression: this.cfg.compression || 'none' }, 'OTLP gRPC exporter started');
    return Promise.resolve();
  }

  send(req: OtlpRequest, abort: AbortSignal): Promise<SendOutcome | void> {
    const client = this.client;
    if (client === undefined) return Promise.reject(new Error('exporter not started'));
    return new Promise((resolve, reject) => {
      const call = client.makeUnaryRequest(
        EXPORT_PATHS[req.signal],
        identity,
        identity,
        req.payload,
        this.metadata,
        { deadline: Date.now() + this.cfg.timeout },
        (err: grpc.ServiceError | null, res?: Buffer) => {
          abort.removeEventListener('abort', onAbort);
          if (err !== null) reject(classifyGrpcError(err));
          else resolve(res !== undefined && res.length > 0 ? readPartialSuccess(res) : undefined);
        },
      );
      const onAbort = () => call.cancel();
      abort.addEventListener('abort', onAbort, { once: true });
    });
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
