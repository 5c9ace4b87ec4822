import type { ExtensionFactory } from '../../component/component.ts';
import { healthCheckConfig, type HealthCheckConfig } from './config.ts';

export const healthCheckFactory: ExtensionFactory<HealthCheckConfig> = {
  type: 'health_check',
  config: healthCheckConfig,
  signals: [],
  async create(settings, config) {
    const { HealthCheckExtension } = await import('./extension.ts');
    return new HealthCheckExtension(settings, config);
  },
};
