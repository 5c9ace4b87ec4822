// Synchronous log writes to a file descriptor (stderr) that never throw and never block the pod.
//
// Rules:
// - A line is written with one fs.writeSync, as it is logged; the kernel may take part of it.
// - stderr is usually a pipe to the container runtime that Node or the runtime made non-blocking:
//   when it is full, writeSync fails with EAGAIN. The unwritten bytes then wait in a pending
//   queue of at most MAX_PENDING_BYTES, and every later line queues behind them (order kept). An
//   unref'd timer retries every RETRY_MS. A line that does not fit in the queue is dropped whole
//   and counted; once the queue has drained, one line reports how many were dropped.
// - Any other write error (EPIPE: the reader is gone; EBADF) stops writing for good: nothing
//   throws out of a log call.
// - flush() (at exit) retries for at most FLUSH_MS, sleeping with Atomics.wait between attempts.
//
// node:fs through process.getBuiltinModule, not an ES import: the ES wrapper of node:fs reads
// every export, and its `promises` getter loads fs/promises and node:stream (34 built-in modules).
const { writeSync } = process.getBuiltinModule('node:fs');

const MAX_PENDING_BYTES = 1024 * 1024;
const RETRY_MS = 20;
const FLUSH_MS = 1000;
/** Pending lines are written in chunks of about this many characters: one syscall, not one a line. */
const CHUNK_CHARS = 64 * 1024;

let sleepCell: Int32Array | undefined;
function sleep(ms: number): void {
  sleepCell ??= new Int32Array(new SharedArrayBuffer(4));
  Atomics.wait(sleepCell, 0, 0, ms);
}

export class FdDestination {
  private readonly fd: number;
  private readonly dropReport: (dropped: number) => string;
  /** Bytes not yet written, oldest first; only the first may be a Buffer (a line's unwritten tail). */
  private readonly pending: (string | Buffer)[] = [];
  private pendingBytes = 0;
  private dropped = 0;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private exitHook: (() => void) | undefined;

  /** `dropReport(n)`: the line written when the pipe drains after n lines were dropped. */
  constructor(fd: number, dropReport: (dropped: number) => string) {
    this.fd = fd;
    this.dropReport = dropReport;
  }

  write(line: string): void {
    if (this.closed) return;
    if (this.pending.length > 0) {
      if (this.pendingBytes + Buffer.byteLength(line) > MAX_PENDING_BYTES) this.dropped++;
      else this.enqueue(line);
      return;
    }
    const written = this.writeSome(line);
    if (written === undefined) return;
    const bytes = Buffer.byteLength(line);
    if (written === bytes) return;
    if (written === 0) {
      // Nothing of it went out: it may still be dropped whole.
      if (bytes > MAX_PENDING_BYTES) this.dropped++;
      else this.enqueue(line);
    } else {
      // Its head is in the pipe: the tail must follow, or the next line would be corrupted.
      this.enqueue(Buffer.from(line).subarray(written));
    }
    if (this.pending.length > 0 || this.dropped > 0) this.schedule();
  }

  /** Writes what is pending, waiting at most FLUSH_MS for a full pipe to drain. */
  flush(): void {
    const deadline = Date.now() + FLUSH_MS;
    while (!this.drain() && Date.now() < deadline) sleep(RETRY_MS / 2);
  }

  private enqueue(data: string | Buffer): void {
    this.pending.push(data);
    this.pendingBytes += Buffer.byteLength(data);
    // Lines still pending when the process exits get the same bounded attempt as flush().
    if (this.exitHook === undefined) {
      this.exitHook = () => this.flush();
      process.once('exit', this.exitHook);
    }
  }

  /** Bytes written (0 on EAGAIN), or undefined once the destination is closed. */
  private writeSome(data: string | Buffer): number | undefined {
    try {
      return typeof data === 'string' ? writeSync(this.fd, data) : writeSync(this.fd, data);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return 0;
      this.close();
      return undefined;
    }
  }

  private close(): void {
    this.closed = true;
    this.pending.length = 0;
    this.pendingBytes = 0;
    this.dropped = 0;
    this.unhook();
  }

  /** Writes pending bytes, then the drop report; true when nothing is left to write. */
  private drain(): boolean {
    while (!this.closed && this.pending.length > 0) {
      let chunk = this.pending[0]!;
      let count = 1;
      if (typeof chunk === 'string') {
        while (count < this.pending.length && chunk.length < CHUNK_CHARS) chunk += this.pending[count++] as string;
      }
      const written = this.writeSome(chunk);
      if (written === undefined) return true;
      if (written === 0) {
        this.schedule();
        return false;
      }
      const bytes = Buffer.byteLength(chunk);
      this.pending.splice(0, count);
      this.pendingBytes -= bytes;
      if (written < bytes) {
        const rest = (typeof chunk === 'string' ? Buffer.from(chunk) : chunk).subarray(written);
        this.pending.unshift(rest);
        this.pendingBytes += rest.length;
        this.schedule();
        return false;
      }
    }
    if (this.closed) return true;
    if (this.dropped > 0) {
      const n = this.dropped;
      this.dropped = 0;
      this.write(this.dropReport(n));
      if (this.pending.length > 0) return false;
    }
    this.unhook();
    return true;
  }

  private schedule(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain();
    }, RETRY_MS);
    this.timer.unref();
  }

  private unhook(): void {
    if (this.exitHook !== undefined) process.removeListener('exit', this.exitHook);
    this.exitHook = undefined;
  }
}
