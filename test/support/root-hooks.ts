// Mocha root hooks. nock patches node:http for the whole process as soon as any test file imports
// it (mocha imports every file before running any). Tests that do not mock must reach real
// servers, so nock starts inactive; files that mock activate it in `before` and restore it in
// `after` (see test/injector/kubernetes.test.ts).
import nock from 'nock';

export const mochaHooks = {
  beforeAll(): void {
    nock.restore();
    nock.enableNetConnect();
  },
};
