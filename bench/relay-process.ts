// The baseline: the fastest relay possible on the same stack as the sidecar. An OTLP gRPC server
// (the sidecar's own node:http2 server) that forwards each request's bytes, unread, to the sink
// with one unary call on the sidecar's own gRPC client (the otlp exporter's) and answers at once
// (as the sidecar answers once data is accepted, not delivered). No validation, no batching, no
// queue, no retry: what tracebridge adds is measured against this. Delivery is checked at the sink.
// With `-` for the sink port it forwards nothing: the ack-only floor, what receiving and answering
// alone cost on node:http2 (no sidecar can cost less per request on this stack).
import { GrpcH2Client } from '../sidecar/exporters/otlp/grpc-client.ts';
import { GrpcH2Server } from '../sidecar/receivers/otlp/grpc-h2.ts';
import { TRACE_EXPORT } from '../sidecar/receivers/otlp/grpc.ts';

const [listenPort, sinkPort] = process.argv.slice(2);
const client = sinkPort === '-' ? undefined : new GrpcH2Client({ target: `127.0.0.1:${sinkPort}`, userAgent: 'tracebridge-bench-relay', compression: 'none' });
const server = new GrpcH2Server({ maxMessageBytes: 64 * 1024 * 1024 });
const EMPTY = Buffer.alloc(0);
server.addMethod(TRACE_EXPORT, (request) => {
  client?.call(TRACE_EXPORT, request, 30_000).catch(() => undefined);
  return Promise.resolve(EMPTY);
});
await server.listen(`127.0.0.1:${listenPort}`);
process.stdout.write('relay ready\n');
process.on('SIGTERM', () => {
  void server.close(1000).then(() => process.exit(0));
});
