// What the awsxray exporter queues: a batch as received, translated into segment documents on its
// first send attempt (not on arrival: a batch the full queue refuses costs no translation, and
// the CPU is spent by the senders), then kept, so retries resend the same documents.
import type { TracesData } from '../../pdata/traces.ts';
import type { ExportRequest, ExportSender } from '../internal/request.ts';
import type { TelemetryRecorder } from './telemetry.ts';

export interface SegmentRequest extends ExportRequest {
  readonly signal: 'traces';
  /** The batch, until the first attempt translates it (one document per span: `items` holds). */
  data?: TracesData;
  /** JSON documents still to send. */
  docs: readonly string[];
  /** Segment `id` of each document (UnprocessedTraceSegments names documents by it). */
  ids: readonly string[];
  /**
   * Spans of this batch already refused for good (documents too large, segments X-Ray rejected):
   * part of `items`, so that they are counted as failed, not sent, when the request ends.
   */
  rejected: number;
}

/** A batch to translate on its first attempt. */
export function batchRequest(data: TracesData): SegmentRequest {
  return { signal: 'traces', items: data.spanCount, bytes: data.byteLength, data, docs: [], ids: [], rejected: 0 };
}

/** Translated documents (what is left of a batch after a partial delivery). */
export function segmentRequest(docs: readonly string[], ids: readonly string[], rejected: number): SegmentRequest {
  let bytes = 0;
  for (const d of docs) bytes += d.length;
  return { signal: 'traces', items: docs.length + rejected, bytes, docs, ids, rejected };
}

/** A transport: PutTraceSegments (api) or daemon datagrams (udp). Requests reach it translated. */
export interface SegmentTransport extends ExportSender<SegmentRequest> {
  start(): Promise<void>;
  close(): Promise<void>;
  /** For the start-up log line. */
  describe(): Record<string, unknown>;
  /** X-Ray telemetry records, when enabled (transport api). */
  readonly recorder?: TelemetryRecorder | undefined;
}
