// The proxy itself, on node:http and node:net. It runs inside the bridge's worker thread (see
// worker.ts); nothing here knows about threads.
//
// Per request: check the client (forward mode: loopback only), find the target (absolute URI,
// or the configured app port in reverse mode), bridge the trace headers, strip hop-by-hop
// headers, then stream the body both ways with pipe() so memory stays constant whatever the size.
// CONNECT is a byte tunnel: inside TLS there are no headers the bridge could touch.
import { Agent, createServer, request, STATUS_CODES, type ClientRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { closeServer, listen } from '../../net/listen.ts';
import { isLoopbackAddress, isUnspecifiedAddress } from './addresses.ts';
import type { Format } from './config.ts';
import type { CounterCells } from './counters.ts';
import { prepareRequestHeaders, prepareResponseHeaders } from './headers.ts';
import type { IdSource } from './ids.ts';
import { endWithPlainText, rawResponseHead, splice } from './raw-socket.ts';
import { originPath, parseAbsoluteTarget, parseConnectTarget, type Target } from './target.ts';
import type { BridgeRules, Translation } from './translate.ts';
import { classifyUpstreamError, UpstreamTimeoutError, type UpstreamErrorReason, type UpstreamFailure } from './upstream-errors.ts';

export interface ProxyOptions {
  rules: BridgeRules;
  maxHeaderBytes: number;
  maxConnections: number;
  connectTimeoutMs: number;
  responseHeaderTimeoutMs: number;
  idleTimeoutMs: number;
}

export type ListenMode = { mode: 'forward' } | { mode: 'reverse'; host: string; port: number };
export type LogFn = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

interface Listener {
  mode: ListenMode;
  /** Via received-by pseudonym, distinct per listener so forward → reverse in one pod is not a loop. */
  via: string;
}

interface Refusal {
  status: 400 | 403 | 405 | 508;
  reason: 'non_loopback' | 'loop' | 'bad_request';
  message: string;
}

export class BridgeProxy {
  private readonly opts: ProxyOptions;
  private readonly ids: IdSource;
  private readonly log: LogFn;
  private readonly pseudonym: string;
  /** Keep-alive to upstreams: a pooled connection saves a TCP handshake per request. */
  private readonly agent = new Agent({ keepAlive: true, scheduling: 'lifo', maxFreeSockets: 256 });
  private readonly servers: Server[] = [];
  private readonly tunnels = new Set<Duplex>();
  private forwardPort: number | undefined;
  private warnedNonLoopback = false;
  private readonly count;

  constructor(opts: ProxyOptions, counters: CounterCells, ids: IdSource, pseudonym: string, log: LogFn) {
    this.opts = opts;
    this.ids = ids;
    this.pseudonym = pseudonym;
    this.log = log;
    const upstream = (r: UpstreamErrorReason) => counters.bind(`tracebridge_header_bridge_upstream_errors_total:${r}`);
    const malformed = (f: Format) => counters.bind(`tracebridge_header_bridge_malformed_headers_dropped_total:${f}`);
    this.count = {
      forward: counters.bind('tracebridge_header_bridge_requests_total:forward'),
      reverse: counters.bind('tracebridge_header_bridge_requests_total:reverse'),
      tunnel: counters.bind('tracebridge_header_bridge_requests_total:tunnel'),
      derived: counters.bind('tracebridge_header_bridge_translations_total:derived'),
      conflict: counters.bind('tracebridge_header_bridge_translations_total:conflict_resolved'),
      started: counters.bind('tracebridge_header_bridge_translations_total:started'),
      malformed: { traceparent: malformed('traceparent'), xray: malformed('xray'), b3: malformed('b3') } satisfies Record<Format, () => void>,
      upstream: {
        connect_refused: upstream('connect_refused'),
        reset: upstream('reset'),
        timeout: upstream('timeout'),
        dns: upstream('dns'),
        unreachable: upstream('unreachable'),
        other: upstream('other'),
      } satisfies Record<UpstreamErrorReason, () => void>,
      refused: {
        non_loopback: counters.bind('tracebridge_header_bridge_refused_requests_total:non_loopback'),
        loop: counters.bind('tracebridge_header_bridge_refused_requests_total:loop'),
        bad_request: counters.bind('tracebridge_header_bridge_refused_requests_total:bad_request'),
        max_connections: counters.bind('tracebridge_header_bridge_refused_requests_total:max_connections'),
      },
    };
  }

  async listen(endpoint: string, mode: ListenMode): Promise<AddressInfo> {
    const l: Listener = { mode, via: mode.mode === 'forward' ? this.pseudonym : `${this.pseudonym}-r${this.servers.length}` };
    // requestTimeout 0: bodies are streamed and may take long; idleness is what is bounded.
    const server = createServer({ maxHeaderSize: this.opts.maxHeaderBytes, requestTimeout: 0 });
    server.maxConnections = this.opts.maxConnections;
    server.setTimeout(this.opts.idleTimeoutMs);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.guard(res.socket, () => this.onRequest(l, req, res)));
    server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.guard(socket, () => this.onConnect(l, req, socket, head)));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.guard(socket, () => this.onUpgrade(l, req, socket, head)));
    server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => this.onClientError(err, socket));
    server.on('drop', () => this.count.refused.max_connections());
    await listen(server, endpoint);
    this.servers.push(server);
    const address = server.address() as AddressInfo;
    if (mode.mode === 'forward') this.forwardPort = address.port;
    return address;
  }

  /** Stops listening, cuts tunnels (they have no request boundary to wait for), drains requests for `graceMs`. */
  async close(graceMs: number): Promise<void> {
    for (const t of this.tunnels) t.destroy();
    await Promise.all(this.servers.map((s) => closeServer(s, graceMs)));
    this.agent.destroy();
  }

  /**
   * A bug on one request must not take every app request down with the worker: the connection is
   * cut, the error logged, and the proxy keeps serving.
   */
  private guard(socket: Duplex | null, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      socket?.destroy();
      this.log('error', 'header bridge request handling failed; connection closed', { err: (err as Error).message });
    }
  }

  // --- plain requests -----------------------------------------------------------------------

  private onRequest(l: Listener, req: IncomingMessage, res: ServerResponse): void {
    (l.mode.mode === 'forward' ? this.count.forward : this.count.reverse)();
    const target = this.resolveTarget(l, req, req.socket);
    if ('status' in target) return this.refuse(req, res, target);
    const prepared = prepareRequestHeaders(req.rawHeaders, this.opts.rules, this.ids, l.via);
    if (prepared.looped) return this.refuse(req, res, { status: 508, reason: 'loop', message: 'the request has already passed through this proxy' });
    this.countTranslation(prepared.translation);
    if (prepared.host === undefined) prepared.headers.push('Host', target.authority);
    this.send(l, req, res, target, prepared.headers, true);
  }

  private send(l: Listener, req: IncomingMessage, res: ServerResponse, target: Target, headers: string[], firstAttempt: boolean): void {
    const withBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
    const up = request({
      host: target.host,
      port: target.port,
      method: req.method,
      path: target.path,
      headers,
      agent: this.agent,
      setHost: false,
      maxHeaderSize: this.opts.maxHeaderBytes,
    });
    const disarm = this.armTimeouts(up);
    const onClientGone = () => {
      if (!res.writableFinished) up.destroy();
    };
    res.once('close', onClientGone);
    let failed = false;
    up.once('response', (upRes: IncomingMessage) => {
      disarm();
      try {
        res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, prepareResponseHeaders(upRes.rawHeaders, l.via));
      } catch (err) {
        // A status or header Node refuses to write (e.g. a status code below 100).
        failed = true;
        up.destroy();
        this.count.upstream.other();
        if (!res.headersSent) {
          const message = `upstream ${target.authority} sent a response that cannot be relayed: ${(err as Error).message}`;
          this.sendFailure(req, res, { status: 502, reason: 'other', proxyStatus: 'http_protocol_error', message }, l.via);
        } else res.destroy();
        return;
      }
      upRes.pipe(res, { end: false });
      upRes.once('end', () => {
        // Trailers reach the client only on a chunked response, which Node uses here whenever
        // the upstream sent no Content-Length (and trailers imply chunked upstream).
        if (upRes.rawTrailers.length > 0) res.addTrailers(pairs(upRes.rawTrailers));
        res.end();
      });
      upRes.once('close', () => {
        if (upRes.complete || res.writableFinished) return;
        if (!res.destroyed) this.count.upstream.reset();
        res.destroy();
      });
    });
    up.on('error', (err: Error & { code?: string }) => {
      if (failed) return; // a timer may destroy an already failed request: answer once
      failed = true;
      disarm();
      res.off('close', onClientGone);
      if (res.destroyed) return; // the client left first; nothing to answer
      // A pooled connection the upstream had already closed: safe to retry once, when there is
      // no body that was consumed by the failed attempt (Node's documented pattern).
      if (firstAttempt && !withBody && up.reusedSocket && err.code === 'ECONNRESET' && !res.headersSent) {
        this.send(l, req, res, target, headers, false);
        return;
      }
      const f = classifyUpstreamError(err, target.authority);
      this.count.upstream[f.reason]();
      if (!res.headersSent) this.sendFailure(req, res, f, l.via);
      else res.destroy();
    });
    if (withBody) req.pipe(up);
    else up.end();
  }

  /** Connect, response-header and idle timers on an upstream request; returns the disarm function. */
  private armTimeouts(up: ClientRequest): () => void {
    const o = this.opts;
    let connectTimer: NodeJS.Timeout | undefined;
    let headerTimer: NodeJS.Timeout | undefined;
    up.once('socket', (socket: Socket) => {
      if (!socket.connecting) return;
      connectTimer = setTimeout(() => up.destroy(new UpstreamTimeoutError('connect', o.connectTimeoutMs)), o.connectTimeoutMs);
      socket.once('connect', () => clearTimeout(connectTimer));
    });
    up.once('finish', () => {
      headerTimer = setTimeout(() => up.destroy(new UpstreamTimeoutError('response headers', o.responseHeaderTimeoutMs)), o.responseHeaderTimeoutMs);
    });
    up.setTimeout(o.idleTimeoutMs, () => up.destroy(new UpstreamTimeoutError('idle', o.idleTimeoutMs)));
    return () => {
      clearTimeout(connectTimer);
      clearTimeout(headerTimer);
    };
  }

  private sendFailure(req: IncomingMessage, res: ServerResponse, f: UpstreamFailure, via: string): void {
    const body = `${f.status} ${STATUS_CODES[f.status]}: ${f.message}\n`;
    const headers = ['Content-Type', 'text/plain; charset=utf-8', 'Content-Length', String(Buffer.byteLength(body)), 'Proxy-Status', `${via}; error=${f.proxyStatus}`];
    // An unread request body would be drained before the next request: close instead.
    if (!req.complete) headers.push('Connection', 'close');
    res.writeHead(f.status, headers).end(body);
  }

  private refuse(req: IncomingMessage, res: ServerResponse, r: Refusal): void {
    this.countRefusal(r, req.socket.remoteAddress);
    const body = `${r.status} ${STATUS_CODES[r.status]}: ${r.message}\n`;
    const headers = ['Content-Type', 'text/plain; charset=utf-8', 'Content-Length', String(Buffer.byteLength(body))];
    if (!req.complete) headers.push('Connection', 'close');
    res.writeHead(r.status, headers).end(body);
  }

  private countRefusal(r: Refusal, remote: string | undefined): void {
    this.count.refused[r.reason]();
    if (r.reason === 'non_loopback' && !this.warnedNonLoopback) {
      this.warnedNonLoopback = true;
      this.log('warn', 'header bridge refused a client that is not on loopback (further refusals are only counted)', { remote });
    }
  }

  private resolveTarget(l: Listener, req: IncomingMessage, socket: Duplex & { remoteAddress?: string }): Target | Refusal {
    if (l.mode.mode === 'reverse') {
      const { host, port } = l.mode;
      return { host, port, path: originPath(req.url ?? '/'), authority: `${host.includes(':') ? `[${host}]` : host}:${port}` };
    }
    if (!isLoopbackAddress(socket.remoteAddress)) {
      return { status: 403, reason: 'non_loopback', message: 'the header bridge serves loopback clients only' };
    }
    const t = parseAbsoluteTarget(req.url ?? '');
    if ('error' in t) return { status: 400, reason: 'bad_request', message: t.error };
    if (this.isSelf(t.host, t.port)) return { status: 508, reason: 'loop', message: `${t.authority} is this proxy` };
    return t;
  }

  /** A forward request to the forward listener itself would loop until sockets run out. */
  private isSelf(host: string, port: number): boolean {
    return port === this.forwardPort && (isLoopbackAddress(host) || host.toLowerCase() === 'localhost' || isUnspecifiedAddress(host));
  }

  private countTranslation(t: Translation): void {
    if (t.derived) this.count.derived();
    if (t.conflictResolved) this.count.conflict();
    if (t.started) this.count.started();
    for (const f of t.malformed) this.count.malformed[f]();
  }

  // --- CONNECT and Upgrade ------------------------------------------------------------------

  private onConnect(l: Listener, req: IncomingMessage, socket: Duplex & { remoteAddress?: string }, head: Buffer): void {
    this.count.tunnel();
    socket.on('error', () => socket.destroy());
    const refuse = (r: Refusal) => {
      this.countRefusal(r, socket.remoteAddress);
      endWithPlainText(socket, r.status, r.message);
    };
    if (l.mode.mode === 'reverse') return refuse({ status: 405, reason: 'bad_request', message: 'CONNECT is served by the forward proxy only' });
    if (!isLoopbackAddress(socket.remoteAddress)) return refuse({ status: 403, reason: 'non_loopback', message: 'the header bridge serves loopback clients only' });
    const t = parseConnectTarget(req.url ?? '');
    if ('error' in t) return refuse({ status: 400, reason: 'bad_request', message: t.error });
    if (this.isSelf(t.host, t.port)) return refuse({ status: 508, reason: 'loop', message: `${req.url} is this proxy` });

    const authority = req.url!;
    const up = connect({ host: t.host, port: t.port });
    let connected = false;
    const timer = setTimeout(() => up.destroy(new UpstreamTimeoutError('connect', this.opts.connectTimeoutMs)), this.opts.connectTimeoutMs);
    const abandon = () => up.destroy();
    socket.once('close', abandon);
    up.once('connect', () => {
      connected = true;
      clearTimeout(timer);
      socket.off('close', abandon);
      socket.write(`HTTP/1.1 200 Connection Established\r\nVia: 1.1 ${l.via}\r\n\r\n`);
      if (head.length > 0) up.write(head);
      this.tunnels.add(socket);
      splice(socket, up, this.opts.idleTimeoutMs, () => this.tunnels.delete(socket));
    });
    up.once('error', (err: Error & { code?: string }) => {
      clearTimeout(timer);
      if (connected) return; // splice tears both down
      const f = classifyUpstreamError(err, authority);
      this.count.upstream[f.reason]();
      endWithPlainText(socket, f.status, f.message, ['Proxy-Status', `${l.via}; error=${f.proxyStatus}`]);
    });
  }

  private onUpgrade(l: Listener, req: IncomingMessage, socket: Duplex & { remoteAddress?: string }, head: Buffer): void {
    (l.mode.mode === 'forward' ? this.count.forward : this.count.reverse)();
    socket.on('error', () => socket.destroy());
    const target = this.resolveTarget(l, req, socket);
    const refuse = (r: Refusal) => {
      this.countRefusal(r, socket.remoteAddress);
      endWithPlainText(socket, r.status, r.message);
    };
    if ('status' in target) return refuse(target);
    const prepared = prepareRequestHeaders(req.rawHeaders, this.opts.rules, this.ids, l.via, true);
    if (prepared.looped) return refuse({ status: 508, reason: 'loop', message: 'the request has already passed through this proxy' });
    this.countTranslation(prepared.translation);
    if (prepared.host === undefined) prepared.headers.push('Host', target.authority);
    // A dedicated connection: an upgraded socket never returns to a pool.
    const up = request({
      host: target.host,
      port: target.port,
      method: req.method,
      path: target.path,
      headers: prepared.headers,
      agent: false,
      setHost: false,
      maxHeaderSize: this.opts.maxHeaderBytes,
    });
    const disarm = this.armTimeouts(up);
    socket.once('close', () => up.destroy());
    up.once('upgrade', (upRes: IncomingMessage, upSocket: Socket, upHead: Buffer) => {
      disarm();
      upSocket.setTimeout(0);
      socket.write(rawResponseHead(upRes.statusCode ?? 101, upRes.statusMessage, prepareResponseHeaders(upRes.rawHeaders, l.via, true)));
      if (upHead.length > 0) socket.write(upHead);
      if (head.length > 0) upSocket.write(head);
      this.tunnels.add(socket);
      splice(socket, upSocket, this.opts.idleTimeoutMs, () => this.tunnels.delete(socket));
    });
    up.once('response', (upRes: IncomingMessage) => {
      // The upstream declined the upgrade: relay its answer and close.
      disarm();
      socket.write(rawResponseHead(upRes.statusCode ?? 502, upRes.statusMessage, [...prepareResponseHeaders(upRes.rawHeaders, l.via), 'Connection', 'close']));
      upRes.pipe(socket);
    });
    up.on('error', (err: Error & { code?: string }) => {
      disarm();
      if (socket.destroyed || !socket.writable) return;
      const f = classifyUpstreamError(err, target.authority);
      this.count.upstream[f.reason]();
      endWithPlainText(socket, f.status, f.message, ['Proxy-Status', `${l.via}; error=${f.proxyStatus}`]);
    });
    up.end();
  }

  private onClientError(err: Error & { code?: string }, socket: Duplex): void {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    this.count.refused.bad_request();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    endWithPlainText(socket, status, status === 431 ? 'request headers exceed max_header_bytes' : 'malformed HTTP request');
  }
}

function pairs(flat: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}
