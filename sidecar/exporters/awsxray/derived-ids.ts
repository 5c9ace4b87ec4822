// IDs the exporter has to invent: the segment ID of the SERVER half of an Envoy shared span and
// exception IDs. The collector draws them at random; here they are a hash of the span's own IDs,
// so converting the same span twice (a retry, two sidecars seeing one span) gives the same
// document. SHA-256 is used because these IDs are rare (errors, shared spans), not per span.
// node:crypto loads with the first such ID, not with the exporter: ~9 ms of a pod's start on a
// 2-core VM (~16 ms with the image's node flags). (Transport api loads it at the first export
// anyway, with the AWS SDK; transport udp only if such an ID is needed.)
import { bytesToHex } from '../../tracecontext/index.ts';

/** 16 hex digits (8 bytes, never all zero) from `parts` under a purpose label. */
export function derivedSegmentId(label: string, ...parts: readonly Uint8Array[]): string {
  const h = process.getBuiltinModule('node:crypto').createHash('sha256').update(label);
  for (const p of parts) h.update(p);
  const d = h.digest();
  // All-zero is not a valid span ID; with 2^-64 odds it is still worth one comparison.
  if (d.readBigUInt64BE(0) === 0n) d[7] = 1;
  return bytesToHex(d, 0, 8);
}

/** Exception IDs for one span: the n-th call gives the n-th ID. */
export function exceptionIdSource(traceId: Uint8Array, spanId: Uint8Array): () => string {
  let n = 0;
  return () => {
    const counter = Buffer.allocUnsafe(4);
    counter.writeUInt32BE(n++);
    return derivedSegmentId('tracebridge.exception', traceId, spanId, counter);
  };
}
