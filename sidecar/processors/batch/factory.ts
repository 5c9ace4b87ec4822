import type { ProcessorFactory } from '../../component/component.ts';
import { batchProcessorConfig, type BatchProcessorConfig } from './config.ts';

export const batchProcessorFactory: ProcessorFactory<BatchProcessorConfig> = {
  type: 'batch',
  config: batchProcessorConfig,
  signals: ['traces'],
  async create(settings, config, next) {
    const { BatchProcessor } = await import('./processor.ts');
    return new BatchProcessor(settings, config, next);
  },
};
