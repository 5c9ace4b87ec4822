// Listening and closing for every HTTP server of the project: receivers, extensions, the metrics
// endpoint and the injector.
import type { Server, ServerResponse } from 'node:http';
import type { Server as NetServer } from 'node:net';
import { parseHostPort } from '../config/schema.ts';

/** Responses not yet finished, per server started by listen(): closeServer() ends their connections after them. */
const inFlight = new WeakMap<Server, Set<ServerResponse>>();

export function listen(server: Server, endpoint: string): Promise<void> {
  const hp = parseHostPort(endpoint);
  if (hp === undefined) return Promise.reject(new Error(`invalid endpoint ${endpoint}`));
  if (!inFlight.has(server)) {
    const responses = new Set<ServerResponse>();
    inFlight.set(server, responses);
    server.on('request', (_req, res: ServerResponse) => {
      responses.add(res);
      res.once('close', () => responses.delete(res));
    });
  }
  return bind(server, hp.port, hp.host);
}

/**
 * Binds `server` (any net.Server: HTTP/1.1, HTTP/2, plain TCP) to host:port, resolving once it
 * listens. Each attempt removes both of its listeners, whichever way it ends: the health check
 * retries a taken port every second for as long as it stays taken, and a 'listening' callback left
 * by each failed attempt had piled up (node's MaxListenersExceededWarning after ten, then one more
 * a second).
 */
export function bind(server: NetServer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/**
 * Stops accepting connections and resolves once every connection is closed, whatever the clients
 * do: idle HTTP/1.1 connections are closed at once; a request in flight finishes, and its response
 * says `Connection: close` (or, if its headers are out already, its connection is closed after it);
 * after `graceMs` every connection still open is cut. (node:http's close() alone lets a busy
 * keep-alive connection live on after its response until the client closes it.) Connections the
 * server handed to another protocol (HTTP/2) are that protocol's to close; this waits for them.
 */
export function closeServer(server: Server, graceMs: number): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
    for (const res of inFlight.get(server) ?? []) {
      if (!res.headersSent) res.shouldKeepAlive = false;
      else res.once('finish', () => setImmediate(() => server.closeIdleConnections()));
    }
  });
}
