import type { ProcessorFactory } from '../../component/component.ts';
import { attributesConfig, type AttributesConfig } from './config.ts';

export const attributesProcessorFactory: ProcessorFactory<AttributesConfig> = {
  type: 'attributes',
  config: attributesConfig,
  signals: ['traces'],
  async create(settings, config, next) {
    const { AttributesProcessor } = await import('./processor.ts');
    return new AttributesProcessor(settings, config, next);
  },
};
