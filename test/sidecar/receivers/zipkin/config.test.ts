// The zipkin receiver's config: collector field names, loopback default, protocols.http form.
import assert from 'node:assert/strict';
import { ConfigError, decodeOrThrow } from '../../../../sidecar/config/schema.ts';
import { httpSettings, zipkinReceiverConfig } from '../../../../sidecar/receivers/zipkin/config.ts';

const decode = (raw: unknown) => decodeOrThrow(zipkinReceiverConfig, raw, 'receivers.zipkin');

describe('zipkin receiver config', () => {
  it('defaults to 127.0.0.1:9411, a 20 MiB body limit and string tags', () => {
    const cfg = decode(null);
    assert.equal(cfg.parse_string_tags, false);
    assert.deepEqual(httpSettings(cfg), { http: { endpoint: '127.0.0.1:9411', max_request_body_size: 20 * 1024 * 1024 }, overridden: false });
  });

  it('takes the collector fields, as the embedded default writes them', () => {
    const cfg = decode({ endpoint: '127.0.0.1:9411', parse_string_tags: true, max_request_body_size: 65536 });
    assert.equal(cfg.parse_string_tags, true);
    assert.deepEqual(httpSettings(cfg).http, { endpoint: '127.0.0.1:9411', max_request_body_size: 65536 });
  });

  it('prefers protocols.http, as collectors since v0.128.0 do', () => {
    assert.deepEqual(httpSettings(decode({ protocols: { http: null } })).http, { endpoint: '127.0.0.1:9411', max_request_body_size: 20 * 1024 * 1024 });
    const both = httpSettings(decode({ endpoint: '127.0.0.1:1', protocols: { http: { endpoint: '127.0.0.1:2' } } }));
    assert.equal(both.http.endpoint, '127.0.0.1:2');
    assert.equal(both.overridden, true);
  });

  it('lists every error with its YAML path', () => {
    assert.throws(
      () => decode({ endpoint: 'nope', parse_string_tags: 'maybe', max_request_body_size: 10, cors: {} }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const text = err.errors.join('\n');
        assert.match(text, /receivers\.zipkin\.cors: unknown key/);
        assert.match(text, /receivers\.zipkin\.endpoint: /);
        assert.match(text, /receivers\.zipkin\.parse_string_tags: expected true or false/);
        assert.match(text, /receivers\.zipkin\.max_request_body_size: /);
        return true;
      },
    );
  });
});
