// One listening address of the otlp receiver, serving OTLP/gRPC and OTLP/HTTP alike: apps often
// build their exporter in code and take only the endpoint from the environment, so a gRPC exporter
// pointed at :4318 (or an HTTP one at :4317) must still get through.
//
// The listener is a node:http server whose own connection handling (its HTTP/1.1 parser) runs only
// after a connection's first bytes have been read (first-bytes.ts): HTTP/2 connections (the client
// preface) go to the receiver's gRPC server, which passes the requests on them that are not gRPC
// back to the OTLP/HTTP handler (grpc-h2.ts); all others are HTTP/1.1. Being the listener, the
// node:http server keeps what it only does for its own port: requestTimeout and headersTimeout
// checks, closeIdleConnections, closeAllConnections, and a close() that waits for every
// connection it accepted, of either protocol. It also sets TCP_NODELAY on every connection, gRPC
// ones included, as grpc-go and gRPC C-core do on theirs.
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { closeServer, listen } from '../../net/listen.ts';
import { FirstBytesReader } from './first-bytes.ts';
import type { OtlpGrpcHandler } from './grpc.ts';
import type { OtlpHttpHandler } from './http.ts';
// node:http by process.getBuiltinModule, not an ES import: importing it reads every export, and its
// WebSocket getter loads undici with node:tls and node:http2 (6.6 MiB of private memory at idle).
const { createServer } = process.getBuiltinModule('node:http');

export class OtlpEndpoint {
  readonly endpoint: string;
  private readonly server: Server;
  private readonly firstBytes: FirstBytesReader;

  constructor(endpoint: string, http: OtlpHttpHandler, grpc: OtlpGrpcHandler, firstBytesTimeoutMs?: number) {
    this.endpoint = endpoint;
    this.firstBytes = new FirstBytesReader(firstBytesTimeoutMs);
    this.server = createServer({ requestTimeout: 60_000, headersTimeout: 30_000 }, (req, res) => http.serve(req, res));
    // node:http's own 'connection' listeners attach its parser, which reads the socket natively
    // from then on: they run once the first bytes say HTTP/1.1, with those bytes put back and the
    // socket resumed (the put-back bytes are parsed before any read after them).
    const parse = this.server.listeners('connection') as ((socket: Socket) => void)[];
    this.server.removeAllListeners('connection');
    this.server.on('connection', (socket: Socket) =>
      this.firstBytes.read(socket, (kind, head) => {
        if (kind !== 'http1') {
          grpc.acceptConnection(socket, head, kind === 'http2-grpc-core');
          return;
        }
        socket.unshift(head);
        for (const listener of parse) listener.call(this.server, socket);
        socket.resume();
      }),
    );
  }

  start(): Promise<void> {
    return listen(this.server, this.endpoint);
  }

  get port(): number {
    return (this.server.address() as AddressInfo | null)?.port ?? 0;
  }

  /**
   * Stops listening and closes its connections: connections still being read at once, idle
   * HTTP/1.1 ones at once, busy ones after their request (all after `graceMs`). HTTP/2 sessions
   * are closed by the gRPC server's shutdown; this resolves once they are gone too.
   */
  async shutdown(graceMs = 5000): Promise<void> {
    this.firstBytes.destroyPending();
    await closeServer(this.server, graceMs);
  }
}
