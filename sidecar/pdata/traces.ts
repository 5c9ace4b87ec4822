// The unit that flows through trace pipelines: an encoded OTLP ExportTraceServiceRequest plus
// its span count. Bytes are the canonical form because the OTLP -> OTLP hot path must be
// lossless (fields we do not know pass byte for byte) and cheap (no decode, no re-encode).
// Receivers of other formats encode once; consumers that need objects decode once (cached).
import {
  decodeTraceRequest,
  encodeTraceRequest,
  type ExportTraceServiceRequest,
} from './otlp-schema.ts';
import { walkTraceRequest } from './wire.ts';

export class TracesData {
  /** Encoded ExportTraceServiceRequest. Treat as read-only unless you own this instance. */
  readonly bytes: Uint8Array;
  readonly spanCount: number;
  private decoded: ExportTraceServiceRequest | undefined;

  private constructor(bytes: Uint8Array, spanCount: number, decoded?: ExportTraceServiceRequest) {
    this.bytes = bytes;
    this.spanCount = spanCount;
    this.decoded = decoded;
  }

  /** Wraps received protobuf bytes after validating their framing. Throws WireFormatError. */
  static fromProto(bytes: Uint8Array): TracesData {
    return new TracesData(bytes, walkTraceRequest(bytes));
  }

  /** Wraps bytes whose span count is already known (the caller walked them). */
  static trusted(bytes: Uint8Array, spanCount: number): TracesData {
    return new TracesData(bytes, spanCount);
  }

  /** Encodes objects built by a receiver of another format. */
  static fromObjects(req: ExportTraceServiceRequest): TracesData {
    const bytes = encodeTraceRequest(req);
    return new TracesData(bytes, walkTraceRequest(bytes), req);
  }

  /**
   * Concatenation of encoded requests is a valid request holding all their resource spans
   * (repeated fields concatenate on the wire), which is how the batch processor batches.
   */
  static concat(parts: readonly TracesData[]): TracesData {
    if (parts.length === 1) return parts[0]!;
    let total = 0;
    let spans = 0;
    for (const p of parts) {
      total += p.bytes.length;
      spans += p.spanCount;
    }
    const out = Buffer.allocUnsafe(total);
    let pos = 0;
    for (const p of parts) {
      out.set(p.bytes, pos);
      pos += p.bytes.length;
    }
    return new TracesData(out, spans);
  }

  /** Plain objects, decoded once and cached. Fields the schema does not know are not in them. */
  toObjects(): ExportTraceServiceRequest {
    this.decoded ??= decodeTraceRequest(this.bytes);
    return this.decoded;
  }

  /** An independent copy, for consumers that mutate (fan-out gives them one each). */
  clone(): TracesData {
    return new TracesData(Buffer.from(this.bytes), this.spanCount);
  }

  get byteLength(): number {
    return this.bytes.length;
  }
}

/** Opaque OTLP metrics or logs request bytes, passed through to OTLP exporters unread. */
export interface OpaqueData {
  readonly signal: 'metrics' | 'logs';
  readonly bytes: Uint8Array;
}
