// Clients for the dual-protocol tests: curl and nghttp run as child processes (asynchronously: the
// receiver under test runs in this process), node:http and node:http2 requests whose answers are
// read as a user would (status, headers, body), and a TCP relay that trickles a client's first
// bytes one at a time.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as http1Request } from 'node:http';
import { connect as h2connect, constants } from 'node:http2';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface HttpAnswer {
  status: number;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: Buffer;
  /** '1.1' or '2' as the client saw it. */
  version: string;
}

export function run(cmd: string, args: string[], opts: { cwd?: string; input?: Buffer } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(cmd, args, { cwd: opts.cwd, timeout: 15_000 });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin.end(opts.input);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function withTempDir<T>(f: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'tb-dual-'));
  try {
    return await f(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function parseHeaderLines(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
    if (m !== null) headers[m[1]!.toLowerCase()] = m[2]!.trim();
  }
  return headers;
}

/**
 * A POST by curl: `--http1.1`, `--http2-prior-knowledge` (h2c from the first byte) or `--http2`
 * (HTTP/1.1 with `Upgrade: h2c`).
 */
export function curlPost(port: number, path: string, body: Buffer, headers: Record<string, string>, mode: '--http1.1' | '--http2-prior-knowledge' | '--http2'): Promise<HttpAnswer> {
  return withTempDir(async (dir) => {
    await writeFile(join(dir, 'req'), body);
    const args = ['-sS', mode, '-X', 'POST', '--data-binary', '@req', '-o', 'body', '-D', 'head', '-w', '%{http_code} %{http_version}'];
    for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
    args.push(`http://127.0.0.1:${port}${path}`);
    const r = await run('curl', args, { cwd: dir });
    if (r.code !== 0) throw new Error(`curl exited ${r.code}: ${r.stderr}`);
    const [status, version] = r.stdout.trim().split(' ');
    // With an upgrade, the dump holds more than one header block: the last one is the answer's.
    const head = (await readFile(join(dir, 'head'), 'latin1')).split(/\r?\n\r?\n/).filter((b) => b.trim() !== '');
    return { status: Number(status), headers: parseHeaderLines(head.at(-1) ?? ''), body: await readFile(join(dir, 'body')), version: version! };
  });
}

/** A POST by nghttp, which speaks h2c with prior knowledge to http:// URLs. */
export function nghttpPost(port: number, path: string, body: Buffer, headers: Record<string, string>): Promise<HttpAnswer> {
  return withTempDir(async (dir) => {
    await writeFile(join(dir, 'req'), body);
    const args = ['-v', '-d', 'req'];
    for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
    args.push(`http://127.0.0.1:${port}${path}`);
    const r = await run('nghttp', args, { cwd: dir });
    // Verbose lines: "[  0.003] recv (stream_id=13) :status: 200"; the body follows on stdout.
    const received: Record<string, string> = {};
    for (const m of r.stdout.matchAll(/recv \(stream_id=\d+\) (:?[a-z0-9-]+): (.*)/g)) received[m[1]!] = m[2]!.trim();
    if (received[':status'] === undefined) throw new Error(`nghttp got no answer (exit ${r.code}): ${r.stdout}${r.stderr}`);
    return { status: Number(received[':status']), headers: received, body: Buffer.alloc(0), version: '2' };
  });
}

export function http1Post(port: number, path: string, body: Buffer, headers: Record<string, string>, method = 'POST'): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http1Request({ host: '127.0.0.1', port, path, method, headers: { ...headers, 'Content-Length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const h: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) h[k] = String(v);
        resolve({ status: res.statusCode ?? 0, headers: h, body: Buffer.concat(chunks), version: res.httpVersion });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A request on its own h2c connection (node:http2 client: prior knowledge). */
export function h2cRequest(port: number, path: string, body: Buffer, headers: Record<string, string>, method = 'POST'): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const session = h2connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const stream = session.request({ [constants.HTTP2_HEADER_METHOD]: method, [constants.HTTP2_HEADER_PATH]: path, ...headers });
    const chunks: Buffer[] = [];
    let head: Record<string, string> = {};
    stream.on('response', (h) => {
      for (const [k, v] of Object.entries(h)) head[k] = String(v);
    });
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', reject);
    stream.on('close', () => {
      session.close();
      if (head[':status'] === undefined) {
        reject(new Error(`stream closed without an answer (RST_STREAM ${stream.rstCode})`));
        return;
      }
      resolve({ status: Number(head[':status']), headers: head, body: Buffer.concat(chunks), version: '2' });
      head = {};
    });
    // node:http2 ends a GET's side of the stream by itself.
    if (!stream.writableEnded) stream.end(body);
  });
}

/**
 * A TCP relay to 127.0.0.1:`target` that passes each client's first `trickle` bytes on one at a
 * time, `gapMs` apart, and everything after that as it comes.
 */
export class TrickleProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(target: number, trickle: number, gapMs: number) {
    this.server = createServer((client) => {
      client.setNoDelay(true);
      const upstream = connect(target, '127.0.0.1');
      upstream.setNoDelay(true);
      this.sockets.add(client).add(upstream);
      for (const s of [client, upstream]) {
        s.on('error', () => undefined);
        s.on('close', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      upstream.on('data', (c: Buffer) => client.write(c));
      let queue: Buffer = Buffer.alloc(0);
      let sent = 0;
      let timer: NodeJS.Timeout | undefined;
      const pump = () => {
        timer = undefined;
        if (queue.length === 0) return;
        if (sent < trickle) {
          upstream.write(queue.subarray(0, 1));
          queue = queue.subarray(1);
          sent++;
          timer = setTimeout(pump, gapMs);
          return;
        }
        upstream.write(queue);
        queue = Buffer.alloc(0);
      };
      client.on('data', (c: Buffer) => {
        queue = Buffer.concat([queue, c]);
        if (timer === undefined) pump();
      });
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return (this.server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
}
