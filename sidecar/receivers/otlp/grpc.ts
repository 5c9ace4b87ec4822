// OTLP/gRPC server on node:http2 (grpc-h2.ts says why not grpc-js). Messages are not decoded: the
// handler gets the raw bytes, validates them to the leaves without decoding (pdata/validate.ts;
// metrics and logs: their outer levels) and passes them on unchanged (lossless). Malformed
// requests get INVALID_ARGUMENT naming the path of the fault, before anything is acknowledged.
// max_recv_msg_size applies after decompression, so gzip bombs are refused with
// RESOURCE_EXHAUSTED before they are held in memory whole. It listens on no port of its own: the
// receiver's endpoints (endpoint.ts) hand it their HTTP/2 connections.
import type { Socket } from 'node:net';
import type { Consumers } from '../../component/component.ts';
import { passthroughObs, receiverObs } from '../../component/obsreport.ts';
import { TracesData } from '../../pdata/traces.ts';
import { validateLogsRequest, validateMetricsRequest } from '../../pdata/passthrough.ts';
import { encodeTraceResponse } from '../../pdata/otlp-schema.ts';
import type { Logger } from '../../telemetry/logger.ts';
import type { MetricsRegistry } from '../../telemetry/metrics.ts';
import { ingestTraces } from '../internal/ingest.ts';
import type { GrpcConfig } from './config.ts';
import { classifyRefusal, PermanentError, type Refusal } from '../../component/errors.ts';
import { GrpcCode } from '../../net/grpc-protocol.ts';
import { GrpcError, GrpcH2Server, type Http2RequestHandler } from './grpc-h2.ts';
import { LOGS_EXPORT, METRICS_EXPORT, TRACE_EXPORT } from '../../pdata/otlp-grpc-paths.ts';

export { TRACE_EXPORT, METRICS_EXPORT, LOGS_EXPORT };

const EMPTY = Buffer.alloc(0);

const VALIDATE = { metrics: validateMetricsRequest, logs: validateLogsRequest } as const;
const MESSAGE = { metrics: 'ExportMetricsServiceRequest', logs: 'ExportLogsServiceRequest' } as const;

function malformed(message: string, err: unknown): GrpcError {
  if (!(err instanceof PermanentError)) throw err;
  return new GrpcError(GrpcCode.INVALID_ARGUMENT, `malformed ${message}: ${err.message}`);
}

function grpcError(r: Refusal): GrpcError {
  return new GrpcError(r.kind === 'invalid' ? GrpcCode.INVALID_ARGUMENT : GrpcCode.UNAVAILABLE, r.message);
}

export class OtlpGrpcHandler {
  private readonly server: GrpcH2Server;

  /** `http`: serves the requests on its HTTP/2 connections that are not gRPC (OTLP/HTTP over h2c). */
  constructor(id: string, cfg: GrpcConfig, next: Consumers, logger: Logger, metrics: MetricsRegistry, http: Http2RequestHandler) {
    this.server = new GrpcH2Server({
      maxMessageBytes: cfg.max_recv_msg_size_mib * 1024 * 1024,
      maxConcurrentStreams: cfg.max_concurrent_streams > 0 ? cfg.max_concurrent_streams : undefined,
      maxInflightBytes: cfg.max_inflight_size_mib * 1024 * 1024,
      maxConnectionIdleMs: cfg.keepalive.server_parameters.max_connection_idle,
      metrics,
      logger,
      labels: { receiver: id, transport: 'grpc' },
      http,
    });

    if (next.traces !== undefined) {
      const consumer = next.traces;
      const obs = receiverObs(metrics, id, 'grpc');
      this.server.addMethod(TRACE_EXPORT, async (request) => {
        let data: TracesData;
        try {
          data = TracesData.fromProto(request);
        } catch (err) {
          throw malformed('ExportTraceServiceRequest', err);
        }
        const out = await ingestTraces(consumer, obs, data);
        if (!out.ok) throw grpcError(out);
        return out.rejected > 0 ? Buffer.from(encodeTraceResponse(out.rejected, out.message)) : EMPTY;
      });
    }
    for (const [signal, path] of [['metrics', METRICS_EXPORT], ['logs', LOGS_EXPORT]] as const) {
      const consumer = next[signal];
      if (consumer === undefined) continue;
      const obs = passthroughObs(metrics, id, 'grpc', signal);
      const validate = VALIDATE[signal];
      this.server.addMethod(path, async (request) => {
        try {
          validate(request);
        } catch (err) {
          obs.refused.add(1);
          throw malformed(MESSAGE[signal], err);
        }
        try {
          await consumer.consumeOpaque({ signal, bytes: request });
        } catch (err) {
          obs.refused.add(1);
          throw grpcError(classifyRefusal(err));
        }
        obs.accepted.add(1);
        return EMPTY;
      });
    }
  }

  /** Serves an HTTP/2 connection whose first bytes, `head`, an endpoint has read (first-bytes.ts). */
  acceptConnection(socket: Socket, head: Buffer, grpcCore: boolean): void {
    this.server.acceptConnection(socket, head, grpcCore);
  }

  /** Stops accepting calls; in-flight calls get until `graceMs` to finish. */
  shutdown(graceMs = 5000): Promise<void> {
    return this.server.close(graceMs);
  }
}
