// The `awsxray` exporter: batches are queued as received (shared queue and retry machinery) and,
// on their first send attempt, turned into X-Ray segment documents (translate.ts) fitted to 64 kB
// (trim.ts), then sent through one transport:
// PutTraceSegments (api-transport.ts, default) or X-Ray daemon datagrams (udp-transport.ts).
//
// Trace IDs: legacy X-Ray ingestion drops a trace ID whose first 4 bytes are not an epoch within
// 28 days before / 5 minutes after its clock. Such spans are still sent unchanged (X-Ray decides:
// current X-Ray may accept them), counted, and warned about once per episode, pointing at the
// tracecontext processor's `on_invalid: rewrite`. After that rewrite the IDs are valid, so the
// counter stays at zero when the rewrite runs before this exporter.
import type { CreateSettings, Exporter, Host, TracesConsumer } from '../../component/component.ts';
import { PermanentError } from '../../component/errors.ts';
import type { TracesData } from '../../pdata/traces.ts';
import { OnceWarning } from '../../telemetry/logger.ts';
import { formatXRayTraceId, xrayValidity } from '../../tracecontext/index.ts';
import { QueuedSender } from '../internal/queued-sender.ts';
import type { SendOutcome } from '../internal/request.ts';
import { effectiveConfig, type AwsxrayExporterConfig } from './config.ts';
import { xrayObs, type XRayObs } from './obs.ts';
import { batchRequest, type SegmentRequest, type SegmentTransport } from './request.ts';
import { toXRaySegments, type TranslateOptions } from './translate.ts';
import { fitDocument, MAX_DOCUMENT_BYTES } from './trim.ts';

export interface ExporterEnv {
  /** AWS_XRAY_DAEMON_ADDRESS of the sidecar's environment (transport udp default). */
  daemonAddress?: string;
  /** The environment's HTTPS_PROXY / NO_PROXY (transport api without `proxy_address`). */
  proxyEnv?: NodeJS.ProcessEnv;
  /** AWS_REGION of the environment (transport api without `region`). */
  awsRegion?: string;
  /** AWS_HOSTNAME / AWS_INSTANCE_ID: telemetry record metadata when the config sets none. */
  awsHostname?: string;
  awsInstanceId?: string;
  /** The clock for the trace-ID check (tests). */
  nowSeconds?: () => number;
  /** Telemetry record interval (tests); default one minute. */
  telemetryIntervalMs?: number;
}

export class AwsXRayExporter implements Exporter {
  readonly traces: TracesConsumer;
  private readonly settings: CreateSettings;
  private readonly cfg: AwsxrayExporterConfig;
  private readonly env: ExporterEnv;
  private readonly queue: QueuedSender<SegmentRequest>;
  private readonly obs: XRayObs;
  private readonly options: TranslateOptions;
  private readonly invalidIds: OnceWarning;
  private readonly oversize: OnceWarning;
  private transport: SegmentTransport | undefined;
  private stopped: Promise<void> | undefined;

  constructor(settings: CreateSettings, config: AwsxrayExporterConfig, env: ExporterEnv = {}) {
    this.settings = settings;
    this.cfg = effectiveConfig(config);
    this.env = env;
    this.obs = xrayObs(settings.metrics, settings.id);
    this.options = {
      indexing: {
        indexed: new Set(this.cfg.indexed_attributes),
        indexAll: this.cfg.index_all_attributes,
        alwaysIndexed: this.cfg.original_trace_id_attribute,
      },
      logGroups: this.cfg.aws_log_groups,
    };
    this.queue = new QueuedSender(settings, this.cfg, { send: (req, abort) => this.send(req, abort) });
    this.invalidIds = new OnceWarning(
      settings.logger,
      'spans with trace IDs that legacy X-Ray ingestion rejects (first 4 bytes are not a recent epoch) are being sent unchanged; X-Ray may drop them. Put the tracecontext processor with on_invalid: rewrite before this exporter if this path needs legacy-valid IDs',
    );
    this.oversize = new OnceWarning(settings.logger, 'segment documents over 64 kB are being trimmed (metadata first) or dropped');
    this.traces = { mutatesData: false, consumeTraces: (d) => this.consume(d) };
  }

