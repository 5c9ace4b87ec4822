import type { ReceiverFactory } from '../../component/component.ts';
import { otlpReceiverConfig, type OtlpReceiverConfig } from './config.ts';

export const otlpReceiverFactory: ReceiverFactory<OtlpReceiverConfig> = {
  type: 'otlp',
  config: otlpReceiverConfig,
  signals: ['traces', 'metrics', 'logs'],
  async create(settings, config, next) {
    const { OtlpReceiver } = await import('./receiver.ts');
    return new OtlpReceiver(settings, config, next);
  },
};
