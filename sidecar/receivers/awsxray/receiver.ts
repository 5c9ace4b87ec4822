// The `awsxray` receiver: the X-Ray daemon's two faces in the pod. Segments over UDP become OTLP
// spans; the sampling API over TCP (same port number by default) is relayed to X-Ray or answered
// locally. Each listener that cannot bind is logged and skipped, never fatal (an X-Ray daemon
// may still hold port 2000 during a migration).
import type { Component, Consumers, CreateSettings } from '../../component/component.ts';
import type { Env } from '../../config/load.ts';
import { startOrSkip } from '../internal/start-or-skip.ts';
import type { AwsXrayReceiverConfig } from './config.ts';
import { SamplingProxy, type SamplingProxyOptions } from './proxy.ts';
import { XRayUdpServer, type UdpOptions } from './udp.ts';

export interface AwsXrayReceiverOptions {
  env: Env;
  udp?: UdpOptions;
  proxy?: Omit<SamplingProxyOptions, 'env'>;
}

export class AwsXrayReceiver implements Component {
  readonly udp: XRayUdpServer | undefined;
  readonly proxy: SamplingProxy;
  private readonly settings: CreateSettings;
  private stopped: Promise<void> | undefined;

  constructor(settings: CreateSettings, cfg: AwsXrayReceiverConfig, next: Consumers, opts: AwsXrayReceiverOptions) {
    this.settings = settings;
    const { logger, metrics, id } = settings;
    // The receiver only makes traces; built outside a traces pipeline it still serves sampling.
    this.udp = next.traces && new XRayUdpServer(id, cfg.endpoint, next.traces, logger, metrics, opts.udp);
    this.proxy = new SamplingProxy(id, cfg.proxy_server, logger, metrics, { ...opts.proxy, env: opts.env });
  }

  async start(): Promise<void> {
    if (this.udp) await startOrSkip(this.settings, 'udp', () => this.udp!.start());
    await startOrSkip(this.settings, 'tcp', () => this.proxy.start());
  }

  shutdown(): Promise<void> {
    this.stopped ??= Promise.all([this.udp?.shutdown(), this.proxy.shutdown()]).then(() => undefined);
    return this.stopped;
  }
}
