import type { ExporterFactory } from '../../component/component.ts';
import type { Resolver } from './resolver.ts';
import { K8S_RESOLVER_MODULE, loadBalancingExporterConfig, type LoadBalancingExporterConfig } from './config.ts';

/**
 * Test hook (undocumented): ip[:port] of the DNS server the `dns` resolver asks instead of the
 * system's, so tests can run a local DNS stub.
 */
const TEST_DNS_SERVER_ENV = 'TRACEBRIDGE_TEST_DNS_SERVER';

export const loadBalancingExporterFactory: ExporterFactory<LoadBalancingExporterConfig> = {
  type: 'loadbalancing',
  config: loadBalancingExporterConfig,
  signals: ['traces'],
  async create(settings, config) {
    const { LoadBalancingExporter } = await import('./exporter.ts');
    const { resolutionCounter } = await import('./obs.ts');
    const r = config.resolver;
    if (r.static !== undefined) {
      const { StaticResolver } = await import('./static-resolver.ts');
      return new LoadBalancingExporter(settings, config, new StaticResolver(r.static.hostnames, resolutionCounter(settings.metrics, settings.id, 'static')), 'static');
    }
    if (r.dns !== undefined) {
      const { DnsResolver } = await import('./dns-resolver.ts');
      const nameserver = process.env[TEST_DNS_SERVER_ENV] || undefined;
      return new LoadBalancingExporter(settings, config, new DnsResolver(settings.logger, r.dns, resolutionCounter(settings.metrics, settings.id, 'dns'), nameserver), 'dns');
    }
    // Config validation lets resolver.k8s through only when the module is present.
    const mod = (await import(K8S_RESOLVER_MODULE!)) as { K8sResolver: new (s: typeof settings, c: NonNullable<typeof r.k8s>) => Resolver };
    return new LoadBalancingExporter(settings, config, new mod.K8sResolver(settings, r.k8s!), 'k8s');
  },
};
