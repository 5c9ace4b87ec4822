// The bridge end to end: the real worker, real clients and real servers on port 0. Forward proxy
// (HTTP_PROXY semantics), reverse mode, CONNECT, upstream failures, refusals, metrics, the
// service wiring, isolation from a blocked main thread, and restart after a worker crash.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { decodeSidecarConfig } from '../../../../sidecar/config/service-config.ts';
import { parseConfigText } from '../../../../sidecar/config/load.ts';
import { headerBridgeFactory } from '../../../../sidecar/extensions/header_bridge/factory.ts';
import type { HeaderBridgeExtension } from '../../../../sidecar/extensions/header_bridge/extension.ts';
import { Service } from '../../../../sidecar/service/service.ts';
import type { ComponentRegistry } from '../../../../sidecar/service/components.ts';
import { silentLogger, testRegistry } from '../../../support/sink.ts';
import { rawValues, startBridge, startUpstream, viaProxy, type Bridge, type Upstream } from './support.ts';

const XRAY = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
const TP = '00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01';

/** Sends raw bytes to the proxy and resolves with everything read until `until` matches. */
async function rawExchange(port: number, bytes: string | Buffer, until: RegExp): Promise<{ socket: Socket; text: string }> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(bytes);
  let text = '';
  for await (const chunk of socket as AsyncIterable<Buffer>) {
    text += chunk.toString('latin1');
    if (until.test(text)) break;
  }
  return { socket, text };
}

