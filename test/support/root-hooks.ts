// Mocha root hooks. nock patches node:http for the whole process as soon as any test file imports
// it (mocha imports every file before running any). Tests that do not mock must reach real
// servers, so nock starts inactive; files that mock activate it in `before` and restore it in
// `after` (see test/injector/kubernetes.test.ts).
import nock from 'nock';
import { loadComponentFactories } from '../../sidecar/service/components.ts';

// Tests decode configs and build services in-process with every component type; the CLI loads a
// config's lazily loaded factories itself, in-process callers load them first. Top-level, so the
// registries test support modules build at import time see them all.
await loadComponentFactories();

export const mochaHooks = {
  beforeAll(): void {
    nock.restore();
    nock.enableNetConnect();
  },
};
