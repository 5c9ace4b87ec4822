// The bench's OTLP gRPC sink (bench/sink-process.ts) stands in for a collector: its flow-control
// windows must be a collector's, or the sidecar's exports of 8 MB batches wait on window updates
// from the sink and the bench measures that instead of the sidecar.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type ClientHttp2Session } from 'node:http2';
import { join } from 'node:path';
import { GrpcH2Server } from '../../sidecar/receivers/otlp/grpc-h2.ts';
import { TRACE_EXPORT } from '../../sidecar/receivers/otlp/grpc.ts';
import { ROOT } from '../support/process.ts';

/** The windows a client sees from the server on `port`: SETTINGS_INITIAL_WINDOW_SIZE and the connection's. */
async function windows(port: number): Promise<{ stream: number; connection: number }> {
  const session: ClientHttp2Session = connect(`http://127.0.0.1:${port}`);
  try {
    await new Promise<void>((resolve, reject) => {
      session.once('remoteSettings', () => resolve());
      session.once('error', reject);
    });
    // The connection's window comes in a WINDOW_UPDATE after the SETTINGS: one round trip more.
    const ping = () => new Promise<void>((r) => session.ping(() => r()));
    await ping();
    await ping();
    return { stream: session.remoteSettings.initialWindowSize!, connection: session.state.remoteWindowSize! };
  } finally {
    session.close();
  }
}

describe('bench sink (bench/sink-process.ts)', () => {
  let proc: ChildProcess | undefined;
  afterEach(() => proc?.kill());

  it("offers a collector's flow-control windows (16 MiB per stream and per connection); the receiver keeps node's 65,535 bytes", async () => {
    proc = spawn(process.execPath, [join(ROOT, 'bench/sink-process.ts')], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const port = await new Promise<number>((resolve, reject) => {
      proc!.once('message', (m: { port: number }) => resolve(m.port));
      proc!.once('exit', (code) => reject(new Error(`sink-process exited (${code})`)));
    });
    assert.deepEqual(await windows(port), { stream: 16 * 1024 * 1024, connection: 16 * 1024 * 1024 });

    const receiver = new GrpcH2Server({ maxMessageBytes: 4 * 1024 * 1024 });
    receiver.addMethod(TRACE_EXPORT, () => Promise.resolve(Buffer.alloc(0)));
    try {
      assert.deepEqual(await windows(await receiver.listen('127.0.0.1:0')), { stream: 65_535, connection: 65_535 });
    } finally {
      await receiver.close(100);
    }
  });
});
