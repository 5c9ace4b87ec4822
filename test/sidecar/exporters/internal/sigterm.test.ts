// The whole process: tracebridge-sidecar started from the command line, spans accepted, SIGTERM
// while a slow backend is still receiving them: every accepted span is delivered and the exit
// code is 0.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { components } from '../../../../sidecar/service/components.ts';
import { post, traceRequest, withRealNetwork } from '../../../support/delivery.ts';
import { freePort, HttpSink } from '../../../support/otlp-sinks.ts';

const MAIN = new URL('../../../../sidecar/main.ts', import.meta.url).pathname;

describe('SIGTERM drains the exporters (tracebridge-sidecar process)', () => {
  withRealNetwork();
  let sink: HttpSink;
  let dir: string;
  before(function () {
    // The command line uses the shared component list; the lead registers otlphttp there.
    if (!components.exporter.has('otlphttp')) this.skip();
  });
  beforeEach(async () => {
    sink = await new HttpSink().start();
    dir = mkdtempSync(join(tmpdir(), 'tracebridge-sigterm-'));
  });
  afterEach(async () => {
    await sink.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers every accepted span to a slow backend, then exits 0', async () => {
    const port = await freePort();
    const config = join(dir, 'sidecar.yaml');
    writeFileSync(
      config,
      `
receivers:
  otlp:
    protocols:
      http: { endpoint: 127.0.0.1:${port} }
exporters:
  otlphttp:
    endpoint: ${sink.url}
    sending_queue: { num_consumers: 1 }
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [otlphttp] }
  telemetry: { metrics: { level: none }, logs: { level: info } }
  shutdown_timeout: 20s
`,
    );
    sink.fallback = { kind: 'ok', delayMs: 120 };
    const child = spawn(process.execPath, [MAIN, '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`sidecar did not start:\n${stderr}`)), 10_000);
        child.stderr.on('data', (c: Buffer) => {
          stderr += c.toString();
          if (stderr.includes('tracebridge sidecar running')) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.on('exit', () => reject(new Error(`sidecar exited early:\n${stderr}`)));
      });
      for (let i = 0; i < 8; i++) assert.equal((await post(port, '/v1/traces', traceRequest(2))).status, 200);
      assert.ok(sink.spansReceived() < 16, 'the backend is still behind when SIGTERM arrives');
      child.kill('SIGTERM');
      assert.equal(await exited, 0, stderr);
      assert.equal(sink.spansReceived(), 16);
      assert.match(stderr, /shutdown complete/);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
