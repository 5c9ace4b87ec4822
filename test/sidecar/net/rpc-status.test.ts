// google.rpc.Status and RetryInfo (net/rpc-status.ts): what the receivers write, protobufjs reads
// as the .proto declares it, and the exporters' reader reads back.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { encodeRpcStatus, readRpcStatus, RETRY_INFO_TYPE_URL, retryInfoDelayMs, retryInfoDetail } from '../../../sidecar/net/rpc-status.ts';

const RPC = protobuf.parse(
  `
  syntax = "proto3";
  package google.rpc;
  message Any { string type_url = 1; bytes value = 2; }
  message Duration { int64 seconds = 1; int32 nanos = 2; }
  message Status { int32 code = 1; string message = 2; repeated Any details = 3; }
  message RetryInfo { Duration retry_delay = 1; }
`,
  { keepCase: true },
).root;
const Status = RPC.lookupType('google.rpc.Status');
const RetryInfo = RPC.lookupType('google.rpc.RetryInfo');

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
