import type { ReceiverFactory } from '../../component/component.ts';
import { awsXrayReceiverConfig, type AwsXrayReceiverConfig } from './config.ts';

export const awsXrayReceiverFactory: ReceiverFactory<AwsXrayReceiverConfig> = {
  type: 'awsxray',
  config: awsXrayReceiverConfig,
  signals: ['traces'],
  async create(settings, config, next) {
    const { AwsXrayReceiver } = await import('./receiver.ts');
    // The environment is read here, at the edge, so the receiver itself is testable with any env.
    return new AwsXrayReceiver(settings, config, next, { env: process.env });
  },
};
