// Config of the `awsxray` exporter: the collector awsxrayexporter's fields (its own and its
// awsutil session settings) with the same names and defaults, the shared exporter queue and retry
// blocks, and tracebridge's `transport: udp` for a node-level X-Ray daemon or CloudWatch agent.
import { bool, int, list, object, oneOf, string, url, withDefault, type ConfigErrors } from '../../config/schema.ts';
import { retryOnFailureConfig, sendingQueueConfig, timeoutConfig } from '../internal/config.ts';
import { parseDaemonAddress } from '../../aws/daemon-address.ts';

export const DEFAULT_ORIGINAL_TRACE_ID_ATTRIBUTE = 'tracebridge.original_trace_id';

const daemonAddress = {
  expected: '`host:port` or `udp:host:port tcp:host:port`',
  decode(value: unknown, path: string, errors: ConfigErrors): string | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string' || parseDaemonAddress(value) === undefined) {
      errors.add(path, `expected ${daemonAddress.expected} (the AWS_XRAY_DAEMON_ADDRESS forms), got ${JSON.stringify(value)}`);
      return undefined;
    }
    return value.trim();
  },
};

export const telemetryConfig = object({
  /** Send X-Ray telemetry records (PutTelemetryRecords) about this exporter every minute. */
  enabled: withDefault(bool(), false),
  /** Include hostname, instance ID and resource ARN in the records. */
  include_metadata: withDefault(bool(), false),
  /** Component IDs whose figures are reported (collector: several awsxray receivers); informational here. */
  contributors: withDefault(list(string({ nonEmpty: true })), [] as string[]),
  hostname: string(),
  instance_id: string(),
  resource_arn: string(),
});

export const awsxrayExporterConfig = object(
  {
    /** `api`: PutTraceSegments over HTTPS with SigV4. `udp`: segment datagrams to an X-Ray daemon. */
    transport: withDefault(oneOf(['api', 'udp']), 'api'),
    /** AWS region; default: the AWS SDK's (AWS_REGION, AWS_DEFAULT_REGION, shared config). */
    region: string({ nonEmpty: true }),
    /** X-Ray API endpoint override (default https://xray.<region>.amazonaws.com). */
    endpoint: url(),
    /** Role to assume (STS) with the default chain's credentials, e.g. to write to another account. */
    role_arn: string({ nonEmpty: true }),
    /** HTTPS proxy for the API, `http://host:port` (default: HTTPS_PROXY / NO_PROXY from the environment). */
    proxy_address: url(),
    /** Skip TLS certificate verification of the API endpoint (tests, TLS-intercepting proxies). */
    no_verify_ssl: withDefault(bool(), false),
    /** Collector: skip the EC2 metadata lookup. tracebridge never looks up EC2 metadata; accepted for compatibility. */
    local_mode: withDefault(bool(), false),
    /** ARN of the resource running the exporter; used in telemetry records. */
    resource_arn: string({ nonEmpty: true }),
    /** Collector: concurrent PutTraceSegments calls. When set, it is `sending_queue.num_consumers`. */
    num_workers: int({ min: 1, max: 1000 }),
    /** Collector: seconds before a request times out. When set, it is `timeout`. */
    request_timeout_seconds: int({ min: 1, max: 600 }),
    /** Collector: AWS SDK retries inside one attempt. Default 0 here: `retry_on_failure` retries, with backoff. */
    max_retries: withDefault(int({ min: 0, max: 10 }), 0),
    /** Attribute names turned into annotations (indexed, searchable); the rest is metadata. */
    indexed_attributes: withDefault(list(string({ nonEmpty: true })), [] as string[]),
    /** Every attribute with a string, number or bool value becomes an annotation. */
    index_all_attributes: withDefault(bool(), false),
    /** CloudWatch log groups for trace-to-logs correlation when the resource names none. */
    aws_log_groups: withDefault(list(string({ nonEmpty: true })), [] as string[]),
    telemetry: telemetryConfig,
    /** transport udp: the daemon, `host:port` or `udp:h:p tcp:h:p`; default AWS_XRAY_DAEMON_ADDRESS, else 127.0.0.1:2000. */
    daemon_address: daemonAddress,
    /** Span attribute holding the pre-rewrite trace ID (tracecontext processor); always indexed. */
    original_trace_id_attribute: withDefault(string({ nonEmpty: true }), DEFAULT_ORIGINAL_TRACE_ID_ATTRIBUTE),
    /** Time limit of one PutTraceSegments call (the collector's request_timeout_seconds default, 30 s). */
    timeout: timeoutConfig(30_000),
    sending_queue: sendingQueueConfig,
    retry_on_failure: retryOnFailureConfig,
  },
  {
    check(cfg, path, errors) {
      if (cfg.transport === 'udp') {
        for (const k of ['region', 'endpoint', 'role_arn', 'proxy_address'] as const) {
          if (cfg[k] !== undefined) errors.add(`${path}.${k}`, 'applies to transport api only (transport is udp: the daemon talks to X-Ray)');
        }
        if (cfg.telemetry.enabled) errors.add(`${path}.telemetry.enabled`, 'applies to transport api only (the daemon sends its own telemetry)');
      } else if (cfg.daemon_address !== undefined) {
        errors.add(`${path}.daemon_address`, 'applies to transport udp only');
      }
    },
  },
);

export type AwsxrayExporterConfig = typeof awsxrayExporterConfig.defaultValue;

/** The queue/retry settings with the collector-named overrides applied. */
export function effectiveConfig(cfg: AwsxrayExporterConfig): AwsxrayExporterConfig {
  return {
    ...cfg,
    timeout: cfg.request_timeout_seconds !== undefined ? cfg.request_timeout_seconds * 1000 : cfg.timeout,
    sending_queue: cfg.num_workers !== undefined ? { ...cfg.sending_queue, num_consumers: cfg.num_workers } : cfg.sending_queue,
  };
}
