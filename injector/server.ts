// The webhook's HTTPS server: POST /mutate, GET /healthz, /readyz, /metrics. TLS >= 1.2 (or
// 1.3 by config), the key pair reloaded in place, request bodies bounded, shutdown once.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseHostPort } from '../sidecar/config/schema.ts';
import type { AdmissionHandler } from './admission.ts';
import type { Logger } from './logger.ts';
import type { InjectorMetrics } from './metrics.ts';
import { secureContextOptions, type KeyPairFiles, type KeyPairReloader } from './tls-reloader.ts';

export interface WebhookServerOptions {
  endpoint: string;
  maxRequestBody: number;
  requestTimeoutMs: number;
  tlsReloadIntervalMs: number;
  tlsFiles: KeyPairFiles;
  keyPair: KeyPairReloader;
  handler: AdmissionHandler;
  metrics: InjectorMetrics;
  logger: Logger;
}

const KNOWN_PATHS = new Set(['/mutate', '/healthz', '/readyz', '/metrics']);

class BodyTooLarge extends Error {}

export class WebhookServer {
  private readonly opts: WebhookServerOptions;
  private readonly server: https.Server;
  private ready = false;
  private stopping: Promise<void> | undefined;

  constructor(opts: WebhookServerOptions) {
    this.opts = opts;
    this.server = https.createServer(secureContextOptions(opts.keyPair.pair, opts.tlsFiles), (req, res) => {
      this.route(req, res).catch((err: unknown) => {
        // Reached only by a bug outside the admission handler's own fail-open path.
        this.opts.metrics.errors.inc({ kind: 'internal' });
        this.opts.logger.error({ err: (err as Error).message, path: req.url }, 'request failed');
        if (!res.headersSent) this.send(res, req, 500, 'text/plain', 'internal error\n');
        else res.destroy();
      });
    });
    this.server.requestTimeout = opts.requestTimeoutMs;
    this.server.headersTimeout = Math.min(opts.requestTimeoutMs, 60_000);
    // TLS handshake failures (scanners, a client that rejects the certificate) are not our errors.
    this.server.on('tlsClientError', (err) => this.opts.logger.debug({ err: err.message }, 'TLS handshake failed'));
  }

  async start(): Promise<AddressInfo> {
    const hp = parseHostPort(this.opts.endpoint);
    if (hp === undefined) throw new Error(`endpoint ${this.opts.endpoint}: not host:port`);
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(hp.port, hp.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.opts.keyPair.start(this.server, this.opts.tlsReloadIntervalMs);
    this.ready = true;
    const address = this.server.address() as AddressInfo;
    this.opts.logger.info({ address: address.address, port: address.port }, 'webhook listening');
    return address;
  }

  /** Stops accepting, lets in-flight reviews finish, then closes. Safe to call twice. */
  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      this.ready = false;
      this.opts.keyPair.stop();
      await new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        this.server.closeIdleConnections();
      });
    })();
    return this.stopping;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'https://injector').pathname;
    const method = req.method ?? 'GET';
    if (path === '/mutate') {
      if (method !== 'POST') return this.send(res, req, 405, 'text/plain', 'POST only\n', { allow: 'POST' });
      let body: Buffer;
      try {
        body = await this.readBody(req);
      } catch (err) {
        if (!(err instanceof BodyTooLarge)) throw err;
        this.opts.metrics.errors.inc({ kind: 'body_too_large' });
        this.opts.logger.warn({ limit: this.opts.maxRequestBody }, 'AdmissionReview body too large');
        return this.send(res, req, 413, 'text/plain', `body exceeds ${this.opts.maxRequestBody} bytes\n`, { connection: 'close' });
      }
      const answer = await this.opts.handler.review(body);
      return this.send(res, req, answer.status, 'application/json', JSON.stringify(answer.body));
    }
    if (method !== 'GET' && method !== 'HEAD') return this.send(res, req, 405, 'text/plain', 'GET only\n', { allow: 'GET, HEAD' });
    switch (path) {
      case '/healthz':
        return this.send(res, req, 200, 'text/plain', 'ok\n');
      case '/readyz':
        return this.ready ? this.send(res, req, 200, 'text/plain', 'ready\n') : this.send(res, req, 503, 'text/plain', 'not ready\n');
      case '/metrics':
        return this.send(res, req, 200, 'text/plain; version=0.0.4; charset=utf-8', this.opts.metrics.render());
      default:
        return this.send(res, req, 404, 'text/plain', 'not found\n');
    }
  }

  private readBody(req: IncomingMessage): Promise<Buffer> {
    const limit = this.opts.maxRequestBody;
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLarge());
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let done = false;
      req.on('data', (chunk: Buffer) => {
        if (done) return;
        size += chunk.length;
        if (size > limit) {
          done = true;
          reject(new BodyTooLarge());
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => {
        if (!done) resolve(Buffer.concat(chunks));
      });
      req.on('error', (err) => {
        if (!done) reject(err);
        done = true;
      });
    });
  }

  private send(res: ServerResponse, req: IncomingMessage, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
    const path = new URL(req.url ?? '/', 'https://injector').pathname;
    this.opts.metrics.httpRequests.inc({ path: KNOWN_PATHS.has(path) ? path : 'other', code: String(status) });
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...headers });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}
