// listen() binds every HTTP server of the project (receivers, extensions, the metrics endpoint, the
// injector). The health check retries it every second while another process holds its port, for
// as long as that lasts: a failed attempt must leave nothing behind on the server.
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { closeServer, listen } from '../../../sidecar/net/listen.ts';
import { freePort } from '../../support/otlp-sinks.ts';

describe('listen (sidecar/net/listen.ts)', () => {
  let blocker: Server | undefined;
  afterEach(() => blocker?.close());

  it('a bind that fails on a taken port leaves no listener on the server, however often it is retried, and the bind that works resolves', async () => {
    const port = await freePort();
    blocker = createServer();
    await new Promise<void>((r) => blocker!.listen(port, '127.0.0.1', r));
    const server = createHttpServer((_req, res) => res.end('ok'));
    // node:http's own (connection tracking), there before any bind.
    const [listening, error] = [server.listenerCount('listening'), server.listenerCount('error')];
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      for (let i = 0; i < 15; i++) {
        await assert.rejects(listen(server, `127.0.0.1:${port}`), /EADDRINUSE/);
        assert.equal(server.listenerCount('listening'), listening, `after failed bind ${i + 1}: 'listening' listeners`);
        assert.equal(server.listenerCount('error'), error, `after failed bind ${i + 1}: 'error' listeners`);
      }
      await new Promise<void>((r) => blocker!.close(() => r()));
      blocker = undefined;
      await listen(server, `127.0.0.1:${port}`);
      assert.equal(server.listenerCount('listening'), listening);
      assert.equal(server.listenerCount('error'), error);
      assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'ok');
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(warnings.map((w) => w.message), [], 'process warnings (MaxListenersExceededWarning)');
    } finally {
      process.off('warning', onWarning);
      await closeServer(server, 100);
    }
  });
});
