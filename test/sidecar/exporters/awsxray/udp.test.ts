// transport udp against a real local datagram socket standing in for the X-Ray daemon.
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { parseDaemonAddress } from '../../../../sidecar/aws/daemon-address.ts';
import type { SegmentDocument } from '../../../../sidecar/exporters/awsxray/document.ts';
import { DAEMON_HEADER } from '../../../../sidecar/exporters/awsxray/udp-transport.ts';
import { startExporter, traceRequest, tracesData, type Harness } from './harness.ts';

interface Daemon {
  socket: Socket;
  port: number;
  datagrams: Buffer[];
  waitFor(n: number): Promise<void>;
}

async function startDaemon(): Promise<Daemon> {
  const socket = createSocket('udp4');
  const datagrams: Buffer[] = [];
  let waiters: { n: number; resolve: () => void }[] = [];
  socket.on('message', (msg) => {
    datagrams.push(msg);
    waiters = waiters.filter((w) => {
      if (datagrams.length >= w.n) w.resolve();
      return datagrams.length < w.n;
    });
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  return {
    socket,
    port: socket.address().port,
    datagrams,
    waitFor: (n) =>
      datagrams.length >= n
        ? Promise.resolve()
        : new Promise((resolve, reject) => {
            const t = setTimeout(() => reject(new Error(`got ${datagrams.length} of ${n} datagrams`)), 5000);
            waiters.push({ n, resolve: () => (clearTimeout(t), resolve()) });
          }),
  };
}

function decode(d: Buffer): SegmentDocument {
  const text = d.toString('utf8');
  assert.ok(text.startsWith(DAEMON_HEADER), 'datagram starts with the daemon header');
  return JSON.parse(text.slice(DAEMON_HEADER.length)) as SegmentDocument;
}

describe('awsxray exporter: transport udp (X-Ray daemon protocol)', () => {
  let daemon: Daemon;
  let run: Harness | undefined;

  beforeEach(async () => {
    daemon = await startDaemon();
  });

  afterEach(async () => {
    await run?.exporter.shutdown();
    run = undefined;
    daemon.socket.close();
  });

  it('sends one document per datagram with the {"format": "json", "version": 1} header', async () => {
    run = await startExporter({ transport: 'udp', daemon_address: `127.0.0.1:${daemon.port}` });
    await run.exporter.traces.consumeTraces(tracesData(traceRequest(3)));
    await daemon.waitFor(3);
    assert.equal(DAEMON_HEADER, '{"format": "json", "version": 1}\n');
    const docs = daemon.datagrams.map(decode);
    assert.equal(docs.length, 3);
    assert.equal(new Set(docs.map((d) => d.trace_id)).size, 1);
    const root = docs.find((d) => d.type === undefined)!;
    assert.ok(docs.filter((d) => d !== root).every((d) => d.parent_id === root.id && d.type === 'subsegment'));
    assert.equal(run.counter('otelcol_exporter_sent_spans_total'), 3);
  });

  it('reads AWS_XRAY_DAEMON_ADDRESS in its "udp:host:port tcp:host:port" form', async () => {
    run = await startExporter({ transport: 'udp' }, { daemonAddress: `tcp:127.0.0.1:1 udp:127.0.0.1:${daemon.port}` });
    await run.exporter.traces.consumeTraces(tracesData(traceRequest(1)));
    await daemon.waitFor(1);
    assert.equal(decode(daemon.datagrams[0]!).name, 'checkout');
  });

  it('trims documents over 64 KiB so that every datagram fits', async () => {
    run = await startExporter({ transport: 'udp', daemon_address: `127.0.0.1:${daemon.port}` });
    await run.exporter.traces.consumeTraces(tracesData(traceRequest(2, { attrs: { payload: 'y'.repeat(80_000) } })));
    await daemon.waitFor(2);
    for (const d of daemon.datagrams) {
      assert.ok(d.length <= 64 * 1024);
      assert.equal(decode(d).metadata, undefined);
    }
    assert.equal(run.counter('tracebridge_exporter_awsxray_documents_trimmed_total'), 2);
  });

  it("warns when the daemon address is the pod's own 127.0.0.1:2000 (the sidecar's awsxray receiver)", async () => {
    run = await startExporter({ transport: 'udp', daemon_address: '127.0.0.1:2000' });
    assert.ok(run.logs.some((l) => l.level === 'warn' && String(l.msg).includes("sidecar's own awsxray receiver")));
  });

  it('parses the AWS_XRAY_DAEMON_ADDRESS forms', () => {
    assert.deepStrictEqual(parseDaemonAddress('127.0.0.1:2000'), { udp: { host: '127.0.0.1', port: 2000 }, tcp: { host: '127.0.0.1', port: 2000 } });
    assert.deepStrictEqual(parseDaemonAddress('udp:10.0.0.1:2001 tcp:10.0.0.2:2002'), { udp: { host: '10.0.0.1', port: 2001 }, tcp: { host: '10.0.0.2', port: 2002 } });
    assert.deepStrictEqual(parseDaemonAddress(' tcp:xray:2000  udp:xray:2000 ')?.udp, { host: 'xray', port: 2000 });
    assert.equal(parseDaemonAddress('udp:10.0.0.1:2001'), undefined);
    assert.equal(parseDaemonAddress('udp:a:1 udp:b:2'), undefined);
    assert.equal(parseDaemonAddress('localhost'), undefined);
    assert.equal(parseDaemonAddress('h:99999'), undefined);
  });
});
