// The verdict on a connection's first bytes (first-bytes.ts): HTTP/1.1 at the first byte that
// differs from the HTTP/2 preface, undefined while the bytes are a prefix of it, and after a whole
// preface the client's first SETTINGS frame telling gRPC C-core apart.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { classifyConnection } from '../../../../sidecar/receivers/otlp/first-bytes.ts';
import { FrameType, GRPC_CORE_SETTINGS, PREFACE, frame } from './testdata/raw-h2.ts';

const NODE_SETTINGS = Buffer.from('000300000064000400010000', 'hex');

describe('otlp receiver: first bytes of a connection', () => {
  it('HTTP/1.1 requests are known at their first or second byte', () => {
    for (const method of ['POST', 'GET', 'PUT', 'OPTIONS', 'HEAD', 'DELETE', 'PATCH', 'CONNECT']) {
      const line = Buffer.from(`${method} /v1/traces HTTP/1.1\r\n`);
      const at = line.findIndex((b, i) => b !== PREFACE[i]);
      assert.ok(at <= 1, method);
      assert.equal(classifyConnection(line.subarray(0, at + 1)), 'http1', method);
      if (at === 1) assert.equal(classifyConnection(line.subarray(0, 1)), undefined, `${method}: "P" may start a preface`);
    }
  });

  it('every proper prefix of the preface waits for more; a byte that differs anywhere in it is HTTP/1.1', () => {
    for (let n = 0; n < PREFACE.length; n++) {
      assert.equal(classifyConnection(PREFACE.subarray(0, n)), undefined, `${n} bytes`);
      const wrong = Buffer.from(PREFACE.subarray(0, n + 1));
      wrong[n] = wrong[n]! ^ 0x20;
      assert.equal(classifyConnection(wrong), 'http1', `byte ${n} changed`);
    }
  });

  it('after the preface, the first SETTINGS frame says whether the client is gRPC C-core', () => {
    const core = Buffer.concat([PREFACE, frame(FrameType.SETTINGS, 0, 0, GRPC_CORE_SETTINGS)]);
    const other = Buffer.concat([PREFACE, frame(FrameType.SETTINGS, 0, 0, NODE_SETTINGS)]);
    assert.equal(classifyConnection(core), 'http2-grpc-core');
    assert.equal(classifyConnection(other), 'http2');
    assert.equal(classifyConnection(core.subarray(0, core.length - 1)), undefined);
    assert.equal(classifyConnection(PREFACE), undefined);
    // Not a SETTINGS frame first: plain HTTP/2, left to nghttp2 to refuse.
    assert.equal(classifyConnection(Buffer.concat([PREFACE, frame(FrameType.PING, 0, 0, Buffer.alloc(8))])), 'http2');
    // A SETTINGS frame that never ends within 16 KiB is not waited for.
    const huge = Buffer.concat([PREFACE, frame(FrameType.SETTINGS, 0, 0, Buffer.alloc(20_000))]);
    assert.equal(classifyConnection(huge.subarray(0, 16 * 1024)), 'http2');
  });

  it('the verdict never changes as more bytes arrive (property)', () => {
    const starts = fc.oneof(
      fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
      fc.integer({ min: 0, max: PREFACE.length }).chain((n) => fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.concat([PREFACE.subarray(0, n), b]))),
      fc.constantFrom(Buffer.concat([PREFACE, frame(FrameType.SETTINGS, 0, 0, GRPC_CORE_SETTINGS)]), Buffer.concat([PREFACE, frame(FrameType.SETTINGS, 0, 0, NODE_SETTINGS)])),
    );
    fc.assert(
      fc.property(starts, fc.uint8Array({ maxLength: 40 }), (head, more) => {
        const first = classifyConnection(head);
        if (first === undefined) return;
        assert.equal(classifyConnection(Buffer.concat([head, more])), first);
      }),
    );
  });
});
