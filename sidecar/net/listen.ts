// Listening and closing for every HTTP server of the project: receivers, extensions, the metrics
// endpoint and the injector.
import type { Server } from 'node:http';
import { parseHostPort } from '../config/schema.ts';

export function listen(server: Server, endpoint: string): Promise<void> {
  const hp = parseHostPort(endpoint);
  if (hp === undefined) return Promise.reject(new Error(`invalid endpoint ${endpoint}`));
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(hp.port, hp.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Stops accepting connections, lets in-flight requests finish, then cuts what is left after `graceMs`. */
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
  });
}
