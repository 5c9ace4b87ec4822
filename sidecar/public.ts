// The sidecar's public module: the one place from which code outside sidecar/ (the injector)
// imports what it shares with the sidecar. Everything else under sidecar/ is internal and may
// change shape without notice; a lint rule (eslint.config.js, `no-restricted-imports` for
// injector/) fails on any import of sidecar/ other than this file.
//
// Re-exports only. What is here, and why the injector uses it:
// - the config toolkit (schema decoding with YAML paths in errors, file loading with
//   `${env:NAME}` expansion and merging): the injector's config reads like the sidecar's;
// - the sidecar's own config decoder (the one `tracebridge-sidecar validate` runs): the
//   validating webhook checks a sidecar ConfigMap with it at `kubectl apply`;
// - the bounded, decompressing HTTP body reader and listen/close: the webhook's HTTPS server;
// - the logger (JSON lines on stderr) and the Prometheus registry: the same log lines and
//   exposition;
// - the package version, recorded in every status annotation;
// - the sidecar's env contract: the embedded default's ports (TRACEBRIDGE_PORTS) and the names
//   under which the injector hands over an app's own destination (TRACEBRIDGE_UPSTREAM_*).
// Add to this list deliberately: each export is a contract with the injector.

export {
  bool,
  ConfigError,
  ConfigErrors,
  duration,
  endpoint,
  int,
  join,
  list,
  number,
  object,
  oneOf,
  record,
  string,
  url,
  withDefault,
  type Schema,
} from './config/schema.ts';
export { expandEnv, loadConfigFiles, mergeConfig, parseConfigText, type Env } from './config/load.ts';
export { decodeSidecarConfig } from './config/service-config.ts';
export { loadComponentFactories } from './service/components.ts';
export { HttpError, readBody } from './net/http-body.ts';
export { closeServer, listen } from './net/listen.ts';
export { createLogger, type LevelWithSilent, type Logger } from './telemetry/logger.ts';
export { MetricsRegistry } from './telemetry/metrics.ts';
export { VERSION } from './version.ts';
export { DEFAULT_PORTS } from './config/embedded-default.ts';
export { heapCapMiB } from './runtime/heap.ts';
export { parseOtlpEndpoint, UPSTREAM_PREFIX, upstreamName } from './config/upstream.ts';
export { parseDaemonAddress } from './aws/daemon-address.ts';
