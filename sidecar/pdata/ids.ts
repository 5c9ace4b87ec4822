// TEMPORARY until sidecar/tracecontext lands: hex and X-Ray renderings of IDs.
export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}
export function formatXRayTraceId(b: Uint8Array): string {
  const h = toHex(b);
  return `1-${h.slice(0, 8)}-${h.slice(8)}`;
}
