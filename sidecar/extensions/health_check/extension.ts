// GET <path> -> 200 while the service runs, 503 while it starts or stops (so kubelet's readiness
// and startup probes see the truth during a drain).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Component, CreateSettings, Host } from '../../component/component.ts';
import { closeServer, listen } from '../../net/listen.ts';
import type { HealthCheckConfig } from './config.ts';

export class HealthCheckExtension implements Component {
  private readonly cfg: HealthCheckConfig;
  private readonly settings: CreateSettings;
  private server: Server | undefined;

  constructor(settings: CreateSettings, cfg: HealthCheckConfig) {
    this.settings = settings;
    this.cfg = cfg;
  }

  async start(host: Host): Promise<void> {
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== this.cfg.path || (req.method !== 'GET' && req.method !== 'HEAD')) {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
        return;
      }
      const running = host.status === 'running';
      const body = JSON.stringify({
        status: running ? 'Server available' : host.status === 'starting' ? 'Server not available: starting' : 'Server not available: shutting down',
        upSince: host.startedAt.toISOString(),
        uptime: `${((Date.now() - host.startedAt.getTime()) / 1000).toFixed(3)}s`,
      });
      res.writeHead(running ? 200 : 503, { 'Content-Type': 'application/json' }).end(req.method === 'HEAD' ? undefined : body);
    });
    await listen(this.server, this.cfg.endpoint);
    this.settings.logger.info({ endpoint: this.cfg.endpoint, port: this.port }, 'health check listening');
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  async shutdown(): Promise<void> {
    if (this.server) await closeServer(this.server, 1000);
  }
}
