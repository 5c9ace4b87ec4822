// The tracebridge-sidecar process as a user starts it, with an otlp receiver (both protocols on
// ephemeral ports), a batch processor holding spans for 10s and an otlphttp exporter to a sink.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startProcess, type Running } from '../../../../support/process.ts';

export function sidecarConfig(dir: string, sinkUrl: string, extraService = ''): string {
  const file = join(dir, 'sidecar.yaml');
  writeFileSync(
    file,
    `
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:0 }
      http: { endpoint: 127.0.0.1:0 }
processors:
  batch: { timeout: 10s }
exporters:
  otlphttp:
    endpoint: ${sinkUrl}
service:
  pipelines:
    traces: { receivers: [otlp], processors: [batch], exporters: [otlphttp] }
  telemetry: { metrics: { level: none }, logs: { level: info } }
  shutdown_timeout: 25s
${extraService}`,
  );
  return file;
}

export async function startSidecar(config: string, env: Record<string, string | undefined> = {}): Promise<{ proc: Running; grpcPort: number; httpPort: number }> {
  const proc = startProcess('sidecar/main.ts', ['--config', config], env);
  const port = (what: string) => proc.waitFor(new RegExp(`"port":\\d+,"msg":"OTLP ${what} receiver listening"`)).then((l) => Number(/"port":(\d+)/.exec(l)![1]));
  const [grpcPort, httpPort] = [await port('gRPC'), await port('HTTP')];
  await proc.waitFor(/tracebridge sidecar running/);
  return { proc, grpcPort, httpPort };
}

/** SIGTERM; resolves with the exit code and the time it took. */
export async function terminate(proc: Running): Promise<{ code: number | null; ms: number }> {
  const t0 = Date.now();
  proc.child.kill('SIGTERM');
  const code = await Promise.race([proc.exited, new Promise<'late'>((r) => setTimeout(() => r('late'), 30_000).unref())]);
  const ms = Date.now() - t0;
  if (code === 'late') {
    proc.child.kill('SIGKILL');
    return { code: null, ms };
  }
  return { code, ms };
}

