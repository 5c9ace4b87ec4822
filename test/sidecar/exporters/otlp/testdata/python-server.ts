// Runs gRPC C-core (python3 grpcio, grpc_server.py) as a backend for the exporter's client.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PYTHON = '/usr/bin/python3';
const SERVER = fileURLToPath(new URL('./grpc_server.py', import.meta.url));
/** Bounds on the process: to print its port (importing grpcio takes ~0.5 s here), to exit after SIGTERM (2 s of grace). */
const START_MS = 15_000;
const STOP_MS = 10_000;

export interface PythonCall {
  path: string;
  bytes: Buffer;
  metadata: Record<string, string>;
}

export class PythonGrpcServer {
  port = 0;
  readonly calls: PythonCall[] = [];
  /** Set when stop() had to SIGKILL a process that had not exited STOP_MS after SIGTERM. */
  killed = false;
  private child: ChildProcessWithoutNullStreams | undefined;
  private stderr = '';

  /**
   * The calls, once at least `n` were recorded. The server writes a call's line before it answers,
   * but this process reads that pipe on its own schedule: the answer can come first (the 20th of 20
   * calls' line had not been read when Promise.all of the calls resolved, once in CI).
   */
  async callsAtLeast(n: number, ms = 5000): Promise<PythonCall[]> {
    const end = Date.now() + ms;
    while (this.calls.length < n) {
      if (Date.now() > end) throw new Error(`${this.calls.length} calls recorded within ${ms} ms, expected at least ${n}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.calls;
  }

  /** `port` 0 for any; `maxStreams` 0 for grpcio's default; TLS when cert and key files are given. */
  async start(opts: { port?: number; maxStreams?: number; compression?: 'gzip' | 'none'; certFile?: string; keyFile?: string } = {}): Promise<this> {
    const args = [SERVER, String(opts.port ?? 0), String(opts.maxStreams ?? 0), opts.compression ?? 'none'];
    if (opts.certFile !== undefined && opts.keyFile !== undefined) args.push(opts.certFile, opts.keyFile);
    const child = spawn(PYTHON, args);
    this.child = child;
    child.stderr.on('data', (c: Buffer) => (this.stderr += c.toString()));
    let buffered = '';
    this.port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`python server did not listen within ${START_MS} ms: ${this.stderr}`));
      }, START_MS);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`python server exited ${code}: ${this.stderr}`));
      });
      child.stdout.on('data', (c: Buffer) => {
        buffered += c.toString();
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = JSON.parse(buffered.slice(0, nl)) as { port?: number; path?: string; bytes?: string; metadata?: Record<string, string> };
          buffered = buffered.slice(nl + 1);
          if (line.port === undefined) {
            this.calls.push({ path: line.path!, bytes: Buffer.from(line.bytes!, 'base64'), metadata: line.metadata! });
            continue;
          }
          clearTimeout(timer);
          resolve(line.port);
        }
      });
    });
    return this;
  }

  /**
   * SIGTERM: grpcio's graceful stop (GOAWAY, 2 s for calls in flight); resolves once it exited.
   * A process still there STOP_MS later is killed, and `killed` says so: a test waiting on it then
   * goes on, or fails on what it checks, instead of on mocha's timeout with no clue where it hung.
   */
  stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    // Exited already, by itself (exitCode) or by a signal (signalCode): its 'exit' has been emitted.
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.killed = true;
        child.kill('SIGKILL');
      }, STOP_MS);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
