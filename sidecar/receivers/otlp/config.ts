// Config of the `otlp` receiver; the same fields as the collector's otlpreceiver where the
// meaning is the same. A section's presence binds its endpoint (`grpc:` alone uses the defaults);
// every endpoint serves both protocols, each with its own section's settings, or that section's
// defaults when it is absent (receiver.ts).
import { duration, endpoint, int, object, presence, string, withDefault } from '../../config/schema.ts';

/**
 * Streams one client connection may have open at once. grpc-go (and so the collector) sets no
 * limit by default; a per-pod sidecar serves a handful of SDK connections, and 100 is the floor
 * RFC 9113 §6.5.2 recommends: enough for any exporter (each keeps a few calls in flight), small
 * enough that one connection cannot open hundreds of half-sent messages.
 */
export const DEFAULT_MAX_CONCURRENT_STREAMS = 100;
/**
 * Request bytes in flight across all connections of one gRPC server: declared message sizes of
 * calls still being received or handled. Sized for a per-pod sidecar: 8 largest (4 MiB) messages
 * at once, thousands of typical ones (an SDK batch of 512 spans is ~100-300 KiB); more get
 * RESOURCE_EXHAUSTED, which OTLP exporters retry with backoff.
 */
export const DEFAULT_MAX_INFLIGHT_SIZE_MIB = 32;
/** A connection without calls for this long is closed with GOAWAY (grpc-go: MaxConnectionIdle). */
export const DEFAULT_MAX_CONNECTION_IDLE_MS = 5 * 60_000;

const urlPath = (def: string) => withDefault(string({ pattern: /^\/\S*$/, patternHint: 'a URL path starting with /' }), def);

export const grpcConfig = object({
  /** Listen address; loopback by default (spans arrive from the pod only). Serves OTLP/HTTP too. */
  endpoint: withDefault(endpoint(), '127.0.0.1:4317'),
  /** Largest accepted message after decompression, MiB (collector default 4). */
  max_recv_msg_size_mib: withDefault(int({ min: 1, max: 512 }), 4),
  /** Concurrent HTTP/2 streams per connection (0 = the default, 100); more are refused (REFUSED_STREAM). */
  max_concurrent_streams: withDefault(int({ min: 0, max: 2 ** 31 - 1 }), DEFAULT_MAX_CONCURRENT_STREAMS),
  /**
   * Request bytes in flight across all gRPC connections, MiB (at least one largest message): a
   * call whose declared size does not fit gets RESOURCE_EXHAUSTED at once.
   */
  max_inflight_size_mib: withDefault(int({ min: 1, max: 4096 }), DEFAULT_MAX_INFLIGHT_SIZE_MIB),
  /** The collector's keepalive block; only what a server enforces on its own. */
  keepalive: withDefault(
    object({
      server_parameters: withDefault(
        object({
          /** Close a connection with no calls for this long (GOAWAY, then the client reconnects); 0 = never. */
          max_connection_idle: withDefault(duration({ min: 0 }), DEFAULT_MAX_CONNECTION_IDLE_MS),
        }),
        { max_connection_idle: DEFAULT_MAX_CONNECTION_IDLE_MS },
      ),
    }),
    { server_parameters: { max_connection_idle: DEFAULT_MAX_CONNECTION_IDLE_MS } },
  ),
});

export const httpConfig = object({
  /** Listen address; serves OTLP/gRPC too. The grpc endpoint written again is bound once. */
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
