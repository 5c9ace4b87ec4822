// node:zlib on first use, for every part of the sidecar that compresses or decompresses: importing
// it costs an idle process ~0.3 MiB of private memory, and nothing is compressed until spans flow.
// process.getBuiltinModule loads a built-in synchronously and cannot fail.
import type { Transform } from 'node:stream';
import type * as ZlibModule from 'node:zlib';
import type { InputType, ZlibOptions, ZstdOptions } from 'node:zlib';

type Zlib = typeof ZlibModule;

let loaded: Zlib | undefined;

function zlib(): Zlib {
  return (loaded ??= process.getBuiltinModule('node:zlib'));
}

type Callback = (err: Error | null, out: Buffer) => void;

function run(fn: (z: Zlib, done: Callback) => void): Promise<Buffer> {
  return new Promise((resolve, reject) => fn(zlib(), (err, out) => (err === null ? resolve(out) : reject(err))));
}

export const gzipAsync = (data: InputType, opts: ZlibOptions = {}): Promise<Buffer> => run((z, done) => z.gzip(data, opts, done));
export const gunzipAsync = (data: InputType, opts: ZlibOptions = {}): Promise<Buffer> => run((z, done) => z.gunzip(data, opts, done));
export const deflateAsync = (data: InputType, opts: ZlibOptions = {}): Promise<Buffer> => run((z, done) => z.deflate(data, opts, done));
export const inflateAsync = (data: InputType, opts: ZlibOptions = {}): Promise<Buffer> => run((z, done) => z.inflate(data, opts, done));
export const zstdCompressAsync = (data: InputType, opts: ZstdOptions = {}): Promise<Buffer> => run((z, done) => z.zstdCompress(data, opts, done));
export const zstdDecompressAsync = (data: InputType, opts: ZstdOptions = {}): Promise<Buffer> => run((z, done) => z.zstdDecompress(data, opts, done));

/** A decompressing stream for an HTTP Content-Encoding (gzip, x-gzip, deflate, zstd), or undefined. */
export function decompressStream(encoding: string): Transform | undefined {
  switch (encoding) {
    case 'gzip':
    case 'x-gzip':
      return zlib().createGunzip();
    case 'deflate':
      return zlib().createInflate();
    case 'zstd':
      return zlib().createZstdDecompress();
    default:
      return undefined;
  }
}
