// Config of the `otlp` receiver; the same fields as the collector's otlpreceiver where the
// meaning is the same. A protocol is enabled by its presence (`grpc:` alone uses the defaults).
import { endpoint, int, object, presence, string, withDefault } from '../../config/schema.ts';

const urlPath = (def: string) => withDefault(string({ pattern: /^\/\S*$/, patternHint: 'a URL path starting with /' }), def);

export const grpcConfig = object({
  /** Listen address; loopback by default (spans arrive from the pod only). */
  endpoint: withDefault(endpoint(), '127.0.0.1:4317'),
  /** Largest accepted message after decompression, MiB (collector default 4). */
  max_recv_msg_size_mib: withDefault(int({ min: 1, max: 512 }), 4),
  /** Concurrent HTTP/2 streams per connection (0 = grpc-js default). */
  max_concurrent_streams: withDefault(int({ min: 0 }), 0),
});

export const httpConfig = object({
  endpoint: withDefault(endpoint(), '127.0.0.1:4318'),
  /** Largest accepted body, compressed and decompressed, bytes (collector default 20 MiB). */
  max_request_body_size: withDefault(int({ min: 1024 }), 20 * 1024 * 1024),
  traces_url_path: urlPath('/v1/traces'),
  metrics_url_path: urlPath('/v1/metrics'),
  logs_url_path: urlPath('/v1/logs'),
});

export const otlpReceiverConfig = object(
  {
    protocols: withDefault(
      object({ grpc: presence(grpcConfig), http: presence(httpConfig) }),
      { grpc: grpcConfig.defaultValue, http: httpConfig.defaultValue },
    ),
  },
  {
    check(cfg, path, errors) {
      if (cfg.protocols.grpc === undefined && cfg.protocols.http === undefined) {
        errors.add(`${path}.protocols`, 'must enable at least one protocol (grpc or http)');
      }
    },
  },
);

export type GrpcConfig = typeof grpcConfig.defaultValue;
export type HttpConfig = typeof httpConfig.defaultValue;
export type OtlpReceiverConfig = typeof otlpReceiverConfig.defaultValue;
