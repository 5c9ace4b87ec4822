// Reads an HTTP request body with limits on both the wire size and the decompressed size, so a
// gzip bomb is cut off after `limit` bytes of output and answered 413 at once with bounded memory.
import type { IncomingHttpHeaders } from 'node:http';
import { decompressStream } from '../runtime/zlib.ts';
import type { Readable, Transform } from 'node:stream';

/**
 * A request to read: node:http's IncomingMessage, or node:http2's compatibility request (h2c),
 * which has the same headers, stream and `aborted` event.
 */
export type HttpRequestBody = Readable & { readonly headers: IncomingHttpHeaders };

export class HttpError extends Error {
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.headers = headers;
  }
}


export const SUPPORTED_ENCODINGS = 'gzip, deflate, zstd, identity';

/** Resolves with the (decompressed) body, or rejects with an HttpError (400, 413, 415). */
export function readBody(req: HttpRequestBody, limit: number): Promise<Buffer> {
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(new HttpError(413, `request body of ${declared} bytes exceeds the limit of ${limit} bytes`));
  }
  let source: NodeJS.ReadableStream = req;
  let inflater: Transform | undefined;
  if (encoding !== 'identity' && encoding !== '') {
    inflater = decompressStream(encoding);
    if (inflater === undefined) {
      return Promise.reject(new HttpError(415, `unsupported Content-Encoding "${encoding}" (supported: ${SUPPORTED_ENCODINGS})`));
    }
    source = req.pipe(inflater);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let wire = 0;
    let size = 0;
    let done = false;
    const fail = (err: HttpError) => {
      if (done) return;
      done = true;
      if (inflater !== undefined) {
        req.unpipe(inflater);
        inflater.destroy();
      }
      // Stop reading: the response closes the connection instead of draining a huge body.
      req.pause();
      reject(err);
    };
    if (inflater !== undefined) {
      req.on('data', (c: Buffer) => {
        wire += c.length;
        if (wire > limit) fail(new HttpError(413, `request body exceeds the limit of ${limit} bytes`));
      });
      inflater.on('error', (e: Error) => fail(new HttpError(400, `cannot decompress ${encoding} body: ${e.message}`)));
    }
    source.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > limit) {
        fail(new HttpError(413, `${inflater ? 'decompressed ' : ''}request body exceeds the limit of ${limit} bytes`));
        return;
      }
      chunks.push(c);
    });
    source.on('end', () => {
      if (done) return;
      done = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    req.on('error', (e) => fail(new HttpError(400, `error reading request body: ${e.message}`)));
    req.on('aborted', () => fail(new HttpError(400, 'request aborted')));
  });
}

/** The media type of a Content-Type header, lower-cased, without parameters. */
export function mediaType(req: { readonly headers: IncomingHttpHeaders }): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}
