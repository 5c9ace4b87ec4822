import type { ProcessorFactory } from '../../component/component.ts';
import { memoryLimiterConfig, type MemoryLimiterConfig } from './config.ts';

export const memoryLimiterFactory: ProcessorFactory<MemoryLimiterConfig> = {
  type: 'memory_limiter',
  config: memoryLimiterConfig,
  signals: ['traces'],
  async create(settings, config, next) {
    const [{ MemoryLimiterProcessor }, { availableMemory, collectGarbage, computeLimits, forcedGcUnavailable, privateMemoryMeasure }, { releasedMemory }] = await Promise.all([
      import('./processor.ts'),
      import('./memory.ts'),
      import('../../runtime/released-memory.ts'),
    ]);
    const measure = privateMemoryMeasure();
    const available = availableMemory();
    const limits = computeLimits(config, Math.max(0, available.bytes - measure.reserved));
    const noGc = forcedGcUnavailable();
    if (noGc !== undefined) settings.logger.warn({ reason: noGc }, 'memory_limiter cannot force garbage collections: memory held by dead buffers is freed only when V8 collects on its own');
    return new MemoryLimiterProcessor(settings, config, next, limits, measure, noGc === undefined ? collectGarbage : () => undefined, releasedMemory, available);
  },
};
