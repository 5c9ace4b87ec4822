// Config of the `zipkin` receiver: the collector's zipkinreceiver fields. The listener is the
// top-level `endpoint` (the form most configs use) or, as in collectors since v0.128.0,
// `protocols.http`; when both are given `protocols.http` wins, as there.
import { bool, endpoint, int, object, presence, withDefault } from '../../config/schema.ts';

export const DEFAULT_ENDPOINT = '127.0.0.1:9411';
/** Largest accepted body, compressed and decompressed (confighttp's default, as for OTLP/HTTP). */
export const DEFAULT_MAX_BODY = 20 * 1024 * 1024;

const maxBody = int({ min: 1024 });

export const zipkinHttpConfig = object({
  /** Listen address; loopback by default (Envoy posts from the same pod). */
  endpoint: withDefault(endpoint(), DEFAULT_ENDPOINT),
  max_request_body_size: withDefault(maxBody, DEFAULT_MAX_BODY),
});

export const zipkinReceiverConfig = object({
  /** Listen address (default 127.0.0.1:9411; the collector's is 0.0.0.0 / localhost). */
  endpoint: endpoint(),
  max_request_body_size: maxBody,
  /** Turn tags that look like ints, doubles or booleans into typed attributes. */
  parse_string_tags: withDefault(bool(), false),
  protocols: withDefault(object({ http: presence(zipkinHttpConfig) }), {}),
});

export type ZipkinHttpConfig = typeof zipkinHttpConfig.defaultValue;
export type ZipkinReceiverConfig = typeof zipkinReceiverConfig.defaultValue;

/** The listener settings in effect, and whether a top-level setting was overridden. */
export function httpSettings(cfg: ZipkinReceiverConfig): { http: ZipkinHttpConfig; overridden: boolean } {
  const legacy = cfg.endpoint !== undefined || cfg.max_request_body_size !== undefined;
  if (cfg.protocols.http !== undefined) return { http: cfg.protocols.http, overridden: legacy };
  return {
    http: { endpoint: cfg.endpoint ?? DEFAULT_ENDPOINT, max_request_body_size: cfg.max_request_body_size ?? DEFAULT_MAX_BODY },
    overridden: false,
  };
}
