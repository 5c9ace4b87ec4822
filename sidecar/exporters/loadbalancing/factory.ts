import type { ExporterFactory } from '../../component/component.ts';
import { loadBalancingExporterConfig, type LoadBalancingExporterConfig } from './config.ts';

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
    const { K8sResolver } = await import('./k8s-resolver.ts');
    // Validation requires resolver.k8s.service, which the decoded type leaves optional.
    const k8s = { ...r.k8s!, service: r.k8s!.service! };
    return new LoadBalancingExporter(settings, config, new K8sResolver(settings, k8s), 'k8s');
  },
};