  async start(host: Host): Promise<void> {
    if (this.cfg.transport === 'udp') {
      const { UdpTransport } = await import('./udp-transport.ts');
      this.transport = new UdpTransport(this.cfg, this.env.daemonAddress);
    } else {
      const { ApiTransport } = await import('./api-transport.ts');
      const t = this.cfg.telemetry;
      this.transport = new ApiTransport(this.settings, this.cfg, this.obs, {
        proxyEnv: this.env.proxyEnv,
        awsRegion: this.env.awsRegion,
        telemetry: {
          metadata: {
            hostname: t.hostname ?? this.env.awsHostname,
            instanceId: t.instance_id ?? this.env.awsInstanceId,
            resourceArn: t.resource_arn ?? this.cfg.resource_arn,
          },
          intervalMs: this.env.telemetryIntervalMs,
        },
      });
    }
    await this.transport.start();
    this.queue.start(host);
    const described = this.transport.describe();
    this.settings.logger.info({ transport: this.cfg.transport, ...described }, 'X-Ray exporter started');
    if (described.loopback_daemon === true) {
      this.settings.logger.warn(
        { daemon_address: described.daemon_address },
        "daemon_address is this pod's 127.0.0.1:2000, where the sidecar's own awsxray receiver listens by default: segments would come back in and be exported again. Point daemon_address at the node's daemon (e.g. ${env:HOST_IP}:2000) unless a daemon really listens there",
      );
    }
  }

  private consume(data: TracesData): Promise<void> {
    if (data.spanCount === 0) return Promise.resolve();
    const queued = this.queue.enqueue(batchRequest(data));
    if (!this.cfg.sending_queue.enabled) return queued;
    return queued.catch((err: unknown) => {
      // With a queue, a refusal means the queue is full (or closing): the X-Ray daemon's "spillover".
      this.transport?.recorder?.spillover(data.spanCount);
      throw err;
    });
  }

  private send(req: SegmentRequest, abort: AbortSignal): Promise<SendOutcome | void> {
    if (req.data !== undefined) {
      try {
        this.translate(req, req.data);
      } catch (err) {
        // Receivers validate what they accept, so this is a bug upstream; retrying cannot help.
        // Permanent: the queue drops the request at once, counts its spans as failed and warns once.
        return Promise.reject(new PermanentError(`batch could not be translated to X-Ray segments: ${err instanceof Error ? err.message : String(err)}`, { cause: err }));
      }
    }
    if (req.docs.length === 0) return Promise.resolve(req.rejected > 0 ? { rejected: req.rejected, message: 'segment documents over 64 kB after trimming' } : undefined);
    return this.transport!.send(req, abort);
  }

  /** Fills the request with the batch's documents (first attempt only); checks the trace IDs. */
  private translate(req: SegmentRequest, data: TracesData): void {
    const docs: string[] = [];
    const ids: string[] = [];
    let rejected = 0;
    let invalid = 0;
    let example: string | undefined;
    let reason: string | undefined;
    const now = Math.floor(this.env.nowSeconds?.() ?? Date.now() / 1000);
    toXRaySegments(data.toObjects(), this.options, ({ doc, span, sharedServer }) => {
      if (span.traceId !== undefined && span.traceId.length === 16) {
        const validity = xrayValidity(span.traceId, now);
        if (validity !== 'valid') {
          invalid++;
          example ??= formatXRayTraceId(span.traceId);
          reason ??= validity;
        }
      }
      const id = doc.id;
      if (sharedServer) this.obs.sharedServerSpans.add(1);
      const fitted = fitDocument(doc, MAX_DOCUMENT_BYTES);
      if (fitted.trimmed.length > 0) {
        this.obs.trimmed.add(1);
        this.oversize.warn({ trimmed: fitted.trimmed, segment_id: id });
      }
      if (fitted.json === undefined) {
        this.obs.tooLarge.add(1);
        rejected++;
        return;
      }
      docs.push(fitted.json);
      ids.push(id);
    });
    if (invalid > 0) {
      this.obs.invalidTraceIds.add(invalid);
      this.invalidIds.warn({ spans: invalid, example_trace_id: example, reason });
    } else {
      this.invalidIds.reset();
    }
    req.docs = docs;
    req.ids = ids;
    req.rejected = rejected;
    delete req.data;
  }

  shutdown(): Promise<void> {
    this.stopped ??= this.queue.shutdown().finally(() => this.transport?.close());
    return this.stopped;
  }
}
