// The whole sidecar config: component sections keyed by component ID (`type[/name]`), each
// decoded by its factory's schema, and the `service` section that wires pipelines. Validation
// walks everything and reports every error with its YAML path before any port opens.
import type { Kind, Signal } from '../component/component.ts';
import { components, SECTION, type ComponentRegistry } from '../service/components.ts';
import { ConfigError, ConfigErrors, endpoint, join, list, object, oneOf, string, withDefault, duration } from './schema.ts';

const ID = /^[a-z][a-z0-9_]*(?:\/[A-Za-z0-9_.\-/]+)?$/;

export interface ComponentConfig {
  id: string;
  type: string;
  config: unknown;
}

export interface PipelineConfig {
  id: string;
  signal: Signal;
  receivers: string[];
  processors: string[];
  exporters: string[];
}

export interface TelemetryConfig {
  logs: { level: 'debug' | 'info' | 'warn' | 'error' };
  /** undefined address = metrics endpoint off (`level: none`). */
  metrics: { address: string | undefined };
}

export interface SidecarConfig {
  receivers: Map<string, ComponentConfig>;
  processors: Map<string, ComponentConfig>;
  exporters: Map<string, ComponentConfig>;
  extensions: Map<string, ComponentConfig>;
  service: {
    extensions: string[];
    pipelines: PipelineConfig[];
    telemetry: TelemetryConfig;
    /** How long SIGTERM may take to drain queues before the process exits anyway. */
    shutdownTimeoutMs: number;
    /** How long receivers stay open after SIGTERM, for the app's final flush (service.receiver_grace). */
    receiverGraceMs: number;
  };
}

const ids = withDefault(list(string({ nonEmpty: true })), [] as string[]);
const pipelineSchema = object({ receivers: ids, processors: ids, exporters: ids });
const telemetrySchema = object({
  logs: withDefault(object({ level: withDefault(oneOf(['debug', 'info', 'warn', 'error']), 'info') }), { level: 'info' as const }),
  metrics: withDefault(
    object({
      address: withDefault(endpoint(), '127.0.0.1:8888'),
      level: withDefault(oneOf(['none', 'basic', 'normal', 'detailed']), 'normal'),
    }),
    { address: '127.0.0.1:8888', level: 'normal' as const },
  ),
});
const serviceSchema = object({
  extensions: ids,
  pipelines: withDefault(
    {
      expected: 'a map of pipelines',
      decode(value, path, errors) {
        if (value === undefined || value === null) return undefined;
        if (typeof value !== 'object' || Array.isArray(value)) {
          errors.add(path, 'expected a map of pipelines');
          return undefined;
        }
        const out: Record<string, typeof pipelineSchema.defaultValue> = {};
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = pipelineSchema.decode(v, join(path, k), errors);
        return out;
      },
    },
    {},
  ),
  telemetry: withDefault(telemetrySchema, telemetrySchema.defaultValue),
  /** tracebridge-only: drain deadline on SIGTERM (Kubernetes' default grace period is 30s). */
  shutdown_timeout: withDefault(duration({ min: 0, max: 600_000 }), 25_000),
  /**
   * tracebridge-only: how long the receivers keep taking data after SIGTERM before they stop and
   * the drain starts (within shutdown_timeout). Default by pod kind, from TRACEBRIDGE_SIDECAR_MODE
   * (RECEIVER_GRACE_BY_MODE).
   */
  receiver_grace: duration({ min: 0, max: 60_000 }),
});

/** The environment variable the injector sets to say how the sidecar container is run. */
export const SIDECAR_MODE_ENV = 'TRACEBRIDGE_SIDECAR_MODE';

/**
 * Default service.receiver_grace per sidecar mode. `classic`: a regular container, which gets
 * SIGTERM at the same moment as the app containers, whose SDKs flush their last spans on SIGTERM:
 * the receivers must still take them. `native`: a Kubernetes native sidecar (an init container
 * with restartPolicy Always), stopped only after every app container has exited: nothing more is
 * coming, so the receivers stop at once. Unset: as `native` (the order of earlier versions).
 */
export const RECEIVER_GRACE_BY_MODE = { classic: 2000, native: 0 } as const;

function defaultReceiverGrace(env: NodeJS.ProcessEnv, errors: ConfigErrors): number {
  const mode = env[SIDECAR_MODE_ENV];
  if (mode === undefined || mode === '') return RECEIVER_GRACE_BY_MODE.native;
  if (mode === 'classic' || mode === 'native') return RECEIVER_GRACE_BY_MODE[mode];
  errors.add(`$${SIDECAR_MODE_ENV}`, `expected classic or native, got ${JSON.stringify(mode)} (set service.receiver_grace to do without it)`);
  return RECEIVER_GRACE_BY_MODE.native;
}

const TOP_LEVEL = ['receivers', 'processors', 'exporters', 'extensions', 'connectors', 'service'];

