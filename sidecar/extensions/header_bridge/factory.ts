import type { ExtensionFactory } from '../../component/component.ts';
import { headerBridgeConfig, type HeaderBridgeConfig } from './config.ts';

export const headerBridgeFactory: ExtensionFactory<HeaderBridgeConfig> = {
  type: 'header_bridge',
  config: headerBridgeConfig,
  signals: [],
  async create(settings, config) {
    const { HeaderBridgeExtension } = await import('./extension.ts');
    return new HeaderBridgeExtension(settings, config);
  },
};
