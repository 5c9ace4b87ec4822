import type { ProcessorFactory } from '../../component/component.ts';
import { SELF_FILTER_TYPE, selfFilterConfig, type SelfFilterConfig } from './config.ts';

export const selfFilterFactory: ProcessorFactory<SelfFilterConfig> = {
  type: SELF_FILTER_TYPE,
  config: selfFilterConfig,
  signals: ['traces'],
  async create(settings, config, next) {
    const { SelfFilterProcessor } = await import('./processor.ts');
    return new SelfFilterProcessor(settings, config, next);
  },
};
