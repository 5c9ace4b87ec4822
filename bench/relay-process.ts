// The baseline: the fastest relay possible on the same stack. An OTLP gRPC server that forwards
// each request's bytes, unread, to the sink with one unary call, and answers when the sink has.
// No validation, no batching, no queue: what tracebridge adds is measured against this.
import * as grpc from '@grpc/grpc-js';
import { TRACE_EXPORT } from '../sidecar/receivers/otlp/grpc.ts';

const raw = (b: Buffer) => b;
const [listenPort, sinkPort] = process.argv.slice(2);
const client = new grpc.Client(`127.0.0.1:${sinkPort}`, grpc.credentials.createInsecure());
const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
server.addService(
  { Export: { path: TRACE_EXPORT, requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw } },
  {
    Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      client.makeUnaryRequest(TRACE_EXPORT, raw, raw, call.request, (err, res) => {
        if (err) cb({ code: grpc.status.UNAVAILABLE, details: err.message });
        else cb(null, res);
      });
    },
  },
);
server.bindAsync(`127.0.0.1:${listenPort}`, grpc.ServerCredentials.createInsecure(), (err) => {
  if (err) throw err;
  process.stdout.write('relay ready\n');
});
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
