// A running sidecar Service with the awsxray receiver feeding the test sink, plus small helpers
// (UDP send, a port free on both UDP and TCP, captured log lines). The registry is built here so
// these tests do not depend on the shared component list.
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { awsXrayReceiverFactory } from '../../../../sidecar/receivers/awsxray/factory.ts';
import type { AwsXrayReceiver } from '../../../../sidecar/receivers/awsxray/receiver.ts';
import { decodeSidecarConfig } from '../../../../sidecar/config/service-config.ts';
import { expandEnv, parseConfigText } from '../../../../sidecar/config/load.ts';
import type { ComponentRegistry } from '../../../../sidecar/service/components.ts';
import { Service } from '../../../../sidecar/service/service.ts';
import { createLogger } from '../../../../sidecar/telemetry/logger.ts';
import { sinks, testRegistry, type SinkExporter } from '../../../support/sink.ts';

export const registry: ComponentRegistry = {
  ...testRegistry,
  receiver: new Map([...testRegistry.receiver, ['awsxray', awsXrayReceiverFactory]]),
};

export const HEADER = '{"format":"json","version":1}\n';

/** A port number that is free for both UDP and TCP right now (the SDK uses one port for both). */
export async function freeSharedPort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const s = createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('no port free for both UDP and TCP');
}

export function xrayConfig(opts: { port?: number; proxy?: string; sinkMode?: 'accept' | 'refuse' } = {}): string {
  const port = opts.port ?? 0;
  return `
receivers:
  awsxray:
    endpoint: 127.0.0.1:${port}
    transport: udp
    proxy_server: { endpoint: 127.0.0.1:${port}, ${opts.proxy ?? 'local_mode: true'} }
exporters:
  sink: { mode: ${opts.sinkMode ?? 'accept'} }
service:
  pipelines:
    traces: { receivers: [awsxray], exporters: [sink] }
  telemetry: { metrics: { level: none } }
`;
}

export interface LogLine {
  level: string;
  msg: string;
  [k: string]: unknown;
}

export interface Running {
  svc: Service;
  receiver: AwsXrayReceiver;
  sink: SinkExporter;
  udpPort: number;
  tcpPort: number;
  logs: LogLine[];
  metric(name: string, labels: Record<string, string>): number;
}

export async function startXRay(yaml = xrayConfig()): Promise<Running> {
  const logs: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const cfg = decodeSidecarConfig(expandEnv(parseConfigText(yaml, 'test.yaml'), {}), registry);
  const svc = new Service(cfg, createLogger('info', stream), registry);
  await svc.start();
  const receiver = svc.receivers.get('awsxray') as AwsXrayReceiver;
  return {
    svc,
    receiver,
    sink: sinks.get('sink')!,
    udpPort: receiver.udp!.port,
    tcpPort: receiver.proxy.port,
    logs,
    metric(name, labels) {
      const line = svc.metrics
        .render()
        .split('\n')
        .find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
      return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
    },
  };
}

export function sendDatagram(port: number, payload: Buffer | string): Promise<void> {
  const socket = createSocket('udp4');
  return new Promise((resolve, reject) => {
    socket.send(typeof payload === 'string' ? Buffer.from(payload) : payload, port, '127.0.0.1', (err) => {
      socket.close();
      if (err) reject(err);
      else resolve();
    });
  });
}

/** Waits until `cond` holds, polling; rejects after `ms`. For counters updated by UDP handlers. */
export async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
