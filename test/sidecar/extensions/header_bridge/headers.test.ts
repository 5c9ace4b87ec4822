// Hop-by-hop handling (RFC 9110 §7.6.1), Host, Via and loop detection in the header walker.
import assert from 'node:assert/strict';
import { prepareRequestHeaders, prepareResponseHeaders } from '../../../../sidecar/extensions/header_bridge/headers.ts';
import { cryptoIdSource } from '../../../../sidecar/extensions/header_bridge/ids.ts';
import type { BridgeRules } from '../../../../sidecar/extensions/header_bridge/translate.ts';

const RULES: BridgeRules = { formats: ['traceparent', 'xray', 'b3'], primary: 'traceparent', b3Single: undefined, startTraces: false, samplingRatio: 1 };
const ids = cryptoIdSource();
const names = (flat: string[]) => flat.filter((_, i) => i % 2 === 0);

describe('header_bridge headers', () => {
  it('drops Connection, the headers it names (any case, several lines), Keep-Alive, TE, Trailer, Transfer-Encoding, Upgrade and Proxy-*', () => {
    const raw = [
      'Host', 'api.internal:8080',
      'Connection', 'keep-alive, X-Hop',
      'connection', ' x-other ,',
      'X-HOP', '1',
      'x-other', '2',
      'Keep-Alive', 'timeout=5',
      'TE', 'trailers',
      'Trailer', 'X-Checksum',
      'Transfer-Encoding', 'chunked',
      'Upgrade', 'h2c',
      'Proxy-Connection', 'keep-alive',
      'Proxy-Authorization', 'Basic eA==',
      'Accept', '*/*',
      'Set-Cookie', 'a=1',
      'Set-Cookie', 'b=2',
    ];
    const p = prepareRequestHeaders(raw, RULES, ids, 'tracebridge-x');
    assert.deepEqual(p.headers, ['Host', 'api.internal:8080', 'Accept', '*/*', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'Via', '1.1 tracebridge-x']);
    assert.equal(p.host, 'api.internal:8080');
    assert.equal(p.looped, false);
  });

  it('keeps Upgrade on the upgrade path and re-declares Connection: Upgrade', () => {
    const p = prepareRequestHeaders(['Host', 'h', 'Connection', 'Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Key', 'k'], RULES, ids, 'v', true);
    assert.deepEqual(p.headers, ['Host', 'h', 'Sec-WebSocket-Key', 'k', 'Connection', 'Upgrade', 'Upgrade', 'websocket', 'Via', '1.1 v']);
  });

  it('appends Via after any received Via, and sees its own pseudonym as a loop (exact entry, not a prefix)', () => {
    const p = prepareRequestHeaders(['Via', '1.0 fred, 1.1 tracebridge-ab'], RULES, ids, 'tracebridge-ab-r0');
    assert.deepEqual(p.headers, ['Via', '1.0 fred, 1.1 tracebridge-ab', 'Via', '1.1 tracebridge-ab-r0']);
    assert.equal(p.looped, false);
    assert.equal(prepareRequestHeaders(['Via', '1.0 fred, 1.1 tracebridge-ab'], RULES, ids, 'tracebridge-ab').looped, true);
    assert.equal(prepareRequestHeaders(['via', '1.1\ttracebridge-ab (comment)'], RULES, ids, 'tracebridge-ab').looped, true);
  });

  it('responses: hop-by-hop dropped, Set-Cookie pairs and Proxy-Status kept, Via added', () => {
    const out = prepareResponseHeaders(
      ['Content-Type', 'text/plain', 'Connection', 'keep-alive, X-Private', 'X-Private', 's', 'Keep-Alive', 'timeout=5', 'Transfer-Encoding', 'chunked', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'Proxy-Status', 'envoy; error=x', 'Proxy-Authenticate', 'Basic'],
      'v',
    );
    assert.deepEqual(names(out), ['Content-Type', 'Set-Cookie', 'Set-Cookie', 'Proxy-Status', 'Via']);
  });
});
