import type { ProcessorFactory } from '../../component/component.ts';
import { resourceDetectionConfig, type ResourceDetectionConfig } from './config.ts';

export const resourceDetectionFactory: ProcessorFactory<ResourceDetectionConfig> = {
  type: 'resourcedetection',
  config: resourceDetectionConfig,
  signals: ['traces'],
  async create(settings, config, next) {
    const [{ ResourceDetectionProcessor }, { detectEnv }] = await Promise.all([import('./processor.ts'), import('./env-detector.ts')]);
    // The environment is read here, outside the processor, so the processor is a pure function of its inputs.
    const detected = detectEnv(process.env);
    if (detected.problem !== undefined) settings.logger.warn(detected.problem);
    settings.logger.info({ detectors: config.detectors, attributes: [...detected.attributes.keys()], override: config.override }, 'resource detection');
    return new ResourceDetectionProcessor(settings, config.override, detected.attributes, next);
  },
};
