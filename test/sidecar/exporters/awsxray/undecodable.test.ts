// A batch the awsxray exporter cannot translate fails that one request as a permanent error:
// counted as failed spans and warned about once, not retried, not thrown; the next batch goes out.
// (Receivers validate what they accept, so such a batch can only come from a bug upstream; here it
// is built past validation with TracesData.trusted.)
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { PermanentError } from '../../../../sidecar/component/errors.ts';
import { TracesData } from '../../../../sidecar/pdata/traces.ts';
import { anyString, cat, kv, len, spanPayload, traceRequest as framedRequest } from '../../pdata/framing.ts';
import { startExporter, traceRequest, tracesData, type Harness } from './harness.ts';

const UNDECODABLE = framedRequest({ spans: [spanPayload(len(9, kv('k', Buffer.from([0x0a, 0x05, 0x61]))))] });

describe('awsxray exporter: a batch that cannot be translated', () => {
  let daemon: Socket;
  let port: number;
  let datagrams: Buffer[];
  let run: Harness | undefined;

  beforeEach(async () => {
    datagrams = [];
    daemon = createSocket('udp4');
    daemon.on('message', (m) => datagrams.push(m));
    await new Promise<void>((r) => daemon.bind(0, '127.0.0.1', r));
    port = daemon.address().port;
  });

  afterEach(async () => {
    await run?.exporter.shutdown();
    run = undefined;
    daemon.close();
  });

  it('is dropped as a permanent error for that request alone: counted, warned once, not retried', async () => {
    run = await startExporter({ transport: 'udp', daemon_address: `127.0.0.1:${port}` });
    await assert.rejects(run.exporter.traces.consumeTraces(TracesData.trusted(UNDECODABLE, 1)), (err: unknown) => {
      assert.ok(err instanceof PermanentError);
      assert.match(err.message, /could not be translated to X-Ray segments/);
      return true;
    });
    assert.equal(run.counter('otelcol_exporter_send_failed_spans_total'), 1);
    assert.equal(run.counter('tracebridge_exporter_send_retries_total'), 0);
    await assert.rejects(run.exporter.traces.consumeTraces(TracesData.trusted(UNDECODABLE, 1)), PermanentError);
    assert.equal(run.logs.filter((l) => l.level === 'warn' && /dropped/.test(String(l.msg))).length, 1, 'warned once per episode');
    await run.exporter.traces.consumeTraces(tracesData(traceRequest(2)));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(datagrams.length, 2);
  });

  it('translates an attribute whose key is empty (proto3 leaves it off the wire) instead of failing the batch', async () => {
    run = await startExporter({ transport: 'udp', daemon_address: `127.0.0.1:${port}` });
    const noKey = framedRequest({ spans: [spanPayload(len(9, cat(len(2, anyString('value without key')))))] });
    await run.exporter.traces.consumeTraces(TracesData.fromProto(noKey));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(datagrams.length, 1);
    assert.equal(run.counter('otelcol_exporter_send_failed_spans_total'), 0);
  });
});
