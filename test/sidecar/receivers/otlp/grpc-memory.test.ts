// Memory of the sidecar process under gRPC calls that hold large messages: what the kernel
// counts (RSS), measured from outside as an operator would, while clients push many big calls.
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClientHttp2Session } from 'node:http2';
import { TRACE_EXPORT } from '../../../../sidecar/receivers/otlp/grpc.ts';
import { encodeTraceRequest } from '../../../../sidecar/pdata/otlp-schema.ts';
import { entrypoint } from '../../../../bench/entrypoint.ts';
import { ROOT, startProcess, type Running } from '../../../support/process.ts';
import { grpcFrame, openSession, startCall, type GrpcAnswer } from './testdata/h2-call.ts';
import { pythonCalls, type CallResult } from './testdata/python-client.ts';
import { RpcStatusType } from '../../../support/rpc-status-proto.ts';

const MiB = 1024 * 1024;
/**
 * The V8 flags of the image's ENTRYPOINT (young generation capped at 1 MiB, ...): the sidecar runs
 * as pods run it. Without them V8's young generation grows to 16 MiB a semi-space under this
 * allocation rate, and how much of the chunks' garbage is still there at the peak varied the growth
 * from 35 to 61 MiB between runs.
 */
const IMAGE_NODE_ARGS = entrypoint(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).nodeArgs;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  return Number(m![1]) / 1024;
}

/** Samples RSS every 20 ms while `work` runs; resolves with the peak. */
async function peakRss(pid: number, work: () => Promise<void>): Promise<number> {
  let peak = rssMiB(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 20);
  try {
    await work();
    await sleep(300);
    peak = Math.max(peak, rssMiB(pid));
  } finally {
    clearInterval(timer);
  }
  return peak;
}

/** An OTLP request of about `bytes`: spans carrying a 10 KiB attribute each. */
function bigRequest(bytes: number): Buffer {
  const value = 'x'.repeat(10 * 1024);
  const n = Math.floor(bytes / (value.length + 60));
  const spans = Array.from({ length: n }, (_, i) => ({
    traceId: Buffer.alloc(16, 1),
    spanId: Buffer.alloc(8, (i % 250) + 1),
    name: 'big',
    startTimeUnixNano: 1n,
    endTimeUnixNano: 2n,
    attributes: [{ key: 'payload', value: { stringValue: value } }],
  }));
  return Buffer.from(encodeTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans }] }] }));
}

describe('otlp receiver gRPC memory (sidecar process)', function () {
  this.timeout(30_000);
  let sidecar: Running;
  let port: number;

  beforeEach(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tb-grpc-mem-'));
    const cfg = join(dir, 'config.yaml');
    writeFileSync(
      cfg,
      `receivers: { otlp: { protocols: { grpc: { endpoint: 127.0.0.1:0 } } } }
exporters: { debug: { verbosity: basic } }
service: { pipelines: { traces: { receivers: [otlp], exporters: [debug] } }, telemetry: { metrics: { level: none } } }
`,
    );
    sidecar = startProcess('sidecar/main.ts', ['--config', cfg], {}, IMAGE_NODE_ARGS);
    await sidecar.waitFor(/"msg":"OTLP gRPC receiver listening"/);
    port = Number(/"port":(\d+),"msg":"OTLP gRPC receiver listening"/.exec(sidecar.stderr())![1]);
  });

  afterEach(async () => {
    sidecar.child.kill('SIGTERM');
    await sidecar.exited;
  });

  it('one connection with 50 streams each holding a partial 4 MiB message: RSS grows by the in-flight budget, not by 200 MiB', async () => {
    const session: ClientHttp2Session = await openSession(port);
    const pid = sidecar.child.pid!;
    await sleep(200);
    const before = rssMiB(pid);
    const answers: Promise<GrpcAnswer>[] = [];
    const peak = await peakRss(pid, async () => {
      const body = grpcFrame(Buffer.alloc(4 * MiB, 7)).subarray(0, 4 * MiB); // one byte short: never complete
      const writes = Array.from({ length: 50 }, () => {
        const c = startCall(session, TRACE_EXPORT, body, { end: false });
        answers.push(c.answer);
        return new Promise<void>((resolve) => {
          c.stream.on('close', resolve);
          c.answer.then(() => resolve(), () => resolve());
          c.stream.write(Buffer.alloc(0), () => resolve());
        });
      });
      await Promise.race([Promise.all(writes), sleep(5000)]);
      await sleep(500);
    });
    session.destroy();
    const refused = (await Promise.all(answers)).filter((a) => a.grpcStatus === 8).length;
    process.stderr.write(`      RSS ${before.toFixed(0)} MiB -> peak ${peak.toFixed(0)} MiB; ${refused} of 42 refused with RESOURCE_EXHAUSTED\n`);
    assert.ok(peak - before < 80, `RSS grew by ${(peak - before).toFixed(0)} MiB`);
    assert.equal(refused, 42);
  });

  it('20 concurrent 3 MiB calls from gRPC C-core: what fits the budget is served, the rest get RESOURCE_EXHAUSTED (retryable), RSS stays bounded', async () => {
    const request = bigRequest(3 * MiB);
    const pid = sidecar.child.pid!;
    // One small call first, as the 50-stream test opens its connection before measuring: the
    // sidecar loads node:http2 on its first HTTP/2 connection, and that one-time load is no part of
    // what the in-flight budget bounds.
    const warm = await pythonCalls(port, TRACE_EXPORT, bigRequest(1024), { count: 1, timeoutS: 20 });
    assert.equal(warm[0]?.code, 'OK', JSON.stringify(warm));
    await sleep(200);
    const before = rssMiB(pid);
    let results: CallResult[] = [];
    const peak = await peakRss(pid, async () => {
      results = await pythonCalls(port, TRACE_EXPORT, request, { count: 20, timeoutS: 20 });
    });
    const ok = results.filter((r) => r.code === 'OK').length;
    const exhausted = results.filter((r) => r.code === 'RESOURCE_EXHAUSTED').length;
    process.stderr.write(`      RSS ${before.toFixed(0)} MiB -> peak ${peak.toFixed(0)} MiB; ${ok} OK, ${exhausted} RESOURCE_EXHAUSTED\n`);
    assert.equal(ok + exhausted, 20, JSON.stringify(results));
    // Retryable for every OTLP client: each refusal carries a RetryInfo, as C-core read it.
    for (const r of results.filter((x) => x.code === 'RESOURCE_EXHAUSTED')) {
      assert.ok(r.statusDetails !== undefined, `no grpc-status-details-bin: ${JSON.stringify(r)}`);
      const status = RpcStatusType.decode(Buffer.from(r.statusDetails, 'base64')) as unknown as { code: number; details: { type_url: string }[] };
      assert.equal(status.code, 8);
      assert.deepEqual(status.details.map((d) => d.type_url), ['type.googleapis.com/google.rpc.RetryInfo']);
    }
    assert.ok(ok >= 8, `only ${ok} calls served`);
    assert.ok(peak - before < 60, `RSS grew by ${(peak - before).toFixed(0)} MiB`);
  });
});
