// gRPC message encodings the receiver accepts: the collector's set (gzip, deflate — zlib format,
// as grpc-go's `deflate` — zstd, snappy) plus identity. Output is bounded by the message size
// limit, so a decompression bomb stops there instead of filling memory.
import { gunzipAsync, inflateAsync, zstdDecompressAsync } from '../../runtime/zlib.ts';
import { snappyDecompress, SnappyTooLargeError } from './snappy.ts';

/** What the server announces in `grpc-accept-encoding`. */
export const SUPPORTED_ENCODINGS = ['identity', 'gzip', 'deflate', 'zstd', 'snappy'] as const;
export const ACCEPT_ENCODING = SUPPORTED_ENCODINGS.join(',');

export function isSupportedEncoding(encoding: string): boolean {
  return (SUPPORTED_ENCODINGS as readonly string[]).includes(encoding);
}

export class DecompressError extends Error {
  override readonly name = 'DecompressError';
  readonly tooLarge: boolean;

  constructor(message: string, tooLarge: boolean) {
    super(message);
    this.tooLarge = tooLarge;
  }
}

/** Decompresses one message; `encoding` must be supported and not identity. */
export async function decompressMessage(encoding: string, message: Buffer, maxBytes: number): Promise<Buffer> {
  const opts = { maxOutputLength: maxBytes + 1 };
  let out: Buffer;
  try {
    if (encoding === 'gzip') out = await gunzipAsync(message, opts);
    else if (encoding === 'deflate') out = await inflateAsync(message, opts);
    else if (encoding === 'zstd') out = await zstdDecompressAsync(message, opts);
    else if (encoding === 'snappy') out = snappyDecompress(message, maxBytes);
    else throw new Error(`unsupported encoding ${encoding}`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof SnappyTooLargeError) {
      throw new DecompressError(`more than ${maxBytes} bytes after decompression`, true);
    }
    throw new DecompressError(`cannot decompress ${encoding} message: ${(err as Error).message}`, false);
  }
  if (out.length > maxBytes) throw new DecompressError(`${out.length} bytes after decompression`, true);
  return out;
}
