// The gRPC protocol pieces the receiver and the exporter's client share: each encoder against its
// decoder, so what the client sends the server reads back.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatGrpcTimeout, grpcCodeName, parseGrpcTimeout, percentDecodeGrpcMessage, percentEncodeGrpcMessage } from '../../../sidecar/net/grpc-protocol.ts';

describe('gRPC protocol pieces (net/grpc-protocol.ts)', () => {
  it('a grpc-timeout the client writes parses back to at least the time left, within the 8-digit limit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 45 }), (ms) => {
        const header = formatGrpcTimeout(ms);
        assert.match(header, /^\d{1,8}[HMSmun]$/);
        const back = parseGrpcTimeout(header);
        assert.equal(typeof back, 'number', header);
        assert.ok((back as number) >= Math.min(ms, 99_999_999 * 3_600_000), `${ms} ms -> ${header} -> ${back}`);
      }),
    );
  });

  it('a grpc-message the server percent-encodes decodes back to the same text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (text) => {
        const wire = percentEncodeGrpcMessage(text);
        assert.match(wire, /^[\x20-\x7e]*$/);
        assert.equal(percentDecodeGrpcMessage(wire), text);
      }),
    );
    assert.equal(percentEncodeGrpcMessage('a: 100% ✓'), 'a: 100%25 %E2%9C%93');
    assert.equal(percentDecodeGrpcMessage('bad %zz escape'), 'bad %zz escape');
  });

  it('names codes, and keeps a code outside the table as its number', () => {
    assert.equal(grpcCodeName(14), 'UNAVAILABLE');
    assert.equal(grpcCodeName(0), 'OK');
    assert.equal(grpcCodeName(99), '99');
  });
});
