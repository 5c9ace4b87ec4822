// The sidecar started as the injector starts it (no args, TRACEBRIDGE_CONFIG naming an optional
// ConfigMap mount): a mounted config that is broken must never keep the pod from starting. It runs
// the embedded default instead, says why (log, health body, gauge) and its probe passes.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { runProcess, startProcess, type Running } from '../../support/process.ts';
import { testApp } from '../../support/otel.ts';
import { HttpSink } from '../../support/otlp-sinks.ts';
import { freeSidecarPorts, injectedSidecarEnv } from '../../support/sidecar-env.ts';

const MAIN = 'sidecar/main.ts';
const dir = mkdtempSync(join(tmpdir(), 'tb-startup-'));

async function sendSpan(port: number, name: string): Promise<string> {
  const app = testApp(new OTLPTraceExporter({ url: `http://127.0.0.1:${port}/v1/traces` }), 'checkout');
  const span = app.tracer.startSpan(name);
  span.end();
  await app.flush();
  await app.provider.shutdown();
  return span.spanContext().traceId;
}

async function stop(proc: Running): Promise<void> {
  proc.child.kill('SIGTERM');
  assert.equal(await proc.exited, 0, proc.stderr());
}

const cases: { name: string; make: () => string; errors: RegExp[] }[] = [
  {
    name: 'an unknown key',
    make: () => {
      const f = join(dir, 'unknown-key.yaml');
      writeFileSync(
        f,
        'receivers: { otlp: {} }\nprocessors:\n  batch:\n    send_batch_sise: 100\nexporters:\n  debug: { verbosty: detailed }\nservice: { pipelines: { traces: { receivers: [otlp], processors: [batch], exporters: [debug] } } }\n',
      );
      return f;
    },
    errors: [/processors\.batch\.send_batch_sise: unknown key/, /exporters\.debug\.verbosty: unknown key/],
  },
  {
    name: 'an unset ${env:X}',
    make: () => {
      const f = join(dir, 'unset-env.yaml');
      writeFileSync(f, 'receivers: { otlp: {} }\nexporters:\n  otlphttp: { endpoint: "${env:TB_STARTUP_UNSET}" }\nservice: { pipelines: { traces: { receivers: [otlp], exporters: [otlphttp] } } }\n');
      return f;
    },
    errors: [/exporters\.otlphttp\.endpoint: environment variable TB_STARTUP_UNSET is not set/],
  },
  {
    name: 'a YAML syntax error',
    make: () => {
      const f = join(dir, 'syntax.yaml');
      writeFileSync(f, 'receivers:\n  otlp: [\nservice: {}\n');
      return f;
    },
    errors: [/syntax\.yaml: .*line \d+/],
  },
  {
    name: 'a path that is a directory (cannot be read)',
    make: () => {
      const d = join(dir, 'config.yaml');
      mkdirSync(d, { recursive: true });
      return d;
    },
    errors: [/config\.yaml: cannot read: EISDIR/],
  },
];

describe('sidecar start-up with a broken mounted config (TRACEBRIDGE_CONFIG, no --config)', () => {
  let sink: HttpSink;
  beforeEach(async () => {
    sink = await new HttpSink().start();
  });
  afterEach(() => sink.stop());

  for (const c of cases) {
    it(`with ${c.name}: runs the embedded default, answers the probe 200 with the errors, exports, counts and logs them once`, async () => {
      const ports = await freeSidecarPorts();
      const path = c.make();
      const proc = startProcess(MAIN, [], injectedSidecarEnv(ports, sink.url, path));
      try {
        await proc.waitFor(/tracebridge sidecar running/);

        const health = await fetch(`http://127.0.0.1:${ports.health}/`);
        assert.equal(health.status, 200);
        const body = (await health.json()) as { status: string; config?: { source: string; path?: string; errors: string[] } };
        assert.equal(body.status, 'Server available');
        assert.equal(body.config?.source, 'mounted');
        assert.equal(body.config?.path, path);
        assert.equal(body.config?.errors.length, c.errors.length, JSON.stringify(body.config));
        for (const re of c.errors) assert.ok(body.config?.errors.some((e) => re.test(e)), `${re} in ${JSON.stringify(body.config?.errors)}`);

        const metrics = await (await fetch(`http://127.0.0.1:${ports.metrics}/metrics`)).text();
        assert.match(metrics, new RegExp(`^tracebridge_config_errors\\{source="mounted"\\} ${c.errors.length}$`, 'm'));

        const traceId = await sendSpan(ports.otlp_http, 'pay');
        await sink.waitUntil(() => sink.spansReceived() >= 1, 8000, 'the span at the sink');
        assert.ok(sink.received.some((r) => r.bytes.includes(Buffer.from(traceId, 'hex'))), 'the span sent is the one received');

        // Every error once, at level error.
        const lines = proc.stderr().split('\n').filter((l) => l.trim() !== '');
        for (const re of c.errors) {
          const hits = lines.filter((l) => re.test(l));
          assert.equal(hits.length, 1, `${re} logged once:\n${proc.stderr()}`);
          assert.equal((JSON.parse(hits[0]!) as { level: string }).level, 'error');
        }
      } finally {
        await stop(proc);
      }
    });
  }

  it('a valid mounted config reports no errors: health lists none, the gauge is 0', async () => {
    const ports = await freeSidecarPorts();
    const f = join(dir, 'valid.yaml');
    writeFileSync(
      f,
      `receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${ports.otlp_http} } } } }\nexporters: { otlphttp: { endpoint: ${sink.url} } }\nextensions: { health_check: { endpoint: 127.0.0.1:${ports.health} } }\nservice:\n  extensions: [health_check]\n  pipelines: { traces: { receivers: [otlp], exporters: [otlphttp] } }\n  telemetry: { metrics: { address: 127.0.0.1:${ports.metrics} } }\n`,
    );
    const proc = startProcess(MAIN, [], injectedSidecarEnv(ports, sink.url, f));
    try {
      await proc.waitFor(/tracebridge sidecar running/);
      const body = (await (await fetch(`http://127.0.0.1:${ports.health}/`)).json()) as { config?: { source: string; errors: string[] } };
      assert.deepEqual(body.config, { source: 'mounted', path: f, errors: [] });
      const metrics = await (await fetch(`http://127.0.0.1:${ports.metrics}/metrics`)).text();
      assert.match(metrics, /^tracebridge_config_errors\{source="mounted"\} 0$/m);
      assert.doesNotMatch(proc.stderr(), /"level":"error"/);
    } finally {
      await stop(proc);
    }
  });

  it('an explicit --config that is broken still exits 1 with the errors (a user running it by hand wants them)', async () => {
    const ports = await freeSidecarPorts();
    const f = join(dir, 'explicit.yaml');
    writeFileSync(f, 'receivers: { otlp: {} }\nprocessors:\n  batch:\n    send_batch_sise: 100\nexporters: { debug: {} }\nservice: { pipelines: { traces: { receivers: [otlp], processors: [batch], exporters: [debug] } } }\n');
    const res = await runProcess(MAIN, ['--config', f], injectedSidecarEnv(ports, sink.url, f));
    assert.equal(res.code, 1);
    assert.match(res.stderr, /invalid configuration:\n {2}processors\.batch\.send_batch_sise: unknown key/);
    assert.doesNotMatch(res.stderr, /listening/);
  });
});
