// Snappy decompression for gRPC's `snappy` message encoding, decode side only.
//
// gRPC's snappy compressor (github.com/mostynb/go-grpc-compression, which the collector
// registers) writes the snappy *framing* format (github.com/google/snappy framing_format.txt):
// a stream identifier chunk, then chunks of at most 64 KiB of data, each compressed (a snappy
// block) or stored, with a masked CRC-32C of its data. A bare snappy block (format_description.txt)
// is accepted too, as other snappy codecs send it. Why not an npm package: the maintained one
// (`snappy`, native) decodes blocks only, so the framing and checksum code would be here anyway,
// and the block format is the ~40 lines below. The output is bounded: a message whose data would
// exceed `maxOutput` stops with SnappyTooLargeError before it is allocated.

export class SnappyError extends Error {
  override readonly name = 'SnappyError';
}

export class SnappyTooLargeError extends Error {
  override readonly name = 'SnappyTooLargeError';
}

const STREAM_IDENTIFIER = Buffer.from([0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59]);
const MAX_CHUNK_DATA = 65536;

export function isSnappyFramed(input: Buffer): boolean {
  return input.length >= STREAM_IDENTIFIER.length && input.subarray(0, STREAM_IDENTIFIER.length).equals(STREAM_IDENTIFIER);
}

/** Decodes either format (told apart by the framing format's stream identifier). */
export function snappyDecompress(input: Buffer, maxOutput: number): Buffer {
  return isSnappyFramed(input) ? decodeFramed(input, maxOutput) : decodeBlock(input, maxOutput);
}

function decodeFramed(input: Buffer, maxOutput: number): Buffer {
  const parts: Buffer[] = [];
  let total = 0;
  let pos = 0;
  while (pos < input.length) {
    if (input.length - pos < 4) throw new SnappyError('truncated chunk header');
    const type = input[pos]!;
    const length = input.readUIntLE(pos + 1, 3);
    const start = pos + 4;
    const end = start + length;
    if (end > input.length) throw new SnappyError(`chunk of ${length} bytes at offset ${pos} is truncated`);
    pos = end;
    if (type === 0xff) {
      if (!input.subarray(start - 4, end).equals(STREAM_IDENTIFIER)) throw new SnappyError('bad stream identifier');
      continue;
    }
    if (type === 0x00 || type === 0x01) {
      if (length < 4) throw new SnappyError('data chunk shorter than its checksum');
      const payload = input.subarray(start + 4, end);
      const data = type === 0x00 ? decodeBlock(payload, Math.min(MAX_CHUNK_DATA, maxOutput - total)) : payload;
      if (data.length > MAX_CHUNK_DATA) throw new SnappyError(`chunk of ${data.length} bytes exceeds 65536`);
      total += data.length;
      if (total > maxOutput) throw new SnappyTooLargeError(`more than ${maxOutput} bytes`);
      if (maskedCrc32c(data) !== input.readUInt32LE(start)) throw new SnappyError(`checksum mismatch in chunk at offset ${start - 4}`);
      parts.push(data);
      continue;
    }
    // 0x02-0x7f are reserved unskippable chunks; 0x80-0xfe (padding, reserved) are skipped.
    if (type < 0x80) throw new SnappyError(`reserved unskippable chunk type 0x${type.toString(16)}`);
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
}

/** One snappy block: a varint of the decoded length, then literals and back-references. */
export function decodeBlock(input: Buffer, maxOutput: number): Buffer {
  let pos = 0;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    if (pos >= input.length || shift > 28) throw new SnappyError('bad length preamble');
    const b = input[pos++]!;
    length += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
  }
  if (length > maxOutput) throw new SnappyTooLargeError(`${length} bytes, more than ${maxOutput}`);
  const out = Buffer.allocUnsafe(length);
  let o = 0;
  while (pos < input.length) {
    const tag = input[pos++]!;
    let n: number;
    let offset: number;
    switch (tag & 3) {
      case 0: {
        n = tag >>> 2;
        if (n >= 60) {
          const bytes = n - 59;
          if (pos + bytes > input.length) throw new SnappyError('truncated literal length');
          n = input.readUIntLE(pos, bytes);
          pos += bytes;
        }
        n += 1;
        if (pos + n > input.length || o + n > length) throw new SnappyError('literal runs past the end');
        input.copy(out, o, pos, pos + n);
        pos += n;
        o += n;
        continue;
      }
      case 1:
        if (pos + 1 > input.length) throw new SnappyError('truncated copy');
        n = 4 + ((tag >>> 2) & 7);
        offset = ((tag >>> 5) << 8) | input[pos++]!;
        break;
      case 2:
        if (pos + 2 > input.length) throw new SnappyError('truncated copy');
        n = 1 + (tag >>> 2);
        offset = input.readUInt16LE(pos);
        pos += 2;
        break;
      default:
        if (pos + 4 > input.length) throw new SnappyError('truncated copy');
        n = 1 + (tag >>> 2);
        offset = input.readUInt32LE(pos);
        pos += 4;
    }
    if (offset === 0 || offset > o || o + n > length) throw new SnappyError('copy out of range');
    if (offset >= n) {
      out.copy(out, o, o - offset, o - offset + n);
      o += n;
    } else {
      // Overlapping copy (a run): byte by byte, as the format intends.
      for (const stop = o + n; o < stop; o++) out[o] = out[o - offset]!;
    }
  }
  if (o !== length) throw new SnappyError(`decoded ${o} bytes, the preamble says ${length}`);
  return out;
}

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32C (Castagnoli) of `data`, masked as the framing format stores it. */
export function maskedCrc32c(data: Buffer): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = CRC32C_TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  crc = (crc ^ 0xffffffff) >>> 0;
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
}