describe('header_bridge proxy', function () {
  let up: Upstream;
  let b: Bridge;
  let reversePort: number;

  before(async () => {
    up = await startUpstream((r, res) => {
      if (r.url === '/slow') return; // never answers
      if (r.url === '/reset') return res.socket!.destroy();
      if (r.url === '/trailers') {
        res.writeHead(200, ['Content-Type', 'text/plain', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'Trailer', 'X-Checksum']);
        res.write('part1-');
        res.addTrailers({ 'X-Checksum': 'abc' });
        return res.end('part2');
      }
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ url: r.url, body: r.body.toString() }));
    });
    b = await startBridge({ response_header_timeout: '300ms', reverse: [{ endpoint: '127.0.0.1:0', target: `127.0.0.1:${up.port}` }] });
    reversePort = b.ext.listeners.find((l) => l.name === 'reverse[0]')!.port!;
  });

  after(async () => {
    await b.stop();
    await up.close();
  });

  it('listens on loopback only', () => {
    assert.deepEqual(
      b.ext.listeners.map((l) => [l.name, l.address]),
      [
        ['forward', '127.0.0.1'],
        ['reverse[0]', '127.0.0.1'],
      ],
    );
  });

  it('a non-loopback interface of this machine cannot reach it', async function () {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i !== undefined && i.family === 'IPv4' && !i.internal);
    if (external === undefined) this.skip();
    const s = connect(b.proxy.port, external.address);
    const [err] = (await once(s, 'error')) as [NodeJS.ErrnoException];
    assert.equal(err.code, 'ECONNREFUSED');
  });

  it('forwards an absolute-URI request: Host kept, path and body unchanged, hop-by-hop dropped, Via added, trace context derived', async () => {
    const r = await viaProxy(b.proxy, `${up.origin}/a/../b?q=%20`, {
      method: 'POST',
      headers: ['Host', 'orders.shop.svc.cluster.local', 'X-Amzn-Trace-Id', XRAY, 'Connection', 'X-Hop', 'X-Hop', '1', 'Proxy-Authorization', 'Basic eA==', 'Content-Type', 'text/plain'],
      body: 'hello',
    });
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { url: '/a/../b?q=%20', body: 'hello' });
    const got = up.requests.at(-1)!;
    assert.deepEqual(rawValues(got.rawHeaders, 'host'), ['orders.shop.svc.cluster.local']);
    assert.deepEqual(rawValues(got.rawHeaders, 'traceparent'), [TP]);
    assert.deepEqual(rawValues(got.rawHeaders, 'x-amzn-trace-id'), [XRAY]);
    assert.deepEqual(rawValues(got.rawHeaders, 'b3'), ['5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-1']);
    assert.deepEqual(rawValues(got.rawHeaders, 'x-hop'), []);
    assert.deepEqual(rawValues(got.rawHeaders, 'proxy-authorization'), []);
    assert.match(rawValues(got.rawHeaders, 'via')[0]!, /^1\.1 tracebridge-[0-9a-f]{8}$/);
    assert.match(String(r.headers.via), /^1\.1 tracebridge-/);
  });

  it('B3 in, W3C out', async () => {
    await viaProxy(b.proxy, `${up.origin}/b3`, { headers: { 'X-B3-TraceId': '463ac35c9f6413ad48485a3953bb6124', 'X-B3-SpanId': 'a2fb4a1d1a96d312', 'X-B3-Sampled': '1' } });
    const got = up.requests.at(-1)!;
    assert.deepEqual(rawValues(got.rawHeaders, 'traceparent'), ['00-463ac35c9f6413ad48485a3953bb6124-a2fb4a1d1a96d312-01']);
    assert.deepEqual(rawValues(got.rawHeaders, 'x-amzn-trace-id'), ['Root=1-463ac35c-9f6413ad48485a3953bb6124;Parent=a2fb4a1d1a96d312;Sampled=1']);
  });

  it('disagreement: the primary (traceparent) wins everywhere', async () => {
    await viaProxy(b.proxy, `${up.origin}/conflict`, { headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'X-Amzn-Trace-Id': XRAY } });
    const got = up.requests.at(-1)!;
    assert.deepEqual(rawValues(got.rawHeaders, 'x-amzn-trace-id'), ['Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent=00f067aa0ba902b7;Sampled=1']);
    assert.deepEqual(rawValues(got.rawHeaders, 'b3'), ['4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1']);
  });

  it('malformed propagation headers are removed, not forwarded', async () => {
    await viaProxy(b.proxy, `${up.origin}/bad`, { headers: { traceparent: '00-nothex-00f067aa0ba902b7-01', tracestate: 'a=b', 'X-Amzn-Trace-Id': 'Root=1-5759e988', b3: 'x-y-z' } });
    const got = up.requests.at(-1)!;
    for (const h of ['traceparent', 'tracestate', 'x-amzn-trace-id', 'b3']) assert.deepEqual(rawValues(got.rawHeaders, h), [], h);
  });

  it('streams a chunked response with duplicate Set-Cookie and trailers', async () => {
    const res = await new Promise<{ body: string; cookies: string[] | undefined; trailers: NodeJS.Dict<string> }>((resolve, reject) => {
      request({ host: '127.0.0.1', port: b.proxy.port, path: `${up.origin}/trailers`, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ body, cookies: res.headers['set-cookie'], trailers: res.trailers }));
      })
        .on('error', reject)
        .end();
    });
    assert.deepEqual(res, { body: 'part1-part2', cookies: ['a=1', 'b=2'], trailers: { 'x-checksum': 'abc' } });
  });

  it('reverse mode: requests to the listen port are bridged and go to the app port, Host kept', async () => {
    const r = await new Promise<number>((resolve, reject) => {
      request({ host: '127.0.0.1', port: reversePort, path: '/in?x=1', headers: { Host: 'frontend.example.com', 'X-Amzn-Trace-Id': XRAY }, agent: false }, (res) => {
        res.resume().on('end', () => resolve(res.statusCode!));
      })
        .on('error', reject)
        .end();
    });
    assert.equal(r, 200);
    const got = up.requests.at(-1)!;
    assert.equal(got.url, '/in?x=1');
    assert.deepEqual(rawValues(got.rawHeaders, 'host'), ['frontend.example.com']);
    assert.deepEqual(rawValues(got.rawHeaders, 'traceparent'), [TP]);
  });

  it('upstream down → 502 with a plain-text message and Proxy-Status', async () => {
    const closed = await startUpstream();
    await closed.close();
    const r = await viaProxy(b.proxy, `${closed.origin}/`);
    assert.equal(r.status, 502);
    assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
    assert.match(r.body, /^502 Bad Gateway: upstream 127\.0\.0\.1:\d+ refused the connection\n$/);
    assert.match(String(r.headers['proxy-status']), /; error=connection_refused$/);
  });

  it('upstream resets the connection → 502', async () => {
    const r = await viaProxy(b.proxy, `${up.origin}/reset`);
    assert.equal(r.status, 502);
    assert.match(r.body, /closed the connection/);
  });

  it('an upstream that does not speak HTTP, or answers a status Node cannot relay → 502, and the bridge keeps serving', async () => {
    const replies = ['SSH-2.0-OpenSSH_9.6\r\n', 'HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n'];
    for (const reply of replies) {
      const odd = createTcpServer((s) => s.end(reply));
      await new Promise<void>((r) => odd.listen(0, '127.0.0.1', r));
      const r = await viaProxy(b.proxy, `http://127.0.0.1:${(odd.address() as AddressInfo).port}/`);
      odd.close();
      assert.equal(r.status, 502, reply);
      assert.match(r.body, /^502 Bad Gateway: upstream 127\.0\.0\.1:\d+ sent /);
    }
    assert.equal((await viaProxy(b.proxy, `${up.origin}/still`)).status, 200);
  });

  it('slow upstream → 504 after response_header_timeout', async () => {
    const r = await viaProxy(b.proxy, `${up.origin}/slow`);
    assert.equal(r.status, 504);
    assert.match(r.body, /^504 Gateway Timeout: upstream .* timed out: no response headers within 300 ms\n$/);
    assert.match(String(r.headers['proxy-status']), /error=http_response_timeout/);
  });

  it('refuses an origin-form request (not a proxy request) and a request to itself (a loop)', async () => {
    const origin = await viaProxy(b.proxy, '/path');
    assert.equal(origin.status, 400);
    assert.match(origin.body, /send the absolute URI/);
    for (const self of [`http://127.0.0.1:${b.proxy.port}/`, `http://localhost:${b.proxy.port}/x`]) {
      const r = await viaProxy(b.proxy, self);
      assert.equal(r.status, 508, self);
    }
  });

  it('CONNECT: a tunnel to a TCP echo server passes bytes untouched, including bytes sent with the request', async () => {
    const echo = createTcpServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const port = (echo.address() as AddressInfo).port;
    try {
      const first = randomBytes(1000);
      const rest = randomBytes(256 * 1024);
      const socket = connect(b.proxy.port, '127.0.0.1');
      await once(socket, 'connect');
      socket.write(Buffer.concat([Buffer.from(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`), first]));
      const chunks: Buffer[] = [];
      let head: string | undefined;
      const want = first.length + rest.length;
      let have = 0;
      await new Promise<void>((resolve, reject) => {
        socket.on('error', reject);
        socket.on('data', (c: Buffer) => {
          if (head === undefined) {
            const text = c.toString('latin1');
            const end = text.indexOf('\r\n\r\n');
            head = text.slice(0, end);
            c = c.subarray(end + 4);
            socket.write(rest);
          }
          chunks.push(c);
          have += c.length;
          if (have >= want) resolve();
        });
      });
      assert.match(head!, /^HTTP\/1\.1 200 Connection Established\r\nVia: 1\.1 tracebridge-/);
      assert.ok(Buffer.concat(chunks).equals(Buffer.concat([first, rest])), 'echoed bytes identical');
      socket.end();
    } finally {
      echo.close();
    }
  });

  it('CONNECT to a closed port → 502; CONNECT on a reverse listener → 405', async () => {
    const closed = await startUpstream();
    await closed.close();
    const a = await rawExchange(b.proxy.port, `CONNECT 127.0.0.1:${closed.port} HTTP/1.1\r\n\r\n`, /\n$/);
    assert.match(a.text, /^HTTP\/1\.1 502 Bad Gateway\r\n[\s\S]*refused the connection\n$/);
    a.socket.destroy();
    const c = await rawExchange(reversePort, `CONNECT 127.0.0.1:${up.port} HTTP/1.1\r\n\r\n`, /\n$/);
    assert.match(c.text, /^HTTP\/1\.1 405 /);
    c.socket.destroy();
  });

  it('Upgrade (WebSocket over plain HTTP): bridged, then spliced both ways', async () => {
    let seen: string[] = [];
    up.server.once('upgrade', (req: { rawHeaders: string[] }, socket: Socket) => {
      seen = req.rawHeaders;
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
      socket.pipe(socket);
    });
    const socket = await new Promise<Socket>((resolve, reject) => {
      request({ host: '127.0.0.1', port: b.proxy.port, path: `${up.origin}/ws`, headers: { Connection: 'Upgrade', Upgrade: 'echo', 'X-Amzn-Trace-Id': XRAY }, agent: false })
        .on('upgrade', (res, s: Socket) => (res.statusCode === 101 ? resolve(s) : reject(new Error(String(res.statusCode)))))
        .on('error', reject)
        .end();
    });
    socket.write('ping');
    const [echoed] = (await once(socket, 'data')) as [Buffer];
    socket.destroy();
    assert.equal(echoed.toString(), 'ping');
    assert.deepEqual(rawValues(seen, 'traceparent'), [TP]);
    assert.deepEqual(rawValues(seen, 'upgrade'), ['echo']);
  });

  it('request headers over max_header_bytes get 431', async () => {
    const r = await viaProxy(b.proxy, `${up.origin}/`, { headers: { 'X-Big': 'x'.repeat(40 * 1024) } }).catch((e: Error) => e);
    assert.ok(!(r instanceof Error), r instanceof Error ? r.message : '');
    assert.equal(r.status, 431);
  });

  it('counts what it did in the service metrics', () => {
    b.ext.syncMetrics();
    const text = b.metrics.render();
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\d+)$`, 'm').exec(text)?.[1]);
    assert.ok(value('tracebridge_header_bridge_requests_total{mode="forward"}') >= 14);
    assert.equal(value('tracebridge_header_bridge_requests_total{mode="reverse"}'), 1);
    assert.equal(value('tracebridge_header_bridge_requests_total{mode="tunnel"}'), 3);
    assert.ok(value('tracebridge_header_bridge_translations_total{translation="derived"}') >= 3);
    assert.equal(value('tracebridge_header_bridge_translations_total{translation="conflict_resolved"}'), 1);
    assert.equal(value('tracebridge_header_bridge_malformed_headers_dropped_total{format="xray"}'), 1);
    assert.equal(value('tracebridge_header_bridge_upstream_errors_total{reason="connect_refused"}'), 2);
    assert.equal(value('tracebridge_header_bridge_upstream_errors_total{reason="timeout"}'), 1);
    assert.equal(value('tracebridge_header_bridge_upstream_errors_total{reason="reset"}'), 1);
    assert.equal(value('tracebridge_header_bridge_refused_requests_total{reason="loop"}'), 2);
    assert.ok(value('tracebridge_header_bridge_refused_requests_total{reason="bad_request"}') >= 3);
  });

  it('keeps serving app traffic while the main thread is blocked (span processing cannot stall it)', async () => {
    // A second worker plays the app and its upstream; the main thread then blocks completely
    // (Atomics.wait, as a long GC pause or CPU-bound batch would) until that request completes.
    const shared = new Int32Array(new SharedArrayBuffer(12)); // [go, done, status]
    const app = new Worker(new URL('./fixtures/isolation-app.ts', import.meta.url), { workerData: { proxyPort: b.proxy.port, shared } });
    await once(app, 'message'); // its upstream is listening
    Atomics.store(shared, 0, 1);
    Atomics.notify(shared, 0);
    const outcome = Atomics.wait(shared, 1, 0, 5000);
    await app.terminate();
    assert.equal(outcome, 'ok', 'the request completed while the main thread was blocked');
    assert.equal(Atomics.load(shared, 2), 200);
  });

  it('restarts a dead worker and serves again', async () => {
    const own = await startBridge({}, { restartDelayMs: 10 });
    try {
      await (own.ext as unknown as { worker: Worker }).worker.terminate();
      for (let i = 0; i < 200 && own.ext.forwardAddress === undefined; i++) await new Promise((r) => setTimeout(r, 10));
      const [host, port] = [own.ext.listeners[0]!.address!, own.ext.listeners[0]!.port!];
      const r = await viaProxy({ host, port }, `${up.origin}/again`);
      assert.equal(r.status, 200);
      assert.match(own.metrics.render(), /^tracebridge_header_bridge_worker_restarts_total 1$/m);
    } finally {
      await own.stop();
    }
  });
});

describe('header_bridge in the service', () => {
  it('starts when listed under service.extensions and stops with the service', async () => {
    const up = await startUpstream();
    const registry: ComponentRegistry = { ...testRegistry, extension: new Map([...testRegistry.extension, ['header_bridge', headerBridgeFactory]]) };
    const cfg = decodeSidecarConfig(
      parseConfigText(
        `
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } } }
exporters: { sink: {} }
extensions: { header_bridge: { endpoint: 127.0.0.1:0, formats: [traceparent, xray] } }
service:
  extensions: [header_bridge]
  pipelines: { traces: { receivers: [otlp], exporters: [sink] } }
  telemetry: { metrics: { level: none } }
`,
        'test.yaml',
      ),
      registry,
    );
    const svc = new Service(cfg, silentLogger, registry);
    await svc.start();
    try {
      const ext = svc.getExtension('header_bridge') as HeaderBridgeExtension;
      const [host, port] = ext.forwardAddress!.split(':');
      const r = await viaProxy({ host: host!, port: Number(port) }, `${up.origin}/`, { headers: { traceparent: TP } });
      assert.equal(r.status, 200);
      assert.deepEqual(rawValues(up.requests[0]!.rawHeaders, 'x-amzn-trace-id'), [XRAY]);
      assert.deepEqual(rawValues(up.requests[0]!.rawHeaders, 'b3'), [], 'b3 is not a configured format');
    } finally {
      await svc.shutdown();
      await up.close();
    }
    assert.match(svc.metrics.render(), /^tracebridge_header_bridge_requests_total\{mode="forward"\} 1$/m);
  });
});
