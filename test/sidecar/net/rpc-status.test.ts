// google.rpc.Status and RetryInfo (net/rpc-status.ts): what the receivers write, protobufjs reads
// as the .proto declares it, and the exporters' reader reads back.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeRpcStatus, readRpcStatus, RETRY_INFO_TYPE_URL, retryInfoDelayMs, retryInfoDetail } from '../../../sidecar/net/rpc-status.ts';
import { RetryInfoType as RetryInfo, RpcStatusType as Status } from '../../support/rpc-status-proto.ts';

describe('google.rpc.Status (net/rpc-status.ts)', () => {
  it('a status with a RetryInfo reads back the same, by protobufjs and by the exporters', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 16 }), fc.string({ unit: 'grapheme', maxLength: 60 }), fc.integer({ min: 0, max: 10 ** 9 }), (code, message, delayMs) => {
        const bytes = encodeRpcStatus({ code, message, details: [retryInfoDetail(delayMs)] });
        const pb = Status.toObject(Status.decode(bytes), { longs: Number, defaults: true }) as { code: number; message: string; details: { type_url: string; value: Uint8Array }[] };
        assert.equal(pb.code, code);
        assert.equal(pb.message, message);
        assert.equal(pb.details.length, 1);
        assert.equal(pb.details[0]!.type_url, RETRY_INFO_TYPE_URL);
        const info = RetryInfo.toObject(RetryInfo.decode(pb.details[0]!.value), { longs: Number, defaults: true }) as { retry_delay?: { seconds: number; nanos: number } };
        assert.equal((info.retry_delay?.seconds ?? 0) * 1000 + (info.retry_delay?.nanos ?? 0) / 1e6, delayMs);
        const back = readRpcStatus(bytes);
        assert.ok(back !== undefined);
        assert.equal(back.code, code);
        assert.equal(back.message, message);
        assert.equal(retryInfoDelayMs(back), delayMs);
      }),
    );
  });

  it('reads a status protobufjs wrote, and none without a RetryInfo has a delay', () => {
    const bytes = Status.encode(Status.fromObject({ code: 14, message: 'unavailable', details: [{ type_url: 'type.googleapis.com/google.rpc.DebugInfo', value: Buffer.from([10, 1, 120]) }] })).finish();
    const st = readRpcStatus(bytes);
    assert.deepEqual({ code: st?.code, message: st?.message, types: st?.details.map((d) => d.typeUrl) }, { code: 14, message: 'unavailable', types: ['type.googleapis.com/google.rpc.DebugInfo'] });
    assert.equal(retryInfoDelayMs(st!), undefined);
    assert.equal(readRpcStatus(Buffer.from([0x0a, 0x05, 0x61])), undefined, 'a truncated status is not one');
  });
});
