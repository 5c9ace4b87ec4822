// The UDP side. X-Ray SDKs stream a long segment's subsegments as back-to-back datagrams, so the
// socket must be read faster than documents are translated: the 'message' handler only checks the
// size and queues the datagram (bounded in bytes and datagrams); the queue is drained once per
// turn of the event loop, every document of the turn translated into one TracesData for the
// pipeline. UDP has no back-pressure, so nothing here waits: a datagram that cannot be read is
// dropped and counted (never fatal), one the queue cannot hold is dropped and counted, a refusal
// by the pipeline is counted as refused spans, and the number of batches waiting on the pipeline
// is bounded (beyond it they are refused too). What the kernel drops on a full receive buffer is
// read from /proc/net/udp{,6} once a second and counted as well.
import { createSocket, type Socket } from 'node:dgram';
import { readTextFile } from '../../runtime/read-text.ts';
import type { TracesConsumer } from '../../component/component.ts';
import { receiverObs, type ReceiverObs } from '../../component/obsreport.ts';
import { parseHostPort } from '../../config/schema.ts';
import type { ExportTraceServiceRequest } from '../../pdata/otlp-schema.ts';
import { TracesData } from '../../pdata/traces.ts';
import type { Logger } from '../../telemetry/logger.ts';
import { OnceWarning } from '../../telemetry/logger.ts';
import type { BoundCounter, MetricsRegistry } from '../../telemetry/metrics.ts';
import { ingestTraces } from '../internal/ingest.ts';
import { MAX_DATAGRAM_BYTES, splitDatagram } from './datagram.ts';
import { countSegments, parseSegmentDocument, SegmentError, type Segment } from './segment.ts';
import { segmentToTraces } from './translate.ts';
import { procAddress, socketDrops } from './udp-drops.ts';

export type MalformedReason = 'oversized' | 'no_header' | 'bad_header' | 'no_body' | 'bad_document';

/** Batches handed to the pipeline and not yet answered; more are refused, not queued. */
export const MAX_IN_FLIGHT = 256;
/** Datagrams read from the socket and not yet translated; beyond either bound they are dropped. */
export const MAX_QUEUE_DATAGRAMS = 10_000;
export const MAX_QUEUE_BYTES = 16 * 1024 * 1024;
/** Documents translated per turn of the event loop (one TracesData). */
export const MAX_BATCH_DOCUMENTS = 512;
/** Receive buffer asked of the kernel; it grants at most net.core.rmem_max (×2 bookkeeping). */
export const RECV_BUFFER_BYTES = 4 * 1024 * 1024;
/** How often the kernel's drop counter and the queue's drops are checked for a warning. */
export const DROP_POLL_MS = 1000;

export type DropReason = 'receive_buffer' | 'queue_full';
/** A new episode of bad input (and a new warning) starts after this long without any. */
export const EPISODE_GAP_MS = 60_000;

export interface UdpOptions {
  maxDatagramBytes?: number;
  maxInFlight?: number;
  maxQueueDatagrams?: number;
  maxQueueBytes?: number;
  maxBatchDocuments?: number;
  recvBufferBytes?: number;
  dropPollMs?: number;
  now?: () => number;
}

/** Warns once per burst: a new warning only after `gapMs` without the condition. */
class EpisodeWarning {
  private readonly once: OnceWarning;
  private last = -Infinity;
  private readonly gapMs: number;
  private readonly now: () => number;

  constructor(logger: Logger, message: string, gapMs: number, now: () => number) {
    this.once = new OnceWarning(logger, message);
    this.gapMs = gapMs;
    this.now = now;
  }

  warn(fields: Record<string, unknown>): void {
    const t = this.now();
    if (t - this.last > this.gapMs) this.once.reset();
    this.last = t;
    this.once.warn(fields);
  }
}

/**
 * Warns when a drop counter starts rising and says once more when it stopped (a poll without
 * new drops), so a sustained loss is one warning, not one per datagram or per second.
 */
class DropEpisode {
  private readonly logger: Logger;
  private readonly reason: DropReason;
  private readonly what: string;
  private seen = 0;
  private episode = 0;
  private dropping = false;

