import type { ProcessorFactory } from '../../component/component.ts';
import { FILTER_TYPE, filterConfig, type FilterConfig } from './config.ts';

export const filterProcessorFactory: ProcessorFactory<FilterConfig> = {
  type: FILTER_TYPE,
  config: filterConfig,
  signals: ['traces'],
  async create(settings, config, next) {
    const { FilterProcessor } = await import('./processor.ts');
    return new FilterProcessor(settings, config, next);
  },
};
