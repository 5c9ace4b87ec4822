// `telemetry`: X-Ray telemetry records (PutTelemetryRecords), as the collector's
// internal/aws/xray/telemetry recorder and sender: per interval (1 minute) the segments received,
// sent, rejected and spilled over, and the backend connection errors by kind; records that could
// not be sent wait for the next interval in a queue of 30 (oldest dropped), sent 10 per call.
// Metadata (`include_metadata`): hostname and instance ID from the config, else AWS_HOSTNAME /
// AWS_INSTANCE_ID; the resource ARN from `telemetry.resource_arn`, else `resource_arn`. Unlike the
// collector, EC2 instance metadata is never queried.
import type { PutTelemetryRecordsCommand, TelemetryRecord, XRayClient } from '@aws-sdk/client-xray';
import type { Logger } from '../../telemetry/logger.ts';

export const TELEMETRY_INTERVAL_MS = 60_000;
const QUEUE_SIZE = 30;
const BATCH_SIZE = 10;

interface Counts {
  received: number;
  sent: number;
  spillover: number;
  rejected: number;
  http4xx: number;
  http5xx: number;
  refused: number;
  timeout: number;
  unknownHost: number;
  other: number;
}

const zero = (): Counts => ({ received: 0, sent: 0, spillover: 0, rejected: 0, http4xx: 0, http5xx: 0, refused: 0, timeout: 0, unknownHost: 0, other: 0 });

export interface TelemetryMetadata {
  hostname?: string;
  instanceId?: string;
  resourceArn?: string;
}

export class TelemetryRecorder {
  private counts = zero();
  private recorded = false;

  received(n: number): void {
    this.counts.received += n;
    this.recorded = true;
  }

  sent(n: number): void {
    this.counts.sent += n;
    this.recorded = true;
  }

  spillover(n: number): void {
    this.counts.spillover += n;
    this.recorded = true;
  }

  rejected(n: number): void {
    this.counts.rejected += n;
    this.recorded = true;
  }

  /** A failed call, sorted as the collector sorts them. */
  connectionError(err: unknown): void {
    const e = (err ?? {}) as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
    const status = e.$metadata?.httpStatusCode;
    const c = this.counts;
    if (status !== undefined && status >= 400 && status < 500) c.http4xx++;
    else if (status !== undefined && status >= 500 && status < 600) c.http5xx++;
    else if (e.code === 'ECONNREFUSED') c.refused++;
    else if (e.code === 'ETIMEDOUT' || e.name === 'TimeoutError' || e.name === 'AbortError') c.timeout++;
    else if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') c.unknownHost++;
    else c.other++;
    this.recorded = true;
  }

  get hasRecording(): boolean {
    return this.recorded;
  }

  /** The record of the period now ending; counting starts again from zero. */
  rotate(now = new Date()): TelemetryRecord {
    const c = this.counts;
    this.counts = zero();
    this.recorded = false;
    return {
      Timestamp: now,
      SegmentsReceivedCount: c.received,
      SegmentsSentCount: c.sent,
      SegmentsSpilloverCount: c.spillover,
      SegmentsRejectedCount: c.rejected,
      BackendConnectionErrors: {
        HTTPCode4XXCount: c.http4xx,
        HTTPCode5XXCount: c.http5xx,
        ConnectionRefusedCount: c.refused,
        TimeoutCount: c.timeout,
        UnknownHostCount: c.unknownHost,
        OtherCount: c.other,
      },
    };
  }
}

export class TelemetrySender {
  readonly recorder = new TelemetryRecorder();
  private readonly client: XRayClient;
  private readonly command: typeof PutTelemetryRecordsCommand;
  private readonly meta: TelemetryMetadata;
  private readonly logger: Logger;
  private readonly intervalMs: number;
  private queue: TelemetryRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;

  constructor(
    client: XRayClient,
    command: typeof PutTelemetryRecordsCommand,
    meta: TelemetryMetadata,
    logger: Logger,
    intervalMs = TELEMETRY_INTERVAL_MS,
  ) {
    this.client = client;
    this.command = command;
    this.meta = meta;
    this.logger = logger;
    this.intervalMs = intervalMs;
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  /** One interval: rotate the record (if anything happened) and send what is queued. */
  tick(): Promise<void> {
    if (this.sending !== undefined) return this.sending;
    if (!this.recorder.hasRecording) return Promise.resolve();
    this.queue.push(this.recorder.rotate());
    if (this.queue.length > QUEUE_SIZE) this.queue.splice(0, this.queue.length - QUEUE_SIZE);
    this.sending = this.send().finally(() => (this.sending = undefined));
    return this.sending;
  }

  private async send(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, BATCH_SIZE);
      try {
        await this.client.send(
          new this.command({ TelemetryRecords: batch, EC2InstanceId: this.meta.instanceId, Hostname: this.meta.hostname, ResourceARN: this.meta.resourceArn }),
        );
      } catch (err) {
        // Kept for the next interval; the failure itself is part of the next record.
        this.recorder.connectionError(err);
        this.logger.debug({ err: (err as Error).message }, 'X-Ray telemetry records not sent; retrying next interval');
        return;
      }
      this.queue.splice(0, batch.length);
    }
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
