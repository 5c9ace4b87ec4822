// The UDP side: one datagram = one segment document = one TracesData for the pipeline. UDP has
// no back-pressure, so nothing here waits: a datagram that cannot be read is dropped and counted
// (never fatal), a refusal by the pipeline is counted as refused spans, and the number of
// documents waiting on the pipeline is bounded (beyond it they are refused too).
import { createSocket, type Socket } from 'node:dgram';
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

export type MalformedReason = 'oversized' | 'no_header' | 'bad_header' | 'no_body' | 'bad_document';

/** Documents handed to the pipeline and not yet answered; more are refused, not queued. */
export const MAX_IN_FLIGHT = 256;
/** A new episode of bad input (and a new warning) starts after this long without any. */
export const EPISODE_GAP_MS = 60_000;

export interface UdpOptions {
  maxDatagramBytes?: number;
  maxInFlight?: number;
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

export class XRayUdpServer {
  private readonly socket: Socket;
  private readonly endpoint: string;
  private readonly next: TracesConsumer;
  private readonly logger: Logger;
  private readonly obs: ReceiverObs;
  private readonly malformed: Record<MalformedReason, BoundCounter>;
  private readonly badInput: EpisodeWarning;
  private readonly refusedWarning: EpisodeWarning;
  private readonly maxBytes: number;
  private readonly maxInFlight: number;
  private inFlight = 0;
  private idle: (() => void) | undefined;
  private listening = false;

  constructor(id: string, endpoint: string, next: TracesConsumer, logger: Logger, metrics: MetricsRegistry, opts: UdpOptions = {}) {
    this.endpoint = endpoint;
    this.next = next;
    this.logger = logger;
    this.maxBytes = opts.maxDatagramBytes ?? MAX_DATAGRAM_BYTES;
    this.maxInFlight = opts.maxInFlight ?? MAX_IN_FLIGHT;
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
    this.badInput = new EpisodeWarning(logger, 'dropping malformed X-Ray datagrams (counted in tracebridge_receiver_awsxray_malformed_datagrams_total)', EPISODE_GAP_MS, now);
    this.refusedWarning = new EpisodeWarning(logger, 'pipeline refused X-Ray segments; UDP cannot push back, so they are dropped (counted as refused spans)', EPISODE_GAP_MS, now);
    const hp = parseHostPort(endpoint);
    this.socket = createSocket({ type: hp !== undefined && hp.host.includes(':') ? 'udp6' : 'udp4' });
    this.socket.on('message', (msg) => {
      try {
        this.onDatagram(msg);
      } catch (err) {
        // A translation bug must cost one datagram, never the process (the app's sidecar).
        this.drop('bad_document', `internal error: ${(err as Error).message}`, 1);
      }
    });
    // A socket error after bind (rare on UDP) must not take the process down.
    this.socket.on('error', (err) => this.logger.error({ err: err.message }, 'X-Ray UDP socket error'));
  }

  /** Handles one datagram; exposed for tests that feed bytes without a socket. */
  onDatagram(datagram: Buffer): void {
    const split = splitDatagram(datagram, this.maxBytes);
    if (!split.ok) {
      this.drop(split.reason, split.detail, 1);
      return;
    }
    let seg: Segment;
    let req: ExportTraceServiceRequest;
    try {
      seg = parseSegmentDocument(split.body);
    } catch (err) {
      // The collector counts an unreadable document as one refused span.
      this.drop('bad_document', (err as Error).message, 1);
      return;
    }
    try {
      req = segmentToTraces(seg);
    } catch (err) {
      if (!(err instanceof SegmentError)) throw err;
      this.drop('bad_document', err.message, countSegments(seg));
      return;
    }
    const data = TracesData.fromObjects(req);
    if (this.inFlight >= this.maxInFlight) {
      this.obs.refused.add(data.spanCount);
      this.refusedWarning.warn({ reason: `more than ${this.maxInFlight} documents waiting on the pipeline` });
      return;
    }
    this.inFlight++;
    void ingestTraces(this.next, this.obs, data).then((out) => {
      if (!out.ok) this.refusedWarning.warn({ reason: out.message });
      if (--this.inFlight === 0) this.idle?.();
    });
  }

  private drop(reason: MalformedReason, detail: string, spans: number): void {
    this.malformed[reason].add(1);
    this.obs.refused.add(spans);
    // Only the first of a burst is logged: a misbehaving sender must not flood the log.
    this.badInput.warn({ reason, detail });
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
    this.logger.info({ endpoint: this.endpoint, port: this.port }, 'X-Ray UDP receiver listening for segments');
  }

  get port(): number {
    return this.listening ? this.socket.address().port : 0;
  }

  /** Stops reading, then waits (at most `graceMs`) for documents already handed to the pipeline. */
  async shutdown(graceMs = 5000): Promise<void> {
    if (this.listening) {
      this.listening = false;
      await new Promise<void>((resolve) => this.socket.close(() => resolve()));
    }
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