function decodeSection(kind: Kind, raw: unknown, registry: ComponentRegistry, errors: ConfigErrors): Map<string, ComponentConfig> {
  const section = SECTION[kind];
  const out = new Map<string, ComponentConfig>();
  if (raw === undefined || raw === null) return out;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    errors.add(section, `expected a map of ${kind} IDs to their config`);
    return out;
  }
  for (const [id, cfg] of Object.entries(raw as Record<string, unknown>)) {
    const path = join(section, id);
    if (!ID.test(id)) {
      errors.add(path, `invalid component ID "${id}": write type or type/name, e.g. otlp/gateway`);
      continue;
    }
    const type = id.split('/')[0]!;
    const factory = registry[kind].get(type);
    if (factory === undefined) {
      errors.add(path, `unknown ${kind} type "${type}" (known: ${[...registry[kind].keys()].sort().join(', ')})`);
      continue;
    }
    const config = factory.config.decode(cfg, path, errors);
    out.set(id, { id, type, config });
  }
  return out;
}

/** Decodes and validates a merged, env-expanded config tree. Throws ConfigError listing every problem. */
export function decodeSidecarConfig(raw: unknown, registry: ComponentRegistry = components, env: NodeJS.ProcessEnv = process.env): SidecarConfig {
  const errors = new ConfigErrors();
  const top = (raw ?? {}) as Record<string, unknown>;
  if (typeof top !== 'object' || Array.isArray(top)) throw new ConfigError(['the top level must be a map']);
  for (const key of Object.keys(top)) {
    if (!TOP_LEVEL.includes(key)) errors.add(key, `unknown key (known keys: ${TOP_LEVEL.join(', ')})`);
  }
  if (top.connectors !== undefined && top.connectors !== null) errors.add('connectors', 'connectors are not supported by tracebridge');
  const receivers = decodeSection('receiver', top.receivers, registry, errors);
  const processors = decodeSection('processor', top.processors, registry, errors);
  const exporters = decodeSection('exporter', top.exporters, registry, errors);
  const extensions = decodeSection('extension', top.extensions, registry, errors);
  const svc = serviceSchema.decode(top.service, 'service', errors);

  const defined: Record<Kind, Map<string, ComponentConfig>> = { receiver: receivers, processor: processors, exporter: exporters, extension: extensions };
  const checkRef = (kind: Kind, id: string, path: string, signal?: Signal) => {
    const c = defined[kind].get(id);
    if (c === undefined) {
      const known = [...defined[kind].keys()];
      const valid = ID.test(id) && registry[kind].has(id.split('/')[0]!);
      // An ID whose config failed to decode was already reported; do not report it twice.
      if (!valid || !errorsMention(errors, `${SECTION[kind]}.${id}`)) {
        errors.add(path, `references ${kind} "${id}" which is not defined under ${SECTION[kind]} (defined: ${known.join(', ') || 'none'})`);
      }
      return;
    }
    if (signal !== undefined) {
      const factory = registry[kind].get(c.type)!;
      if (!factory.signals.includes(signal)) {
        errors.add(path, `${kind} "${id}" does not support ${signal} (it supports: ${factory.signals.join(', ') || 'none'})`);
      }
    }
  };

  svc.extensions.forEach((id, i) => checkRef('extension', id, `service.extensions[${i}]`));
  const pipelines: PipelineConfig[] = [];
  const pipelineEntries = Object.entries(svc.pipelines);
  if (pipelineEntries.length === 0) errors.add('service.pipelines', 'at least one pipeline is required (e.g. traces)');
  for (const [id, p] of pipelineEntries) {
    const path = join('service.pipelines', id);
    const signal = id.split('/')[0];
    if (signal !== 'traces' && signal !== 'metrics' && signal !== 'logs') {
      errors.add(path, `pipeline ID must start with traces, metrics or logs (got "${id}")`);
      continue;
    }
    if (p.receivers.length === 0) errors.add(`${path}.receivers`, 'must list at least one receiver');
    if (p.exporters.length === 0) errors.add(`${path}.exporters`, 'must list at least one exporter');
    p.receivers.forEach((r, i) => checkRef('receiver', r, `${path}.receivers[${i}]`, signal));
    p.processors.forEach((r, i) => checkRef('processor', r, `${path}.processors[${i}]`, signal));
    p.exporters.forEach((r, i) => checkRef('exporter', r, `${path}.exporters[${i}]`, signal));
    for (const field of ['receivers', 'processors', 'exporters'] as const) {
      const seen = new Set<string>();
      for (const ref of p[field]) {
        if (seen.has(ref)) errors.add(`${path}.${field}`, `lists "${ref}" twice`);
        seen.add(ref);
      }
    }
    pipelines.push({ id, signal, ...p });
  }
  const receiverGraceMs = svc.receiver_grace ?? defaultReceiverGrace(env, errors);
  if (errors.any()) throw new ConfigError(errors.list());
  const tm = svc.telemetry;
  return {
    receivers,
    processors,
    exporters,
    extensions,
    service: {
      extensions: svc.extensions,
      pipelines,
      telemetry: { logs: tm.logs, metrics: { address: tm.metrics.level === 'none' ? undefined : tm.metrics.address } },
      shutdownTimeoutMs: svc.shutdown_timeout,
      receiverGraceMs,
    },
  };
}

function errorsMention(errors: ConfigErrors, prefix: string): boolean {
  return errors.list().some((e) => e.startsWith(prefix));
}
