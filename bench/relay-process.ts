// The baseline: the fastest relay possible on the same stack as the sidecar. An OTLP gRPC server
// (the sidecar's own node:http2 server) that forwards each request's bytes, unread, to the sink
// with one unary call and answers at once (as the sidecar answers once data is accepted, not
// delivered). No validation, no batching, no queue, no retry: what tracebridge adds is measured
// against this. Delivery is checked at the sink.
import * as grpc from '@grpc/grpc-js';
import { GrpcH2Server } from '../sidecar/receivers/otlp/grpc-h2.ts';
import { TRACE_EXPORT } from '../sidecar/receivers/otlp/grpc.ts';

const raw = (b: Buffer) => b;
const [listenPort, sinkPort] = process.argv.slice(2);
const client = new grpc.Client(`127.0.0.1:${sinkPort}`, grpc.credentials.createInsecure());
const server = new GrpcH2Server({ maxMessageBytes: 64 * 1024 * 1024 });
const EMPTY = Buffer.alloc(0);
server.addMethod(TRACE_EXPORT, (request) => {
  client.makeUnaryRequest(TRACE_EXPORT, raw, raw, request, () => undefined);
  return Promise.resolve(EMPTY);
});
await server.listen(`127.0.0.1:${listenPort}`);
process.stdout.write('relay ready\n');
process.on('SIGTERM', () => {
  void server.close(1000).then(() => process.exit(0));
});
