// The header_bridge config: defaults, the loopback rules (never an open proxy), reverse routes,
// formats/primary consistency, and every error reported at once with its YAML path.
import assert from 'node:assert/strict';
import { ConfigErrors } from '../../../../sidecar/config/schema.ts';
import { headerBridgeConfig } from '../../../../sidecar/extensions/header_bridge/config.ts';

function decode(raw: unknown) {
  const errors = new ConfigErrors();
  const cfg = headerBridgeConfig.decode(raw, 'extensions.header_bridge', errors);
  return { cfg, errors: errors.list() };
}

describe('header_bridge config', () => {
  it('defaults: loopback forward proxy on 13128, all three formats, traceparent primary, no started traces', () => {
    const { cfg, errors } = decode(null);
    assert.deepEqual(errors, []);
    assert.deepEqual(cfg, {
      endpoint: '127.0.0.1:13128',
      reverse: [],
      formats: ['traceparent', 'xray', 'b3'],
      primary: 'traceparent',
      start_traces: false,
      sampling_ratio: 1,
      max_header_bytes: 32768,
      max_connections: 1024,
      connect_timeout: 5000,
      response_header_timeout: 60000,
      idle_timeout: 120000,
    });
  });

  it('accepts a full config with reverse routes (pod-facing listen, loopback target)', () => {
    const { cfg, errors } = decode({
      endpoint: '[::1]:13128',
      reverse: [{ endpoint: '0.0.0.0:8081', target: '127.0.0.1:8080' }, { endpoint: '127.0.0.1:9091', target: '[::1]:9090' }],
      formats: ['xray', 'traceparent'],
      primary: 'xray',
      b3_single: false,
      start_traces: true,
      sampling_ratio: 0.25,
      connect_timeout: '2s',
      response_header_timeout: '30s',
      idle_timeout: '5m',
    });
    assert.deepEqual(errors, []);
    assert.equal(cfg.b3_single, false);
    assert.equal(cfg.idle_timeout, 300_000);
    assert.equal(cfg.reverse.length, 2);
  });

  it('refuses a forward endpoint off loopback, and names instead of addresses', () => {
    for (const endpoint of ['0.0.0.0:13128', ':13128', '10.0.0.7:13128', 'localhost:13128', '[::]:13128']) {
      const { errors } = decode({ endpoint });
      assert.equal(errors.length, 1, endpoint);
      assert.match(errors[0]!, /^extensions\.header_bridge\.endpoint: must be a loopback address/);
    }
  });

  it('lists every mistake at once, each with its path', () => {
    const { errors } = decode({
      reverse: [{ endpoint: '0.0.0.0:8081', target: '10.0.0.9:8080' }, { target: '127.0.0.1:1' }, { endpoint: '127.0.0.1:13128', target: '127.0.0.1:13128' }],
      formats: ['b3', 'b3', 'zipkin'],
      primary: 'xray',
      sampling_ratio: 2,
      idle_timeout: 10,
      typo: 1,
    });
    assert.deepEqual(errors, [
      'extensions.header_bridge.typo: unknown key (known keys: endpoint, reverse, formats, primary, b3_single, start_traces, sampling_ratio, max_header_bytes, max_connections, connect_timeout, response_header_timeout, idle_timeout)',
      'extensions.header_bridge.reverse[0].target: must be a loopback address (127.0.0.1 or [::1]; names such as localhost are not accepted), got "10.0.0.9:8080"',
      'extensions.header_bridge.reverse[1].endpoint: required',
      'extensions.header_bridge.formats[2]: expected one of traceparent, xray, b3, got "zipkin"',
      'extensions.header_bridge.sampling_ratio: expected a number between 0 and 1, got 2',
      'extensions.header_bridge.idle_timeout: expected a duration such as 200ms, 5s or 1m30s, got 10',
      'extensions.header_bridge.formats: lists a format twice',
      'extensions.header_bridge.primary: "xray" is not in formats (b3, b3)',
      'extensions.header_bridge.reverse[2].endpoint: same address as endpoint (127.0.0.1:13128)',
      'extensions.header_bridge.reverse[2].target: "127.0.0.1:13128" is one of the bridge\'s own listen addresses: requests would loop',
    ]);
  });

  it('refuses an empty format list', () => {
    assert.deepEqual(decode({ formats: [] }).errors, ['extensions.header_bridge.formats: must name at least one of traceparent, xray, b3']);
  });
});
