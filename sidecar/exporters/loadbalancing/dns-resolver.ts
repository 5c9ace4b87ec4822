// The `dns` resolver: the backends are the A and AAAA records of a name (typically a headless
// Service: one record per ready gateway pod), each with the configured port, resolved every
// `interval` with a `timeout` per lookup. A failed lookup (timeout, SERVFAIL, NXDOMAIN, no records
// at all) keeps the last known list, so a DNS hiccup never empties the ring, and is logged once
// per episode.
import { Resolver as DnsClient } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Logger } from '../../telemetry/logger.ts';
import { OnceWarning } from '../../telemetry/logger.ts';
import type { DnsResolverConfig } from './config.ts';
import type { ResolutionCounter } from './obs.ts';
import type { Resolver } from './resolver.ts';

export class DnsResolver implements Resolver {
  private readonly cfg: DnsResolverConfig;
  private readonly client: DnsClient;
  private readonly resolutions: ResolutionCounter;
  private readonly failing: OnceWarning;
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | undefined;
  private last = '';
  private running: Promise<void> | undefined;
  private stopped = false;

  /** `nameserver` (ip[:port]) replaces the system's resolvers; tests point it at a local stub. */
  constructor(logger: Logger, cfg: DnsResolverConfig, resolutions: ResolutionCounter, nameserver?: string) {
    this.cfg = cfg;
    this.logger = logger;
    this.resolutions = resolutions;
    this.client = new DnsClient({ timeout: cfg.timeout, tries: 1 });
    if (nameserver !== undefined) this.client.setServers([nameserver]);
    this.failing = new OnceWarning(logger, 'DNS resolution of the load-balancing backends failed; keeping the last known backends');
  }

  /** Resolves once (the ring starts from that when it succeeds) and then every interval. */
  async start(onChange: (endpoints: readonly string[]) => void): Promise<void> {
    await this.tick(onChange);
    this.timer = setInterval(() => void this.tick(onChange), this.cfg.interval);
    this.timer.unref();
  }

  shutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.client.cancel();
    return this.running ?? Promise.resolve();
  }

  /** One resolution, skipped while the previous one is still running. */
  private tick(onChange: (endpoints: readonly string[]) => void): Promise<void> {
    if (this.running !== undefined || this.stopped) return this.running ?? Promise.resolve();
    this.running = this.resolve(onChange).finally(() => (this.running = undefined));
    return this.running;
  }

  private async resolve(onChange: (endpoints: readonly string[]) => void): Promise<void> {
    const { hostname, port } = this.cfg;
    const host = hostname!;
    let endpoints: string[];
    if (isIP(host) !== 0) {
      endpoints = [withPort(host, port)];
    } else {
      const [v4, v6] = await Promise.allSettled([this.client.resolve4(host), this.client.resolve6(host)]);
      if (this.stopped) return;
      const ips = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
      if (ips.length === 0) {
        this.resolutions.failure.add(1);
        const reason = v4.status === 'rejected' ? v4.reason : v6.status === 'rejected' ? v6.reason : undefined;
        this.failing.warn({ hostname: host, err: reason instanceof Error ? reason.message : 'no A or AAAA records' });
        return;
      }
      endpoints = [...new Set(ips.map((ip) => withPort(ip, port)))].sort();
    }
    this.resolutions.success.add(1);
    this.failing.reset();
    const key = endpoints.join(',');
    if (key === this.last) return;
    this.last = key;
    this.logger.info({ hostname: host, backends: endpoints }, 'load-balancing backends changed');
    onChange(endpoints);
  }
}

function withPort(ip: string, port: number): string {
  return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}
