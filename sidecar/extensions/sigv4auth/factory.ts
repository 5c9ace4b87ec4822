import type { ExtensionFactory } from '../../component/component.ts';
import { sigv4authConfig, type Sigv4authConfig } from './config.ts';

export const sigv4authFactory: ExtensionFactory<Sigv4authConfig> = {
  type: 'sigv4auth',
  config: sigv4authConfig,
  signals: [],
  async create(settings, config) {
    const { Sigv4authExtension } = await import('./extension.ts');
    return new Sigv4authExtension(settings, config);
  },
};
