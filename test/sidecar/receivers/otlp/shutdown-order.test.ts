// SIGTERM to an app and its sidecar at the same moment, as Kubernetes does with a classic sidecar
// (a regular container): the app's SDK flushes its last spans on SIGTERM, so the sidecar keeps its
// receivers open for service.receiver_grace (2s in classic mode) and every span reaches the
// backend. A native sidecar (TRACEBRIDGE_SIDECAR_MODE=native) is stopped only after the app has
// exited, so it stops its receivers at once: the same app flushing after the sidecar got SIGTERM
// is refused, which is why the injector must tell the sidecar how it runs.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withRealNetwork } from '../../../support/delivery.ts';
import { HttpSink } from '../../../support/otlp-sinks.ts';
import { startProcess, type Running } from '../../../support/process.ts';
import { sidecarConfig, startSidecar, terminate } from './testdata/sidecar-process.ts';

const APP = 'test/sidecar/receivers/otlp/testdata/flush-on-sigterm-app.ts';
/** The app finishes its work for this long after SIGTERM before its SDK flushes. */
const FLUSH_DELAY_MS = 500;

describe('sidecar shutdown order by pod kind (app and sidecar processes, SIGTERM together)', function () {
  this.timeout(45_000);
  withRealNetwork();
  let sink: HttpSink;
  let dir: string;
  const procs: Running[] = [];
  beforeEach(async () => {
    sink = await new HttpSink().start();
    dir = mkdtempSync(join(tmpdir(), 'tracebridge-order-'));
  });
  afterEach(async () => {
    for (const p of procs.splice(0)) p.child.kill('SIGKILL');
    await sink.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function run(mode: 'classic' | 'native'): Promise<{ app: { flushMs: number; result: string }; sidecarMs: number }> {
    const { proc: sidecar, grpcPort } = await startSidecar(sidecarConfig(dir, sink.url), { TRACEBRIDGE_SIDECAR_MODE: mode });
    procs.push(sidecar);
    const app = startProcess(APP, [], {
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${grpcPort}`,
      OTEL_EXPORTER_OTLP_TIMEOUT: '2000',
      APP_FLUSH_DELAY_MS: String(FLUSH_DELAY_MS),
    });
    procs.push(app);
    await app.waitFor(/ready/);
    app.child.kill('SIGTERM');
    const stopped = await terminate(sidecar);
    assert.equal(stopped.code, 0, sidecar.stderr());
    assert.equal(await app.exited, 0, app.stderr());
    const line = await app.waitFor(/\{"flushMs".*\}/);
    return { app: JSON.parse(line) as { flushMs: number; result: string }, sidecarMs: stopped.ms };
  }

  it('classic mode: the receivers take the app flush that follows SIGTERM; all 100 spans reach the backend', async () => {
    const { app, sidecarMs } = await run('classic');
    if (process.env.SHUTDOWN_TIMINGS) process.stderr.write(`      app flushed ${app.flushMs} ms after SIGTERM; sidecar exited after ${sidecarMs} ms\n`);
    assert.equal(app.result, 'ok');
    assert.equal(sink.spansReceived(), 100);
  });

  it('native mode: the receivers stop at once, so the same app flushing after SIGTERM is refused', async () => {
    const { app } = await run('native');
    assert.match(app.result, /^failed/);
    assert.equal(sink.spansReceived(), 0);
  });
});
