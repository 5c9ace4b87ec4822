import type { ProcessorFactory } from '../../component/component.ts';
import { resourceConfig, type ResourceConfig } from './config.ts';

export const resourceProcessorFactory: ProcessorFactory<ResourceConfig> = {
  type: 'resource',
  config: resourceConfig,
  signals: ['traces'],
  async create(settings, config, next) {
    const { ResourceProcessor } = await import('./processor.ts');
    return new ResourceProcessor(settings, config, next);
  },
};
