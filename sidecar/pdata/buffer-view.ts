// A Buffer over the same memory as a Uint8Array (no copy): Node APIs such as node:http2 and
// Buffer#indexOf want Buffers; the pipeline's bytes may be plain Uint8Arrays (protobufjs output).
export function bufferView(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}
