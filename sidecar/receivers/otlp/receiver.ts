// The `otlp` receiver: one OTLP/gRPC handler and one OTLP/HTTP handler feeding the same consumers,
// and one endpoint per configured protocol section, each serving both protocols (endpoint.ts).
// gRPC calls get the grpc section's settings and HTTP requests the http section's, whichever port
// they came in on; a section left out binds no port and its protocol keeps its defaults. Both
// sections naming the same endpoint bind it once. Metrics are labelled with the protocol of the
// request (transport="grpc" / "http"), not with the port.
import type { Component, Consumers, CreateSettings } from '../../component/component.ts';
import { parseHostPort } from '../../config/schema.ts';
import { grpcConfig, httpConfig, type OtlpReceiverConfig } from './config.ts';
import { OtlpEndpoint } from './endpoint.ts';
import { OtlpGrpcHandler } from './grpc.ts';
import { OtlpHttpHandler } from './http.ts';
import { startOrSkip } from '../internal/start-or-skip.ts';

export interface OtlpReceiverOptions {
  /** Time a new connection has to send the first bytes that tell its protocol (first-bytes.ts). */
  firstBytesTimeoutMs?: number;
}

/** Whether two endpoints are one listening address (port 0 is a new ephemeral port each time). */
function sameAddress(a: string, b: string): boolean {
  const x = parseHostPort(a);
  const y = parseHostPort(b);
  return x !== undefined && y !== undefined && x.port !== 0 && x.port === y.port && x.host.toLowerCase() === y.host.toLowerCase();
}

export class OtlpReceiver implements Component {
  /** The grpc section's endpoint (serving both protocols); undefined without that section. */
  readonly grpc: OtlpEndpoint | undefined;
  /** The http section's endpoint; the same object as `grpc` when both name the same address. */
  readonly http: OtlpEndpoint | undefined;
  private readonly grpcHandler: OtlpGrpcHandler;
  private readonly settings: CreateSettings;
  private stopped: Promise<void> | undefined;

  constructor(settings: CreateSettings, cfg: OtlpReceiverConfig, next: Consumers, opts: OtlpReceiverOptions = {}) {
    this.settings = settings;
    const { grpc, http } = cfg.protocols;
    const { id, logger, metrics } = settings;
    const httpHandler = new OtlpHttpHandler(id, http ?? httpConfig.defaultValue, next, logger, metrics);
    this.grpcHandler = new OtlpGrpcHandler(id, grpc ?? grpcConfig.defaultValue, next, logger, metrics, (stream, headers, rawHeaders) =>
      httpHandler.serveHttp2(stream, headers, rawHeaders),
    );
    const endpoint = (address: string) => new OtlpEndpoint(address, httpHandler, this.grpcHandler, opts.firstBytesTimeoutMs);
    this.grpc = grpc && endpoint(grpc.endpoint);
    this.http = http && (this.grpc !== undefined && sameAddress(grpc!.endpoint, http.endpoint) ? this.grpc : endpoint(http.endpoint));
  }

  async start(): Promise<void> {
    // The log lines name each section's endpoint, as before both ports served both protocols.
    const log = (what: string, e: OtlpEndpoint) => this.settings.logger.info({ endpoint: e.endpoint, port: e.port }, `OTLP ${what} receiver listening`);
    let grpcUp = false;
    if (this.grpc) grpcUp = await startOrSkip(this.settings, 'grpc', () => this.grpc!.start().then(() => log('gRPC', this.grpc!)));
    if (this.http === this.grpc) {
      if (grpcUp) log('HTTP', this.http!);
    } else if (this.http) {
      await startOrSkip(this.settings, 'http', () => this.http!.start().then(() => log('HTTP', this.http!)));
    }
  }

  shutdown(): Promise<void> {
    this.stopped ??= Promise.all([this.grpc?.shutdown(), this.http === this.grpc ? undefined : this.http?.shutdown(), this.grpcHandler.shutdown()]).then(() => undefined);
    return this.stopped;
  }
}
