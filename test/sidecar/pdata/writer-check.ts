// The cross-check of the hand-written OTLP writer (sidecar/pdata/otlp-writer.ts) against protobufjs,
// the encoder it replaced, and the sidecar's own wire validator; shared by the pdata and receiver tests.
import assert from 'node:assert/strict';
import { decodeTraceRequest, encodeTraceRequest, type ExportTraceServiceRequest } from '../../../sidecar/pdata/otlp-schema.ts';
import { writeTraceRequest } from '../../../sidecar/pdata/otlp-writer.ts';
import { validateTraceRequest } from '../../../sidecar/pdata/trace-view.ts';

/**
 * The writer's bytes are exactly protobufjs's for the same objects (so they decode to the same
 * objects), pass the receiver-side validator with the span count, and decoding then re-encoding
 * them with protobufjs gives them back (canonical lengths, nothing the schema does not know).
 */
export function assertWritesLikeProtobufjs(req: ExportTraceServiceRequest): Buffer {
  const written = writeTraceRequest(req);
  const old = Buffer.from(encodeTraceRequest(req));
  assert.deepEqual(decodeTraceRequest(written), decodeTraceRequest(old), 'decodes to the objects the protobufjs path produced');
  assert.equal(written.toString('hex'), old.toString('hex'), 'same bytes as protobufjs');
  let spans = 0;
  for (const rs of req.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) spans += ss.spans?.length ?? 0;
  assert.equal(validateTraceRequest(written).spanCount, spans, 'valid on the wire, every span counted');
  assert.equal(Buffer.from(encodeTraceRequest(decodeTraceRequest(written))).toString('hex'), written.toString('hex'), 'decode → re-encode gives the same bytes');
  return written;
}

