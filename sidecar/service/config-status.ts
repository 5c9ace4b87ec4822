// What the sidecar knows about the config it was given, for the health body and the
// `tracebridge_config_errors` gauge: where it came from and, when it was rejected, why.
import type { MetricsRegistry } from '../telemetry/metrics.ts';

export interface ConfigStatus {
  /** `command_line` (--config), `mounted` (TRACEBRIDGE_CONFIG, the injector's ConfigMap mount) or `embedded_default`. */
  source: 'command_line' | 'mounted' | 'embedded_default';
  /** The file(s) given, for `command_line` and `mounted`. */
  path?: string;
  /** Every error of that config, as `validate` prints them; non-empty means the embedded default runs instead. */
  errors: readonly string[];
}

/** A host (the Service) that knows its config's status; the health_check extension reads it. */
export interface ConfigStatusHost {
  readonly configStatus?: ConfigStatus;
}

export function registerConfigStatus(metrics: MetricsRegistry, status: ConfigStatus): void {
  metrics
    .gauge('tracebridge_config_errors', 'Errors in the config the sidecar was given (source: mounted, command_line, embedded_default); above 0 the embedded default runs instead.')
    .set(status.errors.length, { source: status.source });
}
