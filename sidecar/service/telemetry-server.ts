// The sidecar's own metrics endpoint: Prometheus text at GET /metrics, plus process figures
// under the collector's names (otelcol_process_*).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetricsRegistry } from '../telemetry/metrics.ts';
import { closeServer, listen } from '../net/listen.ts';
// node:http by process.getBuiltinModule, not an ES import: importing it reads every export, and its
// WebSocket getter loads undici with node:tls and node:http2 (6.6 MiB of private memory at idle).
const { createServer } = process.getBuiltinModule('node:http');

export function registerProcessMetrics(metrics: MetricsRegistry, startedAt: number): void {
  metrics.gauge('otelcol_process_uptime_seconds_total', 'Uptime of the process.').collect({}, () => (Date.now() - startedAt) / 1000);
  metrics.gauge('otelcol_process_memory_rss_bytes', 'Total physical memory (resident set size).').collect({}, () => process.memoryUsage.rss());
  metrics.gauge('otelcol_process_cpu_seconds_total', 'Total CPU user and system time in seconds.').collect({}, () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  });
  metrics.gauge('otelcol_process_runtime_heap_alloc_bytes', 'Bytes of allocated heap objects.').collect({}, () => process.memoryUsage().heapUsed);
}

export class TelemetryServer {
  private readonly server: Server;
  private readonly address: string;

  constructor(metrics: MetricsRegistry, address: string) {
    this.address = address;
    this.server = createServer((req, res) => {
      if ((req.url ?? '').split('?')[0] !== '/metrics' || req.method !== 'GET') {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: try GET /metrics\n');
        return;
      }
      const body = metrics.render();
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body);
    });
  }

  async start(): Promise<void> {
    await listen(this.server, this.address);
  }

  get port(): number {
    return (this.server.address() as AddressInfo | null)?.port ?? 0;
  }

  shutdown(): Promise<void> {
    return closeServer(this.server, 1000);
  }
}
