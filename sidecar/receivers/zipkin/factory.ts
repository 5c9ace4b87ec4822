import type { ReceiverFactory } from '../../component/component.ts';
import { zipkinReceiverConfig, type ZipkinReceiverConfig } from './config.ts';

export const zipkinReceiverFactory: ReceiverFactory<ZipkinReceiverConfig> = {
  type: 'zipkin',
  config: zipkinReceiverConfig,
  signals: ['traces'],
  async create(settings, config, next) {
    const { ZipkinReceiver } = await import('./receiver.ts');
    return new ZipkinReceiver(settings, config, next);
  },
};
