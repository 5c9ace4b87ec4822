import type { ProcessorFactory } from '../../component/component.ts';
import { tracecontextConfig, type TracecontextConfig } from './config.ts';

export const tracecontextProcessorFactory: ProcessorFactory<TracecontextConfig> = {
  type: 'tracecontext',
  config: tracecontextConfig,
  signals: ['traces'],
  async create(settings, config, next) {
    const { TracecontextProcessor } = await import('./processor.ts');
    return new TracecontextProcessor(settings, config, next);
  },
};