  constructor(logger: Logger, reason: DropReason, what: string) {
    this.logger = logger;
    this.reason = reason;
    this.what = what;
  }

  check(total: number, fields: Record<string, unknown>): void {
    const delta = total - this.seen;
    this.seen = total;
    if (delta > 0) {
      this.episode += delta;
      if (!this.dropping) {
        this.dropping = true;
        this.logger.warn({ ...fields, reason: this.reason, dropped: delta }, `dropping X-Ray datagrams: ${this.what} (counted in tracebridge_receiver_awsxray_dropped_datagrams_total)`);
      }
    } else if (this.dropping) {
      this.dropping = false;
      this.logger.info({ ...fields, reason: this.reason, dropped: this.episode }, `no longer dropping X-Ray datagrams: ${this.what}`);
      this.episode = 0;
    }
  }
}

export class XRayUdpServer {
  private readonly socket: Socket;
  private readonly endpoint: string;
  private readonly next: TracesConsumer;
  private readonly logger: Logger;
  private readonly obs: ReceiverObs;
  private readonly malformed: Record<MalformedReason, BoundCounter>;
  private readonly dropped: Record<DropReason, BoundCounter>;
  private readonly badInput: EpisodeWarning;
  private readonly refusedWarning: EpisodeWarning;
  private readonly episodes: Record<DropReason, DropEpisode>;
  private readonly maxBytes: number;
  private readonly maxInFlight: number;
  private maxQueueDatagrams: number;
  private maxQueueBytes: number;
  private readonly maxBatch: number;
  private readonly recvBufferBytes: number;
  private readonly dropPollMs: number;
  private readonly udp6: boolean;
  private queue: Buffer[] = [];
  private queueHead = 0;
  private queueBytes = 0;
  private drainScheduled = false;
  private pausedUntil = 0;
  private inFlight = 0;
  private idle: (() => void) | undefined;
  private listening = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private procLocal: string | undefined;
  private queueDropped = 0;

  constructor(id: string, endpoint: string, next: TracesConsumer, logger: Logger, metrics: MetricsRegistry, opts: UdpOptions = {}) {
    this.endpoint = endpoint;
    this.next = next;
    this.logger = logger;
    this.maxBytes = opts.maxDatagramBytes ?? MAX_DATAGRAM_BYTES;
    this.maxInFlight = opts.maxInFlight ?? MAX_IN_FLIGHT;
    this.maxQueueDatagrams = opts.maxQueueDatagrams ?? MAX_QUEUE_DATAGRAMS;
    this.maxQueueBytes = opts.maxQueueBytes ?? MAX_QUEUE_BYTES;
    this.maxBatch = opts.maxBatchDocuments ?? MAX_BATCH_DOCUMENTS;
    this.recvBufferBytes = opts.recvBufferBytes ?? RECV_BUFFER_BYTES;
    this.dropPollMs = opts.dropPollMs ?? DROP_POLL_MS;
    const now = opts.now ?? Date.now;
    this.obs = receiverObs(metrics, id, 'udp');
    const counter = metrics.counter(
      'tracebridge_receiver_awsxray_malformed_datagrams_total',
      'X-Ray datagrams dropped because they could not be read as a segment document, by reason.',
    );
    const bind = (reason: MalformedReason) => counter.bind({ receiver: id, reason });
    this.malformed = {
      oversized: bind('oversized'),
      no_header: bind('no_header'),
      bad_header: bind('bad_header'),
      no_body: bind('no_body'),
      bad_document: bind('bad_document'),
    };
    const lost = metrics.counter(
      'tracebridge_receiver_awsxray_dropped_datagrams_total',
      'X-Ray datagrams lost before they were read: receive_buffer = dropped by the kernel on a full socket buffer, queue_full = the receiver queue was full.',
    );
    this.dropped = { receive_buffer: lost.bind({ receiver: id, reason: 'receive_buffer' }), queue_full: lost.bind({ receiver: id, reason: 'queue_full' }) };
    this.episodes = {
      receive_buffer: new DropEpisode(logger, 'receive_buffer', 'the socket receive buffer overflowed'),
      queue_full: new DropEpisode(logger, 'queue_full', 'the receive queue is full'),
    };
    this.badInput = new EpisodeWarning(logger, 'dropping malformed X-Ray datagrams (counted in tracebridge_receiver_awsxray_malformed_datagrams_total)', EPISODE_GAP_MS, now);
    this.refusedWarning = new EpisodeWarning(logger, 'pipeline refused X-Ray segments; UDP cannot push back, so they are dropped (counted as refused spans)', EPISODE_GAP_MS, now);
    const hp = parseHostPort(endpoint);
    this.udp6 = hp !== undefined && hp.host.includes(':');
    this.socket = createSocket({ type: this.udp6 ? 'udp6' : 'udp4' });
    this.socket.on('message', (msg) => this.onDatagram(msg));
    // A socket error after bind (rare on UDP) must not take the process down.
    this.socket.on('error', (err) => this.logger.error({ err: err.message }, 'X-Ray UDP socket error'));
  }

