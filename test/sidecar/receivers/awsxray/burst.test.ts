// X-Ray SDKs stream the subsegments of a long segment as separate datagrams, each send completed
// before the next. The receiver must keep up with such a burst from another process, and what it
// cannot keep (kernel receive buffer full, its own queue full) must show in its metrics and log.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startXRay, until, xrayConfig, type Running } from './service.ts';

const SENDER = fileURLToPath(new URL('./burst-sender.ts', import.meta.url));
const DROPPED = 'tracebridge_receiver_awsxray_dropped_datagrams_total';

/** Runs the sender in its own process; resolves with the trace ID it used. */
function sendBurst(port: number, subsegments: number, mode: 'paced' | 'flood', padBytes = 0): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [SENDER, String(port), String(subsegments), mode, String(padBytes)], { timeout: 60_000 }, (err, stdout) => {
      if (err) reject(new Error(`burst sender failed: ${err.message}`));
      else resolve(stdout.trim());
    });
  });
}

describe('awsxray receiver under streamed bursts', function () {
  this.timeout(60_000);
  let run: Running | undefined;

  afterEach(async () => {
    await run?.svc.shutdown();
    run = undefined;
  });

  it('delivers 1 segment + 3,000 subsegments sent SDK-paced from another process, every span', async () => {
    run = await startXRay(xrayConfig());
    const traceId = await sendBurst(run.udpPort, 3000, 'paced');
    await run.sink.waitForSpans(3001, 10_000).catch(() => undefined);
    const spans = run.sink.spans();
    assert.equal(spans.length, 3001, `delivered ${spans.length}/3001`);
    const want = traceId.slice(2, 10) + traceId.slice(11);
    assert.ok(spans.every(({ span }) => Buffer.from(span.traceId!).toString('hex') === want));
    assert.equal(new Set(spans.map(({ span }) => span.name)).size, 3001);
    assert.equal(run.metric('otelcol_receiver_accepted_spans_total', { receiver: 'awsxray', transport: 'udp' }), 3001);
    assert.equal(run.metric(DROPPED, { receiver: 'awsxray', reason: 'receive_buffer' }), 0);
    assert.equal(run.metric(DROPPED, { receiver: 'awsxray', reason: 'queue_full' }), 0);
  });

  it('hands the pipeline fewer, larger batches than one per datagram', async () => {
    run = await startXRay(xrayConfig());
    await sendBurst(run.udpPort, 3000, 'paced');
    await run.sink.waitForSpans(3001, 10_000);
    assert.ok(run.sink.batches.length < 3001, `${run.sink.batches.length} batches for 3001 documents`);
  });

  it('counts datagrams the kernel dropped on a full receive buffer, and warns once per episode', async () => {
    run = await startXRay(xrayConfig());
    const udp = run.receiver.udp!;
    // A tiny buffer (the kernel's minimum) and an unpaced flood of 2 KiB datagrams overflow it.
    udp.setReceiveBufferForTest(1);
    await sendBurst(run.udpPort, 2000, 'flood', 2000);
    await until(() => run!.metric(DROPPED, { receiver: 'awsxray', reason: 'receive_buffer' }) > 0, 5000);
    const got = run.sink.spanCount() + run.metric(DROPPED, { receiver: 'awsxray', reason: 'receive_buffer' });
    assert.ok(run.sink.spanCount() < 2001);
    // Every datagram is either delivered or counted as dropped.
    await until(() => run!.sink.spanCount() + run!.metric(DROPPED, { receiver: 'awsxray', reason: 'receive_buffer' }) === 2001, 5000).catch(() => undefined);
    assert.equal(run.sink.spanCount() + run.metric(DROPPED, { receiver: 'awsxray', reason: 'receive_buffer' }), 2001, `got ${got}`);
    const warns = () => run!.logs.filter((l) => l.level === 'warn' && l.msg.includes('receive buffer'));
    assert.equal(warns().length, 1);
    assert.ok((warns()[0]!.dropped as number) > 0);
    // The episode ends once the counter stops rising: logged once.
    await until(() => run!.logs.some((l) => l.msg.includes('no longer dropping')), 5000);
    assert.equal(warns().length, 1);
  });

  it('counts datagrams its own queue could not hold as queue_full', async () => {
    run = await startXRay(xrayConfig());
    const udp = run.receiver.udp!;
    udp.setQueueLimitsForTest({ datagrams: 10, bytes: 16 << 20 });
    udp.pauseDrainForTest(300);
    await sendBurst(run.udpPort, 100, 'paced');
    await until(() => run!.sink.spanCount() + run!.metric(DROPPED, { receiver: 'awsxray', reason: 'queue_full' }) === 101, 5000);
    assert.ok(run.metric(DROPPED, { receiver: 'awsxray', reason: 'queue_full' }) > 0);
    assert.ok(run.logs.some((l) => l.level === 'warn' && l.msg.includes('queue')));
  });
});

describe('/proc/net/udp drop counter', () => {
  // Captured on a test machine: a socket bound to 127.0.0.1:2000 with 37 drops, and others.
  const udp4 = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops             
  110: 0100007F:07D0 00000000:0000 07 00000000:00033000 00:00000000 00000000     0        0 4187632 2 ffff8f0d4ad5e000 37       
  339: 3500007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 20458 2 ffff8f0d41a4a400 0        
  880: 00000000:07D0 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4187700 2 ffff8f0d4ad5e400 5        
`;
  const udp6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  880: 00000000000000000000000001000000:07D0 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4187999 2 ffff8f0d4ad5e800 12
`;

  it('finds the row of the socket by address and port and reads its drops', async () => {
    const { socketDrops, procAddress } = await import('../../../../sidecar/receivers/awsxray/udp-drops.ts');
    assert.equal(procAddress('127.0.0.1', 2000), '0100007F:07D0');
    assert.equal(socketDrops(udp4, procAddress('127.0.0.1', 2000)), 37);
    assert.equal(socketDrops(udp4, procAddress('0.0.0.0', 2000)), 5);
    assert.equal(socketDrops(udp4, procAddress('127.0.0.1', 2001)), undefined);
    assert.equal(procAddress('::1', 2000), '00000000000000000000000001000000:07D0');
    assert.equal(socketDrops(udp6, procAddress('::1', 2000)), 12);
    assert.equal(socketDrops('', procAddress('::1', 2000)), undefined);
    assert.equal(socketDrops('garbage\n 1: zz:zz\n', procAddress('::1', 2000)), undefined);
  });

  it('reads the live socket of a running receiver', async () => {
    const { socketDrops, procAddress } = await import('../../../../sidecar/receivers/awsxray/udp-drops.ts');
    const r = await startXRay(xrayConfig());
    try {
      assert.equal(socketDrops(readFileSync('/proc/net/udp', 'utf8'), procAddress('127.0.0.1', r.udpPort)), 0);
    } finally {
      await r.svc.shutdown();
    }
  });
});
