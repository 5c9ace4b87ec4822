// Runs gRPC C-core (python3 grpcio, testdata/grpc_client.py) as a child process, asynchronously
// (the server under test may run in this process).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Debian's python3 with python3-grpcio and python3-snappy (.ci/run installs them). */
export const PYTHON = '/usr/bin/python3';
const CLIENT = fileURLToPath(new URL('./grpc_client.py', import.meta.url));

export interface CallResult {
  code: string;
  details: string;
  /** grpc-status-details-bin (base64) from the trailing metadata, when the server sent it. */
  statusDetails?: string;
}

/** `count` concurrent unary calls of `request` on one channel; one result per call. */
export function pythonCalls(port: number, path: string, request: Buffer, opts: { compression?: string; timeoutS?: number; count?: number } = {}): Promise<CallResult[]> {
  const child = spawn(PYTHON, [CLIENT, String(port), path, opts.compression ?? 'none', String(opts.timeoutS ?? 5), String(opts.count ?? 1)], { timeout: 20_000 });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  child.stdin.end(request);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`python client exited ${code}: ${err}`));
        return;
      }
      resolve(
        out
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as CallResult),
      );
    });
  });
}
