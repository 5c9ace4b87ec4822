// The unit that flows through trace pipelines: an encoded OTLP ExportTraceServiceRequest, its span
// count, and its indexed view (trace-view.ts). Bytes are the canonical form because the
// OTLP -> OTLP hot path must be lossless (fields we do not know pass byte for byte) and cheap (no
// decode, no re-encode). Receivers of other formats encode once; consumers that need objects
// decode once (cached).
import { decodeTraceRequest, type ExportTraceServiceRequest } from './otlp-schema.ts';
import { writeTraceRequest } from './otlp-writer.ts';
import { indexTraceRequest, validateTraceRequest, type TraceView } from './trace-view.ts';

export class TracesData {
  /** Encoded ExportTraceServiceRequest. Treat as read-only unless you own this instance. */
  readonly bytes: Uint8Array;
  readonly spanCount: number;
  private index: TraceView | undefined;
  private decoded: ExportTraceServiceRequest | undefined;

  private constructor(bytes: Uint8Array, spanCount: number, index?: TraceView, decoded?: ExportTraceServiceRequest) {
    this.bytes = bytes;
    this.spanCount = spanCount;
    this.index = index;
    this.decoded = decoded;
  }

  /**
   * Wraps received protobuf bytes after validating them to the leaves. Throws WireFormatError (a
   * PermanentError) naming the path of what is malformed.
   */
  static fromProto(bytes: Uint8Array): TracesData {
    const view = validateTraceRequest(bytes);
    return new TracesData(bytes, view.spanCount, view);
  }

  /**
   * Wraps bytes this process built from validated data (a processor's output) whose span count is
   * known. The view is computed when first asked for, unless the caller has it.
   */
  static trusted(bytes: Uint8Array, spanCount: number, view?: TraceView): TracesData {
    return new TracesData(bytes, spanCount, view);
  }

  /**
   * Encodes objects built by a receiver of another format (otlp-writer.ts). The objects are not
   * kept: a batch waiting in a queue or for a retry holds only its bytes, and a consumer that
   * needs objects decodes them (toObjects), getting what the bytes say.
   */
  static fromObjects(req: ExportTraceServiceRequest): TracesData {
    let spans = 0;
    for (const rs of req.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) spans += ss.spans?.length ?? 0;
    return new TracesData(writeTraceRequest(req), spans);
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

  /** Where each resource, scope and span sits in `bytes` (computed once, on first use). */
  get view(): TraceView {
    this.index ??= indexTraceRequest(this.bytes);
    return this.index;
  }

  /**
   * Plain objects, decoded once and cached. Fields the schema does not know are not in them.
   * Throws when the bytes do not decode (never for validated data; callers still catch, because
   * a throw must not escape from a timer).
   */
  toObjects(): ExportTraceServiceRequest {
    this.decoded ??= decodeTraceRequest(this.bytes);
    return this.decoded;
  }

  /** An independent copy, for consumers that mutate (fan-out gives them one each). */
  clone(): TracesData {
    // In-place edits keep every offset, so the view is shared.
    return new TracesData(Buffer.from(this.bytes), this.spanCount, this.index);
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
