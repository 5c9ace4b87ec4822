// Byte-level pieces for the paths where Node hands the proxy a bare socket (CONNECT, Upgrade):
// a response head written by hand, and a two-way splice that keeps TCP half-close and gives up
// after a period with no bytes either way.
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

export function rawResponseHead(status: number, message: string | undefined, headers: readonly string[]): string {
  let s = `HTTP/1.1 ${status} ${message || STATUS_CODES[status] || ''}\r\n`;
  for (let i = 0; i < headers.length; i += 2) s += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${s}\r\n`;
}

/** A complete plain-text response on a bare socket, then close. */
export function endWithPlainText(socket: Duplex, status: number, text: string, extra: readonly string[] = []): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = `${status} ${STATUS_CODES[status] ?? ''}: ${text}\n`;
  const head = rawResponseHead(status, undefined, [
    'Content-Type',
    'text/plain; charset=utf-8',
    'Content-Length',
    String(Buffer.byteLength(body)),
    ...extra,
    'Connection',
    'close',
  ]);
  socket.end(head + body);
}

/**
 * Pipes a ⇄ b with backpressure. Each direction ends on its own (half-close), the pair is
 * destroyed on error, on close of either side, or after `idleMs` without a byte either way.
 * `onDone` runs once.
 */
export function splice(a: Duplex & { setTimeout?(ms: number, cb?: () => void): unknown }, b: Duplex & { setTimeout?(ms: number, cb?: () => void): unknown }, idleMs: number, onDone: () => void): void {
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    a.destroy();
    b.destroy();
    onDone();
  };
  a.pipe(b);
  b.pipe(a);
  a.setTimeout?.(idleMs, finish);
  b.setTimeout?.(idleMs, finish);
  a.once('close', finish);
  b.once('close', finish);
  a.on('error', finish);
  b.on('error', finish);
}
