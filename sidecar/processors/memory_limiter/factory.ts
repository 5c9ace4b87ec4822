import type { ProcessorFactory } from '../../component/component.ts';
import { memoryLimiterConfig, type MemoryLimiterConfig } from './config.ts';

export const memoryLimiterFactory: ProcessorFactory<MemoryLimiterConfig> = {
  type: 'memory_limiter',
  config: memoryLimiterConfig,
  signals: ['traces'],
  async create(settings, config, next) {
    const [{ MemoryLimiterProcessor }, { availableMemory, computeLimits, privateMemoryMeasure }] = await Promise.all([import('./processor.ts'), import('./memory.ts')]);
    const available = availableMemory();
    const limits = computeLimits(config, available.bytes);
    settings.logger.debug({ available_bytes: available.bytes, source: available.source, file: available.file }, 'memory available to the sidecar');
    return new MemoryLimiterProcessor(settings, config, next, limits, privateMemoryMeasure());
  },
};
