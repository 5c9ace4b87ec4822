// Upstream failures → 502 / 504 with a message and an RFC 9209 Proxy-Status error type.
import assert from 'node:assert/strict';
import { classifyUpstreamError, UpstreamTimeoutError } from '../../../../sidecar/extensions/header_bridge/upstream-errors.ts';

const err = (code: string) => Object.assign(new Error(code), { code });

describe('header_bridge upstream errors', () => {
  it('maps socket errors and the bridge timeouts', () => {
    const table: [Error, number, string, string][] = [
      [err('ECONNREFUSED'), 502, 'connect_refused', 'connection_refused'],
      [err('ECONNRESET'), 502, 'reset', 'connection_terminated'],
      [err('EPIPE'), 502, 'reset', 'connection_terminated'],
      [err('ENOTFOUND'), 502, 'dns', 'dns_error'],
      [err('EHOSTUNREACH'), 502, 'unreachable', 'destination_unavailable'],
      [err('HPE_INVALID_CONSTANT'), 502, 'other', 'http_protocol_error'],
      [err('HPE_HEADER_OVERFLOW'), 502, 'other', 'http_response_header_section_size'],
      [err('ETIMEDOUT'), 504, 'timeout', 'connection_timeout'],
      [new UpstreamTimeoutError('connect', 5000), 504, 'timeout', 'connection_timeout'],
      [new UpstreamTimeoutError('response headers', 60000), 504, 'timeout', 'http_response_timeout'],
      [new UpstreamTimeoutError('idle', 1000), 504, 'timeout', 'connection_read_timeout'],
      [new Error('weird'), 502, 'other', 'proxy_internal_error'],
    ];
    for (const [e, status, reason, proxyStatus] of table) {
      const f = classifyUpstreamError(e, 'svc:80');
      assert.deepEqual([f.status, f.reason, f.proxyStatus], [status, reason, proxyStatus], e.message);
      assert.match(f.message, /svc:80/);
    }
  });
});
