// Bytes of span data the process has let go of after holding it for a while: export requests an
// exporter's sending queue is done with (delivered, or given up after retries). Held for seconds
// or minutes, their objects were promoted to V8's old generation, so their memory (ArrayBuffers,
// outside V8's heap) comes back only with a full collection, which V8 may not run for minutes
// once the process is quiet. memory_limiter reads this to force one when a lot has been let go
// of while it refuses data. A process-wide count, as a runtime's memory statistics are.
let released = 0;

/** Counts `bytes` of data let go of. */
export function noteReleased(bytes: number): void {
  released += bytes;
}

/** Bytes let go of since the process started. */
export function releasedBytes(): number {
  return released;
}
