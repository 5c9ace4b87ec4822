// Config of the `otlp` exporter (OTLP/gRPC), with the collector's otlpexporter field names and
// defaults: gzip compression, 5s timeout, exporterhelper queue and retry.
import { object, oneOf, record, string, withDefault } from '../../config/schema.ts';
import { requestLimitFields, retryOnFailureConfig, sendingQueueConfig, timeoutConfig } from '../internal/config.ts';
import { clientTlsConfig } from '../internal/tls.ts';

const ENDPOINT = /^(?:(https?):\/\/)?([^/\s]+?)(\/?)$/;

export const otlpExporterConfig = object(
  {
    /** host:port of the OTLP/gRPC server; `http://` or `https://` prefixes are accepted (OTLP spec). */
    endpoint: string({ nonEmpty: true, pattern: /^(?:https?:\/\/)?[^/\s]+\/?$|^(?:dns|ipv4|ipv6|unix):/, patternHint: 'host:port (optionally http:// or https://)' }),
    tls: clientTlsConfig,
    /** Extra request metadata (e.g. an API key header). */
    headers: withDefault(record(string()), {}),
    compression: withDefault(oneOf(['gzip', 'none', '']), 'gzip'),
    timeout: timeoutConfig(5_000),
    sending_queue: sendingQueueConfig,
    retry_on_failure: retryOnFailureConfig,
    // 4 MiB: the default receive limit of every gRPC implementation (the collector's otlp receiver too).
    ...requestLimitFields(4 * 1024 * 1024),
  },
  {
    check(cfg, p, errors) {
      if (cfg.endpoint === undefined) {
        errors.add(`${p}.endpoint`, 'required: the OTLP/gRPC server as host:port, e.g. gateway.observability:4317');
        return;
      }
      // gRPC metadata (PROTOCOL-HTTP2.md): names of letters, digits, - _ .; values of printable
      // ASCII except for -bin names (sent base64). An HTTP/2 peer drops or rejects anything else,
      // so an API key read with its trailing newline would be lost on the wire, every call refused.
      for (const [name, value] of Object.entries(cfg.headers)) {
        if (!/^[0-9A-Za-z_.-]+$/.test(name)) errors.add(`${p}.headers.${name}`, 'not a valid gRPC metadata name (letters, digits, "-", "_", ".")');
        else if (!name.toLowerCase().endsWith('-bin') && !/^[\x20-\x7e]*$/.test(value)) errors.add(`${p}.headers.${name}`, 'the value has characters gRPC metadata cannot carry (only printable ASCII; a trailing newline?)');
      }
      const scheme = ENDPOINT.exec(cfg.endpoint)?.[1];
      if (scheme === 'https' && cfg.tls.insecure) errors.add(`${p}.tls.insecure`, 'contradicts the https:// endpoint');
    },
  },
);

export type OtlpExporterConfig = typeof otlpExporterConfig.defaultValue;

/** The gRPC target and whether it is plaintext, from `endpoint` and `tls.insecure`. */
export function grpcTarget(cfg: OtlpExporterConfig): { target: string; insecure: boolean } {
  const endpoint = cfg.endpoint!;
  const m = ENDPOINT.exec(endpoint);
  if (m === null) return { target: endpoint, insecure: cfg.tls.insecure };
  const scheme = m[1];
  return { target: m[2]!, insecure: scheme === 'http' ? true : scheme === 'https' ? false : cfg.tls.insecure };
}
