// A running sidecar Service with the zipkin receiver (on port 0) feeding the test sink. The
// registry is built here so these tests do not depend on the shared component list.
import { request } from 'node:http';
import { zipkinReceiverFactory } from '../../../../sidecar/receivers/zipkin/factory.ts';
import type { ZipkinReceiver } from '../../../../sidecar/receivers/zipkin/receiver.ts';
import { decodeSidecarConfig } from '../../../../sidecar/config/service-config.ts';
import { expandEnv, parseConfigText } from '../../../../sidecar/config/load.ts';
import type { ComponentRegistry } from '../../../../sidecar/service/components.ts';
import { Service } from '../../../../sidecar/service/service.ts';
import { silentLogger, sinks, testRegistry, type SinkExporter } from '../../../support/sink.ts';

export const registry: ComponentRegistry = {
  ...testRegistry,
  receiver: new Map([...testRegistry.receiver, ['zipkin', zipkinReceiverFactory]]),
};

export function zipkinConfig(receiver = 'zipkin: { endpoint: 127.0.0.1:0 }', sinkMode = 'accept'): string {
  return `
receivers:
  ${receiver}
exporters:
  sink: { mode: ${sinkMode} }
service:
  pipelines:
    traces: { receivers: [zipkin], exporters: [sink] }
  telemetry: { metrics: { level: none } }
`;
}

export interface Running {
  svc: Service;
  receiver: ZipkinReceiver;
  sink: SinkExporter;
  url: string;
}

export async function startZipkin(yaml = zipkinConfig()): Promise<Running> {
  const cfg = decodeSidecarConfig(expandEnv(parseConfigText(yaml, 'test.yaml'), {}), registry);
  const svc = new Service(cfg, silentLogger, registry);
  await svc.start();
  const receiver = svc.receivers.get('zipkin') as ZipkinReceiver;
  return { svc, receiver, sink: sinks.get('sink')!, url: `http://127.0.0.1:${receiver.port}/api/v2/spans` };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export function post(url: string, body: Buffer | string, headers: Record<string, string> = { 'Content-Type': 'application/json' }, method = 'POST'): Promise<Answer> {
  const data = typeof body === 'string' ? Buffer.from(body) : body;
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { ...headers, 'Content-Length': String(data.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(data);
  });
}
