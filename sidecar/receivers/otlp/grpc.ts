// OTLP/gRPC server. Messages are not deserialized by grpc-js: the handler gets the raw bytes,
// validates their framing with the wire walker and passes them on unchanged (lossless, no decode).
// grpc-js applies max_recv_msg_size to the decompressed message, so gzip bombs are refused with
// RESOURCE_EXHAUSTED before they are held in memory whole.
import * as grpc from '@grpc/grpc-js';
import type { Consumers } from '../../component/component.ts';
import { passthroughObs, receiverObs } from '../../component/obsreport.ts';
import { TracesData } from '../../pdata/traces.ts';
import { WireFormatError } from '../../pdata/wire.ts';
import { encodeTraceResponse } from '../../pdata/otlp-schema.ts';
import type { Logger } from '../../telemetry/logger.ts';
import type { MetricsRegistry } from '../../telemetry/metrics.ts';
import { ingestTraces } from '../internal/ingest.ts';
import type { GrpcConfig } from './config.ts';
import { classifyRefusal, type Refusal } from '../../component/errors.ts';

const raw = (b: Buffer): Buffer => b;

function unary(path: string): grpc.MethodDefinition<Buffer, Buffer> {
  return {
    path,
    requestStream: false,
    responseStream: false,
    requestSerialize: raw,
    requestDeserialize: raw,
    responseSerialize: raw,
    responseDeserialize: raw,
  };
}

export const TRACE_EXPORT = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
export const METRICS_EXPORT = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';
export const LOGS_EXPORT = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';

const EMPTY = Buffer.alloc(0);

function grpcError(r: Refusal): Partial<grpc.StatusObject> {
  return { code: r.kind === 'invalid' ? grpc.status.INVALID_ARGUMENT : grpc.status.UNAVAILABLE, details: r.message };
}

export class OtlpGrpcServer {
  private readonly server: grpc.Server;
  private readonly cfg: GrpcConfig;
  private readonly logger: Logger;
  private boundPort = 0;

  constructor(id: string, cfg: GrpcConfig, next: Consumers, logger: Logger, metrics: MetricsRegistry) {
    this.cfg = cfg;
    this.logger = logger;
    const options: grpc.ServerOptions = { 'grpc.max_receive_message_length': cfg.max_recv_msg_size_mib * 1024 * 1024 };
    if (cfg.max_concurrent_streams > 0) options['grpc.max_concurrent_streams'] = cfg.max_concurrent_streams;
    this.server = new grpc.Server(options);

    if (next.traces !== undefined) {
      const consumer = next.traces;
      const obs = receiverObs(metrics, id, 'grpc');
      this.server.addService({ Export: unary(TRACE_EXPORT) }, {
        Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
          let data: TracesData;
          try {
            data = TracesData.fromProto(call.request);
          } catch (err) {
            const why = err instanceof WireFormatError ? err.message : String(err);
            callback({ code: grpc.status.INVALID_ARGUMENT, details: `malformed ExportTraceServiceRequest: ${why}` });
            return;
          }
          void ingestTraces(consumer, obs, data).then((out) => {
            if (out.ok) callback(null, out.rejected > 0 ? Buffer.from(encodeTraceResponse(out.rejected, out.message)) : EMPTY);
            else callback(grpcError(out));
          });
        },
      });
    }
    for (const [signal, path] of [['metrics', METRICS_EXPORT], ['logs', LOGS_EXPORT]] as const) {
      const consumer = next[signal];
      if (consumer === undefined) continue;
      const obs = passthroughObs(metrics, id, 'grpc', signal);
      this.server.addService({ Export: unary(path) }, {
        Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
          consumer.consumeOpaque({ signal, bytes: call.request }).then(
            () => {
              obs.accepted.add(1);
              callback(null, EMPTY);
            },
            (err: unknown) => {
              obs.refused.add(1);
              callback(grpcError(classifyRefusal(err)));
            },
          );
        },
      });
    }
  }

  async start(): Promise<void> {
    this.boundPort = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(this.cfg.endpoint, grpc.ServerCredentials.createInsecure(), (err, port) => {
        if (err !== null) reject(err);
        else resolve(port);
      });
    });
    this.logger.info({ endpoint: this.cfg.endpoint, port: this.boundPort }, 'OTLP gRPC receiver listening');
  }

  get port(): number {
    return this.boundPort;
  }

  /** Stops accepting calls; in-flight calls get until `graceMs` to finish. */
  async shutdown(graceMs = 5000): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      timer.unref();
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
