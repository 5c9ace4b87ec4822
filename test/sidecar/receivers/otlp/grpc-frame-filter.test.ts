// The idle-RST_STREAM scanner on its own: frames split across reads at every byte, and the
// C-core detection on the SETTINGS gRPC C-core really sends.
import assert from 'node:assert/strict';
import { IdleResetScanner, isGrpcCoreClient } from '../../../../sidecar/receivers/otlp/h2-frame-filter.ts';
import { FrameType, GRPC_CORE_SETTINGS, PREFACE, dataFrame, frame, grpcMessage, grpcRequestHeaders, headersFrame, rstStreamFrame } from './testdata/raw-h2.ts';

function run(chunks: Buffer[]): { out: Buffer; dropped: number } {
  const scanner = new IdleResetScanner();
  const parts: Buffer[] = [];
  for (const c of chunks) scanner.scan(c, (p) => parts.push(p));
  return { out: Buffer.concat(parts), dropped: scanner.dropped };
}

describe('otlp receiver gRPC idle-RST_STREAM filter', () => {
  const kept = [
    PREFACE,
    frame(FrameType.SETTINGS, 0, 0, GRPC_CORE_SETTINGS),
    headersFrame(1, grpcRequestHeaders('/a/b')),
    dataFrame(1, grpcMessage(Buffer.alloc(40, 1))),
    rstStreamFrame(1), // an open stream: nghttp2's business
    headersFrame(5, grpcRequestHeaders('/a/b')),
    rstStreamFrame(3), // below the highest opened: closed, not idle
    dataFrame(5, grpcMessage(Buffer.alloc(3)), true),
  ];
  const idle = [rstStreamFrame(7), rstStreamFrame(2), rstStreamFrame(99)];
  const input = Buffer.concat([kept[0]!, kept[1]!, kept[2]!, idle[0]!, kept[3]!, kept[4]!, idle[1]!, kept[5]!, kept[6]!, idle[2]!, kept[7]!]);
  const expected = Buffer.concat(kept);

  it('drops only RST_STREAM for idle streams, whole reads', () => {
    assert.deepEqual(run([input]), { out: expected, dropped: 3 });
  });

  it('gives the same bytes however the reads split the frames (every split point, and 1-byte reads)', () => {
    for (let i = 1; i < input.length; i++) {
      for (const j of [i + 1, i + 7, i + 13]) {
        if (j >= input.length) continue;
        const r = run([input.subarray(0, i), input.subarray(i, j), input.subarray(j)]);
        assert.ok(r.out.equals(expected), `split at ${i}/${j}`);
        assert.equal(r.dropped, 3);
      }
    }
    const bytes = Array.from({ length: input.length }, (_, i) => input.subarray(i, i + 1));
    assert.ok(run(bytes).out.equals(expected));
  });

  it('passes an unsplit read on as the same buffer (no copy)', () => {
    const scanner = new IdleResetScanner();
    const parts: Buffer[] = [];
    const read = Buffer.concat(kept.slice(0, 4));
    scanner.scan(read, (p) => parts.push(p));
    assert.equal(parts.length, 1);
    assert.equal(parts[0], read);
  });

  it('tells gRPC C-core by its SETTINGS, others not, and waits for a whole SETTINGS frame', () => {
    const core = Buffer.concat([PREFACE, frame(FrameType.SETTINGS, 0, 0, GRPC_CORE_SETTINGS)]);
    assert.equal(isGrpcCoreClient(core), true);
    assert.equal(isGrpcCoreClient(core.subarray(0, core.length - 1)), undefined);
    assert.equal(isGrpcCoreClient(core.subarray(0, 10)), undefined);
    const plain = Buffer.concat([PREFACE, frame(FrameType.SETTINGS, 0, 0, Buffer.from('000200000000', 'hex'))]);
    assert.equal(isGrpcCoreClient(plain), false);
    assert.equal(isGrpcCoreClient(Buffer.from('GET / HTTP/1.1\r\n')), false);
  });
});
