// A child process: an OTLP gRPC trace sink that counts spans (walking the bytes) and answers OK,
// on the sidecar's node:http2 gRPC server (cheap, so the sink's core is not the bottleneck).
// Reports its port, and span counts on request, over IPC.
import { countSpans } from '../sidecar/pdata/wire.ts';
import { GrpcH2Server } from '../sidecar/receivers/otlp/grpc-h2.ts';
import { TRACE_EXPORT } from '../sidecar/receivers/otlp/grpc.ts';

let spans = 0;
let requests = 0;
const EMPTY = Buffer.alloc(0);
// Flow-control windows as a collector's grow them (grpc-go's bandwidth-delay estimator, up to 16
// MiB): with node's 65,535-byte default, the exports of 8 MB batches waited on window updates
// from this process, and at 50k Zipkin spans/s the sidecar's sending queue filled with bytes in
// flight while neither core was busy.
const server = new GrpcH2Server({ maxMessageBytes: 64 * 1024 * 1024, flowControlWindowBytes: 16 * 1024 * 1024 });
server.addMethod(TRACE_EXPORT, (request) => {
  spans += countSpans(request);
  requests++;
  return Promise.resolve(EMPTY);
});
const port = await server.listen('127.0.0.1:0');
process.send?.({ port });
process.on('message', (m: { cmd: string }) => {
  if (m.cmd === 'count') process.send?.({ spans, requests });
  if (m.cmd === 'exit') void server.close(500).then(() => process.exit(0));
});
