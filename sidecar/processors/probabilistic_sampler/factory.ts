import type { ProcessorFactory } from '../../component/component.ts';
import { probabilisticSamplerConfig, type ProbabilisticSamplerConfig } from './config.ts';

export const probabilisticSamplerFactory: ProcessorFactory<ProbabilisticSamplerConfig> = {
  type: 'probabilistic_sampler',
  config: probabilisticSamplerConfig,
  signals: ['traces'],
  async create(settings, config, next) {
    const { ProbabilisticSamplerProcessor } = await import('./processor.ts');
    return new ProbabilisticSamplerProcessor(settings, config, next);
  },
};
