import type { ExporterFactory } from '../../component/component.ts';
import { otlphttpExporterConfig, type OtlphttpExporterConfig } from './config.ts';

export const otlphttpExporterFactory: ExporterFactory<OtlphttpExporterConfig> = {
  type: 'otlphttp',
  config: otlphttpExporterConfig,
  signals: ['traces', 'metrics', 'logs'],
  async create(settings, config) {
    const { OtlphttpExporter } = await import('./exporter.ts');
    return new OtlphttpExporter(settings, config);
  },
};
