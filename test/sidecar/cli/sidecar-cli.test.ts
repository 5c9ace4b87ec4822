// The sidecar as a user runs it: `npm start` on the embedded default, `validate`, SIGTERM.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { runProcess, startProcess } from '../../support/process.ts';
import { testApp } from '../../support/otel.ts';

const MAIN = 'sidecar/main.ts';
const dir = mkdtempSync(join(tmpdir(), 'tb-cli-'));

async function httpGet(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url);
  return { status: res.status, text: await res.text() };
}

describe('tracebridge-sidecar command', () => {
  it('runs the embedded default as `npm start` does and prints each span with its W3C and X-Ray trace ID', async () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: undefined, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: undefined, TRACEBRIDGE_CONFIG: undefined };
    const proc = startProcess(MAIN, [], env);
    try {
      await proc.waitFor(/tracebridge sidecar running/);
      assert.equal((await httpGet('http://127.0.0.1:13133/')).status, 200);
      const app = testApp(new OTLPTraceExporter({ url: 'http://127.0.0.1:4318/v1/traces' }), 'hello-app');
      const span = app.tracer.startSpan('say hello');
      span.end();
      await app.flush();
      await app.provider.shutdown();
      const traceId = span.spanContext().traceId;
      const line = await proc.waitFor(new RegExp(`span service=hello-app name="say hello".*trace_id=${traceId}.*`));
      assert.match(line, new RegExp(`xray_trace_id=1-${traceId.slice(0, 8)}-${traceId.slice(8)}`));
      const metrics = await httpGet('http://127.0.0.1:8888/metrics');
      assert.match(metrics.text, /otelcol_receiver_accepted_spans_total\{receiver="otlp",transport="http"\} 1/);
    } finally {
      proc.child.kill('SIGTERM');
    }
    assert.equal(await proc.exited, 0);
    assert.match(proc.stderr(), /shutdown complete/);
  });

  it('validate lists every error with its YAML path and exits 1', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'receivers:\n  otlp:\n    protocols:\n      grpc: { endpoint: "4317" }\nexporters:\n  debgu: {}\nservice:\n  pipelines:\n    traces: { receivers: [otlp], exporters: [debug] }\n');
    const res = await runProcess(MAIN, ['validate', '--config', bad]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /receivers\.otlp\.protocols\.grpc\.endpoint: expected host:port/);
    assert.match(res.stderr, /exporters\.debgu: unknown exporter type "debgu"/);
    assert.match(res.stderr, /service\.pipelines\.traces\.exporters\[0\]: references exporter "debug" which is not defined/);
  });

  it('validate exits 0 on a valid config', async () => {
    const good = join(dir, 'good.yaml');
    writeFileSync(good, 'receivers: { otlp: {} }\nexporters: { debug: {} }\nservice: { pipelines: { traces: { receivers: [otlp], exporters: [debug] } } }\n');
    const res = await runProcess(MAIN, ['validate', '--config', good]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /valid/);
  });

  it('refuses to start on an invalid config before opening any port', async () => {
    const bad = join(dir, 'bad-run.yaml');
    writeFileSync(bad, 'receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } } }\nexporters: { debug: { verbosity: loud } }\nservice: { pipelines: { traces: { receivers: [otlp], exporters: [debug] } } }\n');
    const res = await runProcess(MAIN, ['--config', bad]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /exporters\.debug\.verbosity/);
    assert.doesNotMatch(res.stderr, /listening/);
  });

  it('keeps running when a receiver port is taken, and says so', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const taken = (blocker.address() as { port: number }).port;
    const cfg = join(dir, 'taken.yaml');
    writeFileSync(
      cfg,
      `receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${taken} }, grpc: { endpoint: 127.0.0.1:0 } } } }\nexporters: { debug: {} }\nservice: { pipelines: { traces: { receivers: [otlp], exporters: [debug] } }, telemetry: { metrics: { level: none } } }\n`,
    );
    const proc = startProcess(MAIN, ['--config', cfg]);
    try {
      await proc.waitFor(/tracebridge sidecar running/);
      assert.match(proc.stderr(), /receiver listener could not start; skipping it/);
    } finally {
      proc.child.kill('SIGTERM');
      blocker.close();
    }
    assert.equal(await proc.exited, 0);
  });
});

describe('tracebridge-sidecar convert', () => {
  it('prints a B3 64-bit ID in every format and says why legacy X-Ray rejects it', async () => {
    const res = await runProcess(MAIN, ['convert', 'b3: 80f198ee56343ba8-e457b5a2e4d86bd1-1']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /trace ID \(W3C\):\s+000000000000000080f198ee56343ba8/);
    assert.match(res.stdout, /trace ID \(X-Ray\):\s+1-00000000-0000000080f198ee56343ba8/);
    assert.match(res.stdout, /traceparent:\s+00-000000000000000080f198ee56343ba8-e457b5a2e4d86bd1-01/);
    assert.match(res.stdout, /legacy X-Ray now:\s+rejected/);
  });

  it('exits 1 with one clear line on a malformed value', async () => {
    const res = await runProcess(MAIN, ['convert', 'traceparent: 00-zz-yy-01']);
    assert.equal(res.code, 1);
    assert.equal(res.stderr.trim().split('\n').length, 1);
  });
});
