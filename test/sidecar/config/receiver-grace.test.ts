// service.receiver_grace: how long the receivers stay open after SIGTERM. Its default comes from
// TRACEBRIDGE_SIDECAR_MODE, which the injector sets (classic: 2s, native or unset: 0); an explicit
// value wins; a mode the sidecar does not know is a config error naming the variable.
import assert from 'node:assert/strict';
import { ConfigError } from '../../../sidecar/config/schema.ts';
import { components } from '../../../sidecar/service/components.ts';
import { decodeSidecarConfig } from '../../../sidecar/config/service-config.ts';

const config = (service: Record<string, unknown> = {}) => ({
  receivers: { otlp: { protocols: { grpc: null } } },
  exporters: { debug: {} },
  service: { pipelines: { traces: { receivers: ['otlp'], exporters: ['debug'] } }, ...service },
});
const grace = (raw: unknown, env: NodeJS.ProcessEnv) => decodeSidecarConfig(raw, components, env).service.receiverGraceMs;

describe('service.receiver_grace', () => {
  it('defaults by sidecar mode: classic 2s, native 0, unset 0', () => {
    assert.equal(grace(config(), { TRACEBRIDGE_SIDECAR_MODE: 'classic' }), 2000);
    assert.equal(grace(config(), { TRACEBRIDGE_SIDECAR_MODE: 'native' }), 0);
    assert.equal(grace(config(), {}), 0);
  });

  it('an explicit value wins over the mode', () => {
    assert.equal(grace(config({ receiver_grace: '500ms' }), { TRACEBRIDGE_SIDECAR_MODE: 'classic' }), 500);
    assert.equal(grace(config({ receiver_grace: '3s' }), { TRACEBRIDGE_SIDECAR_MODE: 'native' }), 3000);
  });

  it('an unknown mode or a bad duration is a clear config error', () => {
    assert.throws(
      () => grace(config(), { TRACEBRIDGE_SIDECAR_MODE: 'sidecar' }),
      (err: unknown) => err instanceof ConfigError && err.errors.some((e) => /TRACEBRIDGE_SIDECAR_MODE.*expected classic or native, got "sidecar"/.test(e)),
    );
    assert.throws(
      () => grace(config({ receiver_grace: 'soon' }), {}),
      (err: unknown) => err instanceof ConfigError && err.errors.some((e) => e.startsWith('service.receiver_grace')),
    );
  });
});
