// In a pod the sidecar must never harm the app: with port 2000 still held by an X-Ray daemon
// (UDP and TCP), the receiver logs, counts and skips its listeners; everything else runs.
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { freeSharedPort, startXRay, xrayConfig } from './service.ts';

describe('awsxray receiver lifecycle', () => {
  let udp: Socket;
  let tcp: Server;
  let port: number;

  before(async () => {
    port = await freeSharedPort();
    udp = createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(port, '127.0.0.1', resolve));
    tcp = createServer();
    await new Promise<void>((resolve) => tcp.listen(port, '127.0.0.1', resolve));
  });

  after(async () => {
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
  });

  it('skips listeners whose port is taken, keeps the service running, and shuts down cleanly twice', async () => {
    const run = await startXRay(xrayConfig({ port }));
    assert.equal(run.svc.status, 'running');
    assert.equal(run.udpPort, 0);
    assert.equal(run.metric('tracebridge_receiver_bind_failures_total', { receiver: 'awsxray', transport: 'udp' }), 1);
    assert.equal(run.metric('tracebridge_receiver_bind_failures_total', { receiver: 'awsxray', transport: 'tcp' }), 1);
    await run.svc.shutdown();
    await run.receiver.shutdown();
  });
});
