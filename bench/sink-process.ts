// A child process: an OTLP gRPC trace sink that counts spans (walking the bytes) and answers OK.
// Prints its port on stdout, answers "count" requests over IPC.
import * as grpc from '@grpc/grpc-js';
import { countSpans } from '../sidecar/pdata/wire.ts';
import { TRACE_EXPORT } from '../sidecar/receivers/otlp/grpc.ts';

const raw = (b: Buffer) => b;
let spans = 0;
let requests = 0;
const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
server.addService(
  { Export: { path: TRACE_EXPORT, requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw } },
  {
    Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      spans += countSpans(call.request);
      requests++;
      cb(null, Buffer.alloc(0));
    },
  },
);
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  process.send?.({ port });
});
process.on('message', (m: { cmd: string }) => {
  if (m.cmd === 'count') process.send?.({ spans, requests });
  if (m.cmd === 'exit') server.tryShutdown(() => process.exit(0));
});
