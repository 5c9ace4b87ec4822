// Shared pieces of the header bridge tests: a bridge started from a config map (through the real
// schema and the real worker), upstream servers on port 0 that record what reached them, and a
// client that talks to the proxy as HTTP_PROXY clients do (absolute-form request targets).
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CreateSettings, Host } from '../../../../sidecar/component/component.ts';
import { ConfigErrors } from '../../../../sidecar/config/schema.ts';
import { headerBridgeConfig } from '../../../../sidecar/extensions/header_bridge/config.ts';
import { HeaderBridgeExtension } from '../../../../sidecar/extensions/header_bridge/extension.ts';
import { MetricsRegistry } from '../../../../sidecar/telemetry/metrics.ts';
import { createLogger } from '../../../../sidecar/telemetry/logger.ts';

export const host: Host = { getExtension: () => undefined, status: 'running', startedAt: new Date() };

export interface Bridge {
  ext: HeaderBridgeExtension;
  metrics: MetricsRegistry;
  /** Forward proxy host and port. */
  proxy: { host: string; port: number };
  stop(): Promise<void>;
}

export async function startBridge(config: Record<string, unknown> = {}, opts: { restartDelayMs?: number } = {}): Promise<Bridge> {
  const errors = new ConfigErrors();
  const cfg = headerBridgeConfig.decode({ endpoint: '127.0.0.1:0', ...config }, 'extensions.header_bridge', errors);
  if (errors.any()) throw new Error(errors.list().join('\n'));
  const metrics = new MetricsRegistry();
  const settings: CreateSettings = { id: 'header_bridge', kind: 'extension', logger: createLogger('silent'), metrics };
  const ext = new HeaderBridgeExtension(settings, cfg, opts);
  await ext.start(host);
  const fwd = ext.listeners.find((l) => l.name === 'forward')!;
  return { ext, metrics, proxy: { host: fwd.address!, port: fwd.port! }, stop: () => ext.shutdown() };
}

export interface Recorded {
  method: string;
  url: string;
  rawHeaders: string[];
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface Upstream {
  server: Server;
  port: number;
  origin: string;
  requests: Recorded[];
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1:0 that records each request (body included) and answers via `handler`. */
export async function startUpstream(handler: (req: Recorded, res: ServerResponse) => void = (_r, res) => res.end('ok')): Promise<Upstream> {
  const requests: Recorded[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { method: req.method!, url: req.url!, rawHeaders: req.rawHeaders, headers: req.headers, body: Buffer.concat(chunks) };
      requests.push(r);
      handler(r, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
}

/** One request through the proxy: `GET http://upstream/path` sent to the proxy's port. */
export function viaProxy(
  proxy: { host: string; port: number },
  url: string,
  opts: { method?: string; headers?: Record<string, string | string[]> | string[]; body?: string | Buffer } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: proxy.host, port: proxy.port, method: opts.method ?? 'GET', path: url, headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** The values of header `name` (any case) in a rawHeaders list, in order. */
export function rawValues(raw: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) out.push(raw[i + 1]!);
  return out;
}
