import type { ExporterFactory } from '../../component/component.ts';
import { otlpExporterConfig, type OtlpExporterConfig } from './config.ts';

export const otlpExporterFactory: ExporterFactory<OtlpExporterConfig> = {
  type: 'otlp',
  config: otlpExporterConfig,
  signals: ['traces', 'metrics', 'logs'],
  async create(settings, config) {
    const { OtlpExporter } = await import('./exporter.ts');
    return new OtlpExporter(settings, config);
  },
};
