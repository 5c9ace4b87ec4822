// Garbage on the X-Ray port is dropped and counted, never fatal, logged once per burst; the
// receiver keeps accepting good segments. Pipeline refusals and overload are counted as refused
// spans (UDP cannot push back).
import assert from 'node:assert/strict';
import type { TracesConsumer } from '../../../../sidecar/component/component.ts';
import type { TracesData } from '../../../../sidecar/pdata/traces.ts';
import { XRayUdpServer } from '../../../../sidecar/receivers/awsxray/udp.ts';
import { MetricsRegistry } from '../../../../sidecar/telemetry/metrics.ts';
import { silentLogger } from '../../../support/sink.ts';
import { HEADER, sendDatagram, startXRay, until, xrayConfig, type Running } from './service.ts';

const TRACE = '1-6500aa00-0123456789abcdef01234567';
const good = (name: string, id = '1111111111111111') => HEADER + JSON.stringify({ name, id, trace_id: TRACE, start_time: 1694542336, end_time: 1694542337 });

const MALFORMED = 'tracebridge_receiver_awsxray_malformed_datagrams_total';
const REFUSED = 'otelcol_receiver_refused_spans_total';
const ACCEPTED = 'otelcol_receiver_accepted_spans_total';

describe('awsxray receiver malformed datagrams', () => {
  let run: Running;

  before(async () => {
    run = await startXRay();
  });

  after(async () => {
    await run.svc.shutdown();
  });

  it('drops and counts each kind of garbage, warns once for the burst, and keeps receiving', async () => {
    const garbage: [string, string][] = [
      ['no_header', '{"name":"x","id":"1111111111111111","trace_id":"' + TRACE + '","start_time":1}'],
      ['no_header', 'random bytes without a newline'],
      ['bad_header', 'not json\n{}'],
      ['bad_header', '{"format":"xml","version":1}\n{}'],
      ['bad_header', '{"format":"json","version":"1"}\n{}'],
      ['no_body', HEADER],
      ['bad_document', HEADER + '{"name": "cut off'],
      ['bad_document', HEADER + '[]'],
      ['bad_document', HEADER + JSON.stringify({ name: 7, id: '1111111111111111', trace_id: TRACE, start_time: 1 })],
      ['bad_document', HEADER + JSON.stringify({ name: 'n', id: '1111111111111111', trace_id: TRACE, start_time: '1' })],
      ['bad_document', HEADER + JSON.stringify({ name: 'n', id: 'zz', trace_id: TRACE, start_time: 1 })],
      ['bad_document', HEADER + JSON.stringify({ name: 'n', id: '1111111111111111', trace_id: TRACE, start_time: 1, subsegments: [{ name: 's', id: '2222222222222222', start_time: 1, namespace: 'nope' }] })],
    ];
    for (const [, payload] of garbage) await sendDatagram(run.udpPort, payload);
    await sendDatagram(run.udpPort, good('after-garbage'));
    await run.sink.waitForSpans(1);

    const expected: Record<string, number> = {};
    for (const [reason] of garbage) expected[reason] = (expected[reason] ?? 0) + 1;
    await until(() => Object.entries(expected).every(([reason, n]) => run.metric(MALFORMED, { reason }) === n));
    assert.equal(run.sink.spans()[0]!.span.name, 'after-garbage');
    // The collector's accounting: an unreadable datagram is 1 refused span, a rejected document all of its spans.
    assert.equal(run.metric(REFUSED, { receiver: 'awsxray', transport: 'udp' }), garbage.length + 1);
    assert.equal(run.metric(ACCEPTED, { receiver: 'awsxray', transport: 'udp' }), 1);
    const warnings = run.logs.filter((l) => l.level === 'warn' && /malformed X-Ray datagrams/.test(l.msg));
    assert.equal(warnings.length, 1, 'one warning for the whole burst');
    assert.equal(warnings[0]!.reason, 'no_header');
  });

  it('drops datagrams larger than 64 KiB', () => {
    // The kernel caps a UDP payload at 65507 bytes, so the limit is exercised below the socket.
    const before = run.metric(MALFORMED, { reason: 'oversized' });
    const huge = Buffer.concat([Buffer.from(HEADER), Buffer.alloc(64 * 1024, 0x20)]);
    run.receiver.udp!.onDatagram(huge);
    assert.equal(run.metric(MALFORMED, { reason: 'oversized' }), before + 1);
  });
});

describe('awsxray receiver without back-pressure', () => {
  it('counts spans the pipeline refuses as refused, and warns once', async () => {
    const run = await startXRay(xrayConfig({ sinkMode: 'refuse' }));
    try {
      await sendDatagram(run.udpPort, HEADER + JSON.stringify({ name: 'a', id: '1111111111111111', trace_id: TRACE, start_time: 1, subsegments: [{ name: 'b', id: '2222222222222222', start_time: 1 }] }));
      await sendDatagram(run.udpPort, good('c'));
      await until(() => run.metric(REFUSED, { receiver: 'awsxray', transport: 'udp' }) === 3);
      assert.equal(run.metric(ACCEPTED, { receiver: 'awsxray', transport: 'udp' }), 0);
      assert.equal(run.logs.filter((l) => /pipeline refused X-Ray segments/.test(l.msg)).length, 1);
    } finally {
      await run.svc.shutdown();
    }
  });

  it('refuses beyond the in-flight bound instead of queueing without limit, over a real socket', async () => {
    const pending: (() => void)[] = [];
    const stuck: TracesConsumer = {
      consumeTraces(_data: TracesData) {
        return new Promise<void>((resolve) => pending.push(resolve));
      },
    };
    const metrics = new MetricsRegistry();
    const udp = new XRayUdpServer('awsxray', '127.0.0.1:0', stuck, silentLogger, metrics, { maxInFlight: 2, maxDatagramBytes: 4096 });
    await udp.start();
    const refused = () => metrics.counter(REFUSED, '').get({ receiver: 'awsxray', transport: 'udp' });
    try {
      // Documents of one event-loop turn share a batch; sent one at a time, each is its own batch.
      await sendDatagram(udp.port, good('a'));
      await until(() => pending.length === 1);
      await sendDatagram(udp.port, good('b'));
      await until(() => pending.length === 2);
      for (const n of ['c', 'd']) await sendDatagram(udp.port, good(n));
      await until(() => pending.length === 2 && refused() >= 1);
      await until(() => refused() === 2);
      // A small limit shows the size check on the real socket path too.
      await sendDatagram(udp.port, HEADER + JSON.stringify({ pad: 'x'.repeat(5000) }));
      await until(() => metrics.counter('tracebridge_receiver_awsxray_malformed_datagrams_total', '').get({ receiver: 'awsxray', reason: 'oversized' }) === 1);
    } finally {
      for (const resolve of pending) resolve();
      await udp.shutdown();
    }
  });
});
