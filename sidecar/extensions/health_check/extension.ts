// GET <path> -> 200 while the service runs, 503 while it starts or stops (so kubelet's readiness
// and startup probes see the truth during a drain). The body also says where the config came from
// and, when a mounted config was rejected, its errors.
//
// A port that cannot be bound never stops the sidecar: the kubelet probes that one port, so a
// different port would not help; the extension logs the error once and retries the same port
// every second (the startup probe's period) until it is free. Meanwhile the probe reaches
// whoever holds the port (see README.md).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Component, CreateSettings, Host } from '../../component/component.ts';
import { closeServer, listen } from '../../net/listen.ts';
import type { ConfigStatusHost } from '../../service/config-status.ts';
import type { HealthCheckConfig } from './config.ts';
// node:http by process.getBuiltinModule, not an ES import: importing it reads every export, and its
// WebSocket getter loads undici with node:tls and node:http2 (6.6 MiB of private memory at idle).
const { createServer } = process.getBuiltinModule('node:http');

/** How often a port that could not be bound is tried again. */
export const RETRY_BIND_MS = 1000;

export class HealthCheckExtension implements Component {
  private readonly cfg: HealthCheckConfig;
  private readonly settings: CreateSettings;
  private server: Server | undefined;
  private listening = false;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(settings: CreateSettings, cfg: HealthCheckConfig) {
    this.settings = settings;
    this.cfg = cfg;
    settings.metrics.gauge('tracebridge_health_check_listening', 'Whether the health_check extension holds its port (0 while another process holds it; probes then reach that one).').collect({}, () => (this.listening ? 1 : 0));
  }

  async start(host: Host): Promise<void> {
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== this.cfg.path || (req.method !== 'GET' && req.method !== 'HEAD')) {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
        return;
      }
      const running = host.status === 'running';
      const config = (host as Host & ConfigStatusHost).configStatus;
      const body = JSON.stringify({
        status: running ? 'Server available' : host.status === 'starting' ? 'Server not available: starting' : 'Server not available: shutting down',
        upSince: host.startedAt.toISOString(),
        uptime: `${((Date.now() - host.startedAt.getTime()) / 1000).toFixed(3)}s`,
        ...(config !== undefined ? { config: { source: config.source, ...(config.path !== undefined ? { path: config.path } : {}), errors: config.errors } } : {}),
      });
      res.writeHead(running ? 200 : 503, { 'Content-Type': 'application/json' }).end(req.method === 'HEAD' ? undefined : body);
    });
    await this.bind(true);
  }

  private async bind(first: boolean): Promise<void> {
    const server = this.server;
    if (server === undefined || this.stopped) return;
    try {
      await listen(server, this.cfg.endpoint);
    } catch (err) {
      if (first) {
        this.settings.logger.error(
          { endpoint: this.cfg.endpoint, err: (err as Error).message, retry_ms: RETRY_BIND_MS },
          `health check port ${portOf(this.cfg.endpoint)} could not be bound; the sidecar keeps running and retries (probes reach whoever holds the port meanwhile)`,
        );
      }
      this.retry = setTimeout(() => void this.bind(false), RETRY_BIND_MS);
      this.retry.unref();
      return;
    }
    this.listening = true;
    this.settings.logger.info({ endpoint: this.cfg.endpoint, port: this.port }, 'health check listening');
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    if (this.server) await closeServer(this.server, 1000);
    this.listening = false;
  }
}

function portOf(endpoint: string): string {
  return endpoint.slice(endpoint.lastIndexOf(':') + 1);
}
