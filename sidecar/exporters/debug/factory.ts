import type { ExporterFactory } from '../../component/component.ts';
import { debugExporterConfig, type DebugExporterConfig } from './config.ts';

export const debugExporterFactory: ExporterFactory<DebugExporterConfig> = {
  type: 'debug',
  config: debugExporterConfig,
  signals: ['traces', 'metrics', 'logs'],
  async create(settings, config) {
    const { DebugExporter } = await import('./exporter.ts');
    return new DebugExporter(settings, config);
  },
};
