// The `otlp` receiver: one gRPC and/or one HTTP server feeding the same consumers.
import type { Component, Consumers, CreateSettings } from '../../component/component.ts';
import type { OtlpReceiverConfig } from './config.ts';
import { OtlpGrpcServer } from './grpc.ts';
import { OtlpHttpServer } from './http.ts';
import { startOrSkip } from '../internal/start-or-skip.ts';

export class OtlpReceiver implements Component {
  readonly grpc: OtlpGrpcServer | undefined;
  readonly http: OtlpHttpServer | undefined;
  private readonly settings: CreateSettings;
  private stopped: Promise<void> | undefined;

  constructor(settings: CreateSettings, cfg: OtlpReceiverConfig, next: Consumers) {
    this.settings = settings;
    const { grpc, http } = cfg.protocols;
    const log = settings.logger;
    this.grpc = grpc && new OtlpGrpcServer(settings.id, grpc, next, log, settings.metrics);
    this.http = http && new OtlpHttpServer(settings.id, http, next, log, settings.metrics);
  }

  async start(): Promise<void> {
    if (this.grpc) await startOrSkip(this.settings, 'grpc', () => this.grpc!.start());
    if (this.http) await startOrSkip(this.settings, 'http', () => this.http!.start());
  }

  shutdown(): Promise<void> {
    this.stopped ??= Promise.all([this.grpc?.shutdown(), this.http?.shutdown()]).then(() => undefined);
    return this.stopped;
  }
}
