// The webhook's HTTPS server: POST /mutate, POST /validate-configmap, GET /healthz, /readyz, /metrics. TLS >= 1.2 (or
// 1.3 by config), the key pair reloaded in place, request bodies bounded, shutdown once.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer, HttpError, listen, readBody } from '../sidecar/public.ts';
import type { AdmissionHandler } from './admission.ts';
import type { Logger } from './logger.ts';
import type { ConfigMapValidator } from './validate-configmap.ts';
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
  /** Answers POST /validate-configmap (the sidecar ConfigMap check). */
  configMapValidator: Pick<ConfigMapValidator, 'review'>;
  metrics: InjectorMetrics;
  logger: Logger;
}

const KNOWN_PATHS = new Set(['/mutate', '/validate-configmap', '/healthz', '/readyz', '/metrics']);

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
        this.opts.metrics.errors.add(1, { kind: 'internal' });
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
    await listen(this.server, this.opts.endpoint);
    this.opts.keyPair.start(this.server, this.opts.tlsReloadIntervalMs);
    this.ready = true;
    const address = this.server.address() as AddressInfo;
    this.opts.logger.info({ address: address.address, port: address.port }, 'webhook listening');
    return address;
  }

  /** Stops accepting, lets in-flight reviews finish (up to the request timeout), then closes. Safe to call twice. */
  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      this.ready = false;
      this.opts.keyPair.stop();
      await closeServer(this.server, this.opts.requestTimeoutMs);
    })();
    return this.stopping;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'https://injector').pathname;
    const method = req.method ?? 'GET';
    const reviewer = path === '/mutate' ? this.opts.handler : path === '/validate-configmap' ? this.opts.configMapValidator : undefined;
    if (reviewer !== undefined) {
      if (method !== 'POST') return this.send(res, req, 405, 'text/plain', 'POST only\n', { allow: 'POST' });
      let body: Buffer;
      try {
        body = await readBody(req, this.opts.maxRequestBody);
      } catch (err) {
        if (!(err instanceof HttpError)) throw err;
        // The reader stopped reading: close the connection instead of draining what is left.
        if (err.status === 413) {
          this.opts.metrics.errors.add(1, { kind: 'body_too_large' });
          this.opts.logger.warn({ limit: this.opts.maxRequestBody, path }, 'AdmissionReview body too large');
        } else {
          this.opts.metrics.errors.add(1, { kind: 'malformed' });
          this.opts.logger.warn({ err: err.message, path }, 'AdmissionReview body unreadable');
        }
        return this.send(res, req, err.status, 'text/plain', `${err.message}\n`, { connection: 'close' });
      }
      const answer = await reviewer.review(body);
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

  private send(res: ServerResponse, req: IncomingMessage, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
    const path = new URL(req.url ?? '/', 'https://injector').pathname;
    this.opts.metrics.httpRequests.add(1, { path: KNOWN_PATHS.has(path) ? path : 'other', code: String(status) });
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...headers });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}