  /**
   * Takes one datagram off the socket: checks its size and queues it, nothing more, so the socket
   * is read as fast as datagrams arrive. Exposed for tests that feed bytes without a socket.
   */
  onDatagram(datagram: Buffer): void {
    if (datagram.length > this.maxBytes) {
      this.drop('oversized', `datagram of ${datagram.length} bytes exceeds ${this.maxBytes}`, 1);
      return;
    }
    if (this.queue.length - this.queueHead >= this.maxQueueDatagrams || this.queueBytes + datagram.length > this.maxQueueBytes) {
      this.dropped.queue_full.add(1);
      this.queueDropped++;
      this.obs.refused.add(1);
      // Logged by the poll too; the first drop of an episode is logged at once.
      this.episodes.queue_full.check(this.queueDropped, this.logFields());
      return;
    }
    this.queue.push(datagram);
    this.queueBytes += datagram.length;
    this.scheduleDrain();
  }

  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    const wait = this.pausedUntil - Date.now();
    if (wait > 0) setTimeout(() => this.drain(), wait);
    else setImmediate(() => this.drain());
  }

  /** Translates what is queued (up to one batch) into one TracesData and hands it on. */
  private drain(): void {
    this.drainScheduled = false;
    const end = Math.min(this.queue.length, this.queueHead + this.maxBatch);
    const resourceSpans: NonNullable<ExportTraceServiceRequest['resourceSpans']> = [];
    for (let i = this.queueHead; i < end; i++) {
      const datagram = this.queue[i]!;
      this.queueBytes -= datagram.length;
      try {
        const req = this.translate(datagram);
        if (req?.resourceSpans) resourceSpans.push(...req.resourceSpans);
      } catch (err) {
        // A translation bug must cost one datagram, never the process (the app's sidecar).
        this.drop('bad_document', `internal error: ${(err as Error).message}`, 1);
      }
    }
    this.queueHead = end;
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    } else {
      // More than a batch waiting: let socket reads and other work run between batches.
      if (this.queueHead > 4096) {
        this.queue = this.queue.slice(this.queueHead);
        this.queueHead = 0;
      }
      this.scheduleDrain();
    }
    if (resourceSpans.length > 0) this.handOn(TracesData.fromObjects({ resourceSpans }));
  }

  /** One datagram to its ExportTraceServiceRequest, or undefined when it was dropped (counted). */
  private translate(datagram: Buffer): ExportTraceServiceRequest | undefined {
    const split = splitDatagram(datagram, this.maxBytes);
    if (!split.ok) {
      this.drop(split.reason, split.detail, 1);
      return undefined;
    }
    let seg: Segment;
    try {
      seg = parseSegmentDocument(split.body);
    } catch (err) {
      // The collector counts an unreadable document as one refused span.
      this.drop('bad_document', (err as Error).message, 1);
      return undefined;
    }
    try {
      return segmentToTraces(seg);
    } catch (err) {
      if (!(err instanceof SegmentError)) throw err;
      this.drop('bad_document', err.message, countSegments(seg));
      return undefined;
    }
  }

  private handOn(data: TracesData): void {
    if (this.inFlight >= this.maxInFlight) {
      this.obs.refused.add(data.spanCount);
      this.refusedWarning.warn({ reason: `more than ${this.maxInFlight} batches waiting on the pipeline` });
      return;
    }
    this.inFlight++;
    void ingestTraces(this.next, this.obs, data).then((out) => {
      if (!out.ok) this.refusedWarning.warn({ reason: out.message });
      if (--this.inFlight === 0 && this.queue.length === this.queueHead) this.idle?.();
    });
  }

  private drop(reason: MalformedReason, detail: string, spans: number): void {
    this.malformed[reason].add(1);
    this.obs.refused.add(spans);
    // Only the first of a burst is logged: a misbehaving sender must not flood the log.
    this.badInput.warn({ reason, detail });
  }

  private logFields(): Record<string, unknown> {
    return { endpoint: this.endpoint };
  }

  /** Reads the kernel's drop counter for this socket and updates the metric and the warnings. */
  private async poll(): Promise<void> {
    this.episodes.queue_full.check(this.queueDropped, this.logFields());
    if (this.procLocal === undefined) return;
    let drops: number | undefined;
    try {
      drops = socketDrops(await readTextFile(this.udp6 ? '/proc/net/udp6' : '/proc/net/udp'), this.procLocal);
    } catch {
      drops = undefined; // no /proc (not Linux): the kernel's drops are not visible here
    }
    if (drops === undefined || !this.listening) return;
    // The socket is this receiver's own (created at construction), so its counter starts at 0.
    const counted = this.dropped.receive_buffer.value;
    if (drops > counted) this.dropped.receive_buffer.add(drops - counted);
    this.episodes.receive_buffer.check(drops, { ...this.logFields(), recv_buffer_bytes: this.socket.getRecvBufferSize() });
  }

  async start(): Promise<void> {
    const hp = parseHostPort(this.endpoint);
    if (hp === undefined) throw new Error(`invalid endpoint ${this.endpoint}`);
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        // The port is taken (an X-Ray daemon still running): release the socket, let the caller skip.
        try {
          this.socket.close();
        } catch {
          // already closed by the failed bind
        }
        reject(err);
      };
      this.socket.once('error', onError);
      this.socket.bind(hp.port, hp.host, () => {
        this.socket.off('error', onError);
        resolve();
      });
    });
    this.listening = true;
    try {
      this.socket.setRecvBufferSize(this.recvBufferBytes);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, asked: this.recvBufferBytes }, 'X-Ray UDP receiver could not enlarge its receive buffer');
    }
    const addr = this.socket.address();
    this.procLocal = procAddress(addr.address, addr.port);
    this.pollTimer = setInterval(() => void this.poll(), this.dropPollMs);
    this.pollTimer.unref();
    this.logger.info(
      { endpoint: this.endpoint, port: this.port, recv_buffer_bytes: this.socket.getRecvBufferSize(), recv_buffer_asked: this.recvBufferBytes },
      'X-Ray UDP receiver listening for segments (recv_buffer_bytes: granted by the kernel, capped by net.core.rmem_max)',
    );
  }

  get port(): number {
    return this.listening ? this.socket.address().port : 0;
  }

  /** Test hook: shrink the kernel receive buffer to provoke drops. */
  setReceiveBufferForTest(bytes: number): void {
    this.socket.setRecvBufferSize(bytes);
  }

  /** Test hook: smaller queue bounds. */
  setQueueLimitsForTest(limits: { datagrams: number; bytes: number }): void {
    this.maxQueueDatagrams = limits.datagrams;
    this.maxQueueBytes = limits.bytes;
  }

  /** Test hook: no draining for `ms` (a stalled event loop), so the queue fills. */
  pauseDrainForTest(ms: number): void {
    this.pausedUntil = Date.now() + ms;
  }

  /** Stops reading, translates what is queued, then waits (at most `graceMs`) for the pipeline. */
  async shutdown(graceMs = 5000): Promise<void> {
    if (this.listening) {
      this.listening = false;
      clearInterval(this.pollTimer);
      await new Promise<void>((resolve) => this.socket.close(() => resolve()));
    }
    this.pausedUntil = 0;
    while (this.queue.length > this.queueHead) this.drain();
    if (this.inFlight === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, graceMs);
      timer.unref();
      this.idle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
