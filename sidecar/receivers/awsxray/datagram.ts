// The X-Ray daemon protocol: one segment document per UDP datagram,
// `{"format":"json","version":1}` + `\n` + the document (aws-xray-daemon, and the collector's
// awsxrayreceiver internal/tracesegment SplitHeaderBody). Pure: bytes in, body or a reason out.

/** The daemon's and the collector's read buffer (pollerBufferSizeKB = 64 * 1024). */
export const MAX_DATAGRAM_BYTES = 64 * 1024;

/** Why a datagram was dropped before its document was read; also the metric's `reason` label. */
export type DatagramProblem = 'oversized' | 'no_header' | 'bad_header' | 'no_body';

export type SplitResult = { ok: true; body: Buffer } | { ok: false; reason: DatagramProblem; detail: string };

const NEWLINE = 0x0a;
// A valid header is 30 bytes; anything much longer before the first newline is not a header.
const MAX_HEADER_BYTES = 256;

export function splitDatagram(datagram: Buffer, maxBytes = MAX_DATAGRAM_BYTES): SplitResult {
  if (datagram.length > maxBytes) {
    return { ok: false, reason: 'oversized', detail: `datagram of ${datagram.length} bytes exceeds ${maxBytes}` };
  }
  const nl = datagram.indexOf(NEWLINE);
  if (nl < 0 || nl > MAX_HEADER_BYTES) {
    return { ok: false, reason: 'no_header', detail: 'no `{"format":"json","version":1}` header line' };
  }
  let header: unknown;
  try {
    header = JSON.parse(datagram.toString('utf8', 0, nl));
  } catch {
    return { ok: false, reason: 'bad_header', detail: 'header line is not JSON' };
  }
  const h = header as { format?: unknown; version?: unknown } | null;
  if (h === null || typeof h !== 'object' || h.format !== 'json' || h.version !== 1) {
    return { ok: false, reason: 'bad_header', detail: 'header is not {"format":"json","version":1}' };
  }
  const body = datagram.subarray(nl + 1);
  if (body.length === 0) return { ok: false, reason: 'no_body', detail: 'header without a segment document' };
  return { ok: true, body };
}
