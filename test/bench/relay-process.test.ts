// The bench's baselines (bench/relay-process.ts): the raw relay forwards each request's bytes,
// unread, to the sink; the ack-only floor answers OK and forwards nothing.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { baselineArgs, entrypointNodeArgs } from '../../bench/entrypoint.ts';
import { countSpans } from '../../sidecar/pdata/wire.ts';
import { GrpcH2Server } from '../../sidecar/receivers/otlp/grpc-h2.ts';
import { TRACE_EXPORT } from '../../sidecar/receivers/otlp/grpc.ts';
import { call, grpcFrame } from '../sidecar/receivers/otlp/testdata/h2-call.ts';
import { freePort } from '../support/otlp-sinks.ts';
import { ROOT } from '../support/process.ts';
import { tinySpans } from '../support/spans.ts';

// The node flags of the image's ENTRYPOINT: the bench runs its baselines with the sidecar's flags.
const imageFlags = entrypointNodeArgs(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));

async function startBaseline(sinkPort: string): Promise<{ proc: ChildProcess; port: number }> {
  const port = await freePort();
  const proc = spawn(process.execPath, baselineArgs(imageFlags, join(ROOT, 'bench/relay-process.ts'), port, sinkPort === '-' ? '-' : Number(sinkPort)), { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    proc.stdout.once('data', () => resolve());
    proc.once('exit', (code) => reject(new Error(`relay-process exited (${code})`)));
  });
  return { proc, port };
}

describe('bench baselines (bench/relay-process.ts)', () => {
  let sink: GrpcH2Server;
  let sinkPort: number;
  let spans: number;
  beforeEach(async () => {
    spans = 0;
    sink = new GrpcH2Server({ maxMessageBytes: 4 * 1024 * 1024 });
    sink.addMethod(TRACE_EXPORT, (request) => {
      spans += countSpans(request);
      return Promise.resolve(Buffer.alloc(0));
    });
    sinkPort = await sink.listen('127.0.0.1:0');
  });
  afterEach(() => sink.close(100));

  for (const [name, forwarded] of [['the raw relay forwards every request to the sink', true], ['the ack-only floor answers OK and forwards nothing', false]] as const) {
    it(name, async () => {
      const { proc, port } = await startBaseline(forwarded ? String(sinkPort) : '-');
      try {
        for (let i = 0; i < 3; i++) assert.equal((await call(port, TRACE_EXPORT, grpcFrame(tinySpans(5)))).grpcStatus, 0);
        const deadline = Date.now() + 3000;
        while (forwarded && spans < 15 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(spans, forwarded ? 15 : 0);
        // Run as the sidecar runs: the image's node flags, so the floor pays the same V8 settings.
        const argv = readFileSync(`/proc/${proc.pid}/cmdline`, 'utf8').split('\0');
        assert.ok(imageFlags.length > 0 && imageFlags.every((f) => argv.includes(f)), `${imageFlags.join(' ')} in ${argv.join(' ')}`);
      } finally {
        proc.kill('SIGTERM');
        await new Promise((r) => proc.once('exit', r));
      }
    });
  }
});
