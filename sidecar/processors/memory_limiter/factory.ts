import type { ProcessorFactory } from '../../component/component.ts';
import { memoryLimiterConfig, type MemoryLimiterConfig } from './config.ts';

export const memoryLimiterFactory: ProcessorFactory<MemoryLimiterConfig> = {
  type: 'memory_limiter',
  config: memoryLimiterConfig,
  signals: ['traces'],
  async create(settings, config, next) {
    const [{ MemoryLimiterProcessor }, { availableMemory, collectGarbage, computeLimits, privateMemoryMeasure }] = await Promise.all([import('./processor.ts'), import('./memory.ts')]);
    const measure = privateMemoryMeasure();
    const available = availableMemory();
    const limits = computeLimits(config, Math.max(0, available.bytes - measure.reserved));
    return new MemoryLimiterProcessor(settings, config, next, limits, measure, collectGarbage, available);
  },
};
