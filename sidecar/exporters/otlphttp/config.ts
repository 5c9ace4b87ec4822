// Config of the `otlphttp` exporter, with the collector's otlphttpexporter field names and
// defaults: `endpoint` (+ /v1/traces, /v1/metrics, /v1/logs) or per-signal URLs, protobuf
// encoding, gzip, 30s timeout, exporterhelper queue and retry, and `auth` through an extension
// (sigv4auth for X-Ray's OTLP endpoint).
import { object, oneOf, presence, record, string, url, withDefault } from '../../config/schema.ts';
import { authConfig } from '../../component/auth.ts';
import { requestLimitFields, retryOnFailureConfig, sendingQueueConfig, timeoutConfig } from '../internal/config.ts';
import { clientTlsConfig } from '../internal/tls.ts';
import type { SignalName } from '../internal/request.ts';

export const otlphttpExporterConfig = object(
  {
    /** Base URL; the signal path is appended (https://gateway:4318 → https://gateway:4318/v1/traces). */
    endpoint: url(),
    /** Full URLs per signal; each wins over `endpoint` for its signal. */
    traces_endpoint: url(),
    metrics_endpoint: url(),
    logs_endpoint: url(),
    tls: clientTlsConfig,
    headers: withDefault(record(string()), {}),
    /** Request body compression (collector default gzip). */
    compression: withDefault(oneOf(['gzip', 'zstd', 'deflate', 'none', '']), 'gzip'),
    /** proto (binary protobuf, lossless) or json (OTLP/JSON; traces only, see README). */
    encoding: withDefault(oneOf(['proto', 'json']), 'proto'),
    timeout: timeoutConfig(30_000),
    sending_queue: sendingQueueConfig,
    retry_on_failure: retryOnFailureConfig,
    // 8 MiB: well under the collector's 20 MiB HTTP default; a smaller backend limit is learnt from its 413.
    ...requestLimitFields(8 * 1024 * 1024),
    /** `{ authenticator: <extension id> }`, e.g. sigv4auth. */
    auth: presence(authConfig),
  },
  {
    check(cfg, path, errors) {
      if (cfg.endpoint === undefined && cfg.traces_endpoint === undefined && cfg.metrics_endpoint === undefined && cfg.logs_endpoint === undefined) {
        errors.add(`${path}.endpoint`, 'required: set endpoint (base URL) or traces_endpoint / metrics_endpoint / logs_endpoint');
      }
      if (cfg.auth !== undefined && cfg.auth.authenticator === undefined) errors.add(`${path}.auth.authenticator`, 'required: the ID of an authenticator extension, e.g. sigv4auth');
    },
  },
);

export type OtlphttpExporterConfig = typeof otlphttpExporterConfig.defaultValue;

/** The URL for a signal: its own setting, else `endpoint` + /v1/<signal>; undefined when neither is set. */
export function signalUrl(cfg: OtlphttpExporterConfig, signal: SignalName): string | undefined {
  const own = cfg[`${signal}_endpoint`];
  if (own !== undefined) return own;
  if (cfg.endpoint === undefined) return undefined;
  return cfg.endpoint.endsWith('/') ? `${cfg.endpoint}v1/${signal}` : `${cfg.endpoint}/v1/${signal}`;
}
