// google.rpc.Status and google.rpc.RetryInfo as their .proto files declare them, read with
// protobufjs: tests check what the sidecar writes with a decoder that is not its own.
import protobuf from 'protobufjs';

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

export const RpcStatusType = RPC.lookupType('google.rpc.Status');
export const RetryInfoType = RPC.lookupType('google.rpc.RetryInfo');
