// A 200 MiB upload through the bridge, generated on the fly (never held in memory). The client
// and the upstream run in a child process, so this process's resident memory holds only the
// bridge (main thread + its worker): it must grow far less than the body. pipe() backpressure is
// what bounds it; a proxy that buffered bodies would grow by the body's size. (Measured here:
// about 25–30 MiB of growth, the same for 200 and 800 MiB bodies: buffers awaiting GC, not data
// held.)
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { startBridge } from './support.ts';

const CHUNKS = 3200; // × 64 KiB = 200 MiB
const TOTAL = CHUNKS * 64 * 1024;
const MAX_GROWTH = 64 * 1024 * 1024;

describe('header_bridge streaming', function () {
  this.timeout(30_000);

  it('streams a 200 MiB upload in bounded memory', async () => {
    const bridge = await startBridge();
    const peer = fork(new URL('./fixtures/upload-peer.ts', import.meta.url), [], { execPath: process.execPath, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    try {
      await once(peer, 'spawn');
      const baseline = process.memoryUsage.rss();
      let peak = baseline;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
      peer.send({ proxyPort: bridge.proxy.port, chunks: CHUNKS });
      const [answer] = (await once(peer, 'message')) as [{ status: number; received: number; error?: string }];
      clearInterval(sampler);
      assert.deepEqual(answer, { status: 200, received: TOTAL });
      const growth = peak - baseline;
      assert.ok(growth < MAX_GROWTH, `bridge RSS grew by ${(growth / 2 ** 20).toFixed(1)} MiB while streaming ${TOTAL / 2 ** 20} MiB`);
    } finally {
      peer.kill();
      await bridge.stop();
    }
  });
});
