// One SigV4-signed call to the X-Ray API on behalf of an SDK, directly or through an HTTP proxy
// (CONNECT for https, absolute-form for http), as the collector's proxy server does with Go's
// ReverseProxy and http.Transport. Uses node:http(s) so that tests can mock X-Ray with nock.
import type { IncomingMessage, ClientRequest, RequestOptions } from 'node:http';
import type { ConnectionOptions } from 'node:tls';
import type { Socket } from 'node:net';
import type { AwsSigner } from '../../aws/sigv4.ts';
// node:http by process.getBuiltinModule, not an ES import: importing it reads every export, and its
// WebSocket getter loads undici with node:tls and node:http2 (6.6 MiB of private memory at idle).
const http = process.getBuiltinModule('node:http');

/** Why the relay could not produce an answer from X-Ray; the proxy then answers locally. */
export class RelayError extends Error {
  readonly kind: 'credentials' | 'network';

  constructor(kind: 'credentials' | 'network', message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'RelayError';
    this.kind = kind;
  }
}

export interface RelayTarget {
  /** X-Ray base URL, e.g. https://xray.us-east-1.amazonaws.com */
  base: URL;
  proxy: URL | undefined;
  tls: { rejectUnauthorized: boolean; servername: string | undefined; ca: string | undefined };
  signer: AwsSigner;
  timeoutMs: number;
}

export interface RelayAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Largest X-Ray answer passed back; sampling answers are a few KiB. */
const MAX_ANSWER_BYTES = 1024 * 1024;
/** Response headers worth passing back to the SDK (hop-by-hop and signing details stay here). */
const PASS_BACK = ['content-type', 'x-amzn-requestid', 'x-amzn-errortype', 'retry-after'];

function proxyAuth(proxy: URL): Record<string, string> {
  if (proxy.username === '') return {};
  const creds = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { 'proxy-authorization': `Basic ${Buffer.from(creds).toString('base64')}` };
}

function defaultPort(url: URL): number {
  return url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

/** Opens a CONNECT tunnel through `proxy` to the target's host and port. */
function tunnel(proxy: URL, target: URL, deadline: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const authority = `${target.hostname}:${defaultPort(target)}`;
    const req = http.request({
      host: proxy.hostname,
      port: defaultPort(proxy),
      method: 'CONNECT',
      path: authority,
      headers: { host: authority, ...proxyAuth(proxy) },
      signal: deadline,
    });
    req.on('connect', (res: IncomingMessage, socket: Socket) => {
      if (res.statusCode === 200) resolve(socket);
      else {
        socket.destroy();
        reject(new Error(`proxy ${proxy.host} refused CONNECT ${authority}: ${res.statusCode}`));
      }
    });
    req.on('error', reject);
    req.end();
  });
}

async function openRequest(t: RelayTarget, url: URL, headers: Record<string, string>, deadline: AbortSignal): Promise<ClientRequest> {
  const https = url.protocol === 'https:';
  const tls: ConnectionOptions = { rejectUnauthorized: t.tls.rejectUnauthorized, servername: t.tls.servername ?? url.hostname, ca: t.tls.ca };
  const base: RequestOptions = { method: 'POST', headers, signal: deadline };
  // node:https and node:tls load with the first relayed call (process.getBuiltinModule), not with
  // the receiver: together they cost an idle process about 1.7 MiB of private memory.
  if (t.proxy === undefined) {
    return https ? process.getBuiltinModule('node:https').request(url, { ...base, ...tls }) : http.request(url, base);
  }
  if (!https) {
    // Plain HTTP through a proxy: the absolute URL goes to the proxy.
    return http.request({ ...base, host: t.proxy.hostname, port: defaultPort(t.proxy), path: url.href, headers: { ...headers, ...proxyAuth(t.proxy) } });
  }
  const socket = await tunnel(t.proxy, url, deadline);
  const tlsConnect = process.getBuiltinModule('node:tls').connect;
  return process.getBuiltinModule('node:https').request(url, { ...base, agent: false, createConnection: () => tlsConnect({ ...tls, socket }) });
}

function readAnswer(res: IncomingMessage): Promise<RelayAnswer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_ANSWER_BYTES) res.destroy(new Error(`X-Ray answer larger than ${MAX_ANSWER_BYTES} bytes`));
      else chunks.push(c);
    });
    res.on('error', reject);
    res.on('end', () => {
      const headers: Record<string, string> = {};
      for (const h of PASS_BACK) {
        const v = res.headers[h];
        if (typeof v === 'string') headers[h] = v;
      }
      resolve({ status: res.statusCode ?? 502, headers, body: Buffer.concat(chunks) });
    });
  });
}

/** POSTs `body` to X-Ray's `path`, signed. Any HTTP answer resolves; no answer rejects with RelayError. */
export async function relayToXRay(t: RelayTarget, path: string, body: Buffer): Promise<RelayAnswer> {
  const url = new URL(path, t.base);
  let signed: Record<string, string>;
  try {
    signed = await t.signer.sign({ method: 'POST', url, headers: { 'content-type': 'application/json' }, body });
  } catch (err) {
    throw new RelayError('credentials', `cannot sign the X-Ray request: ${(err as Error).message}`, err);
  }
  const deadline = AbortSignal.timeout(t.timeoutMs);
  try {
    const req = await openRequest(t, url, { ...signed, 'content-length': String(body.length) }, deadline);
    const answer = new Promise<RelayAnswer>((resolve, reject) => {
      req.on('response', (res: IncomingMessage) => {
        readAnswer(res).then(resolve, reject);
      });
      req.on('error', reject);
    });
    req.end(body);
    return await answer;
  } catch (err) {
    const why = deadline.aborted ? `no answer within ${t.timeoutMs} ms` : (err as Error).message;
    throw new RelayError('network', `X-Ray at ${url.host} unreachable: ${why}`, err);
  }
}
