// Command line of tracebridge-sidecar:
//   tracebridge-sidecar [--config FILE]...          run (without --config: $TRACEBRIDGE_CONFIG when that
//                                                   file exists and is valid, else the embedded default)
//   tracebridge-sidecar validate --config FILE...   check a config, list every error, exit 0 or 1
//   tracebridge-sidecar convert VALUE               print a trace ID / header in every format
import { existsSync } from 'node:fs';
import { ConfigError } from './config/schema.ts';
import { loadConfigFiles, type Env } from './config/load.ts';
import { decodeSidecarConfig, type SidecarConfig } from './config/service-config.ts';
import { embeddedDefault, withUpstreamPassThrough } from './config/embedded-default.ts';
import { UPSTREAM_PREFIX } from './config/upstream.ts';
import { components, loadComponentFactories } from './service/components.ts';
import { Service } from './service/service.ts';
import type { ConfigStatus } from './service/config-status.ts';
import { createLogger } from './telemetry/logger.ts';
import { VERSION } from './version.ts';
// node:util by process.getBuiltinModule, not an ES import: importing it reads every export, and
// its getters load node:worker_threads, node:stream, util.diff's modules and process.stderr (33
// built-in modules a sidecar at idle does not need).
const { parseArgs } = process.getBuiltinModule('node:util');

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Env;
}

const defaultIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  env: process.env,
};

const USAGE = `usage:
  tracebridge-sidecar [--config FILE]...         run the sidecar (embedded default without --config)
  tracebridge-sidecar validate --config FILE...  check a config and list every error
  tracebridge-sidecar convert VALUE              show a trace ID or propagation header in every format
  tracebridge-sidecar --version
`;


interface Loaded {
  config: SidecarConfig;
  /** For the start-up log. */
  source: string;
  status: ConfigStatus;
}

/**
 * Loads the config files given, or TRACEBRIDGE_CONFIG when that file exists, or the embedded default.
 * Files on the command line that are invalid throw ConfigError (the user running it wants the
 * error). A mounted TRACEBRIDGE_CONFIG that cannot be read, parsed, expanded or validated never
 * stops the sidecar: the injector's native sidecar gates every app container of the pod, so a typo
 * in a namespace's ConfigMap would hold every new pod in Init:CrashLoopBackOff. The embedded
 * default runs instead and `status.errors` carries why.
 */
export async function loadSidecarConfig(files: readonly string[], env: Env): Promise<Loaded> {
  const avail = {
    receiver: new Set(components.receiver.keys()),
    processor: new Set(components.processor.keys()),
    exporter: new Set(components.exporter.keys()),
    extension: new Set(components.extension.keys()),
  };
  const fromFiles = async (paths: readonly string[]): Promise<Omit<Loaded, 'status'>> => {
    const { config, added } = withUpstreamPassThrough(withHeaderBridge(loadConfigFiles(paths, env), env), env, avail);
    await loadComponentFactories(config);
    return { config: decodeSidecarConfig(config), source: added.length > 0 ? `${paths.join(', ')} (+ ${added.join('; ')})` : paths.join(', ') };
  };
  if (files.length > 0) return { ...(await fromFiles(files)), status: { source: 'command_line', path: files.join(', '), errors: [] } };
  // The injector mounts an optional ConfigMap here; when the ConfigMap does not exist the file does
  // not either, and the embedded default runs.
  const mounted = env.TRACEBRIDGE_CONFIG?.trim();
  if (mounted && existsSync(mounted)) {
    try {
      return { ...(await fromFiles([mounted])), status: { source: 'mounted', path: mounted, errors: [] } };
    } catch (err) {
      const errors = err instanceof ConfigError ? err.errors : [`${mounted}: ${(err as Error).message}`];
      const def = await embeddedConfig(env, avail);
      return { ...def, source: `${def.source}, instead of ${mounted}, which is invalid`, status: { source: 'mounted', path: mounted, errors } };
    }
  }
  return { ...(await embeddedConfig(env, avail)), status: { source: 'embedded_default', errors: [] } };
}

async function embeddedConfig(env: Env, avail: Parameters<typeof embeddedDefault>[1]): Promise<Omit<Loaded, 'status'>> {
  const def = embeddedDefault(env, avail);
  await loadComponentFactories(def.config);
  try {
    return { config: decodeSidecarConfig(def.config), source: `embedded default (${def.exporterReason})` };
  } catch (err) {
    // The app's destination comes from the app's env, which the sidecar cannot vouch for: a value
    // no exporter takes must not keep the sidecar (and a native sidecar's pod) from starting.
    const upstreamVars = Object.keys(env).filter((k) => k.startsWith(UPSTREAM_PREFIX));
    if (!(err instanceof ConfigError) || upstreamVars.length === 0) throw err;
    const without = Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith(UPSTREAM_PREFIX)));
    const fallback = embeddedDefault(without, avail);
    await loadComponentFactories(fallback.config);
    return {
      config: decodeSidecarConfig(fallback.config),
      source: `embedded default (${fallback.exporterReason}; ignoring the app's destination handed over in ${upstreamVars.join(', ')}: ${err.errors.join('; ')})`,
    };
  }
}

/**
 * The injector sets TRACEBRIDGE_HEADER_BRIDGE=true together with HTTP_PROXY on the app's
 * containers: the bridge must then listen whatever config file the pod mounts, or every proxied
 * call of the app would be refused. A config that configures `header_bridge` itself is left alone.
 */
function withHeaderBridge(raw: unknown, env: Env): unknown {
  if (env.TRACEBRIDGE_HEADER_BRIDGE?.trim() !== 'true' || raw === null || typeof raw !== 'object') return raw;
  const cfg = raw as { extensions?: Record<string, unknown> | null; service?: { extensions?: unknown } | null };
  const declared = Object.keys(cfg.extensions ?? {}).some((id) => id.split('/')[0] === 'header_bridge');
  if (declared) return raw;
  const serviceExtensions = Array.isArray(cfg.service?.extensions) ? (cfg.service.extensions as unknown[]) : [];
  return {
    ...cfg,
    extensions: { ...(cfg.extensions ?? {}), header_bridge: { endpoint: '127.0.0.1:13128' } },
    service: { ...(cfg.service ?? {}), extensions: [...serviceExtensions, 'header_bridge'] },
  };
}

function configFiles(args: string[]): string[] {
  const { values } = parseArgs({ args, options: { config: { type: 'string', multiple: true } }, allowPositionals: false });
  return values.config ?? [];
}

export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === '--help' || command === '-h' || command === 'help') {
      io.out(USAGE);
      return 0;
    }
    if (command === '--version') {
      io.out(`${VERSION}\n`);
      return 0;
    }
    if (command === 'validate') {
      const files = configFiles(rest);
      if (files.length === 0) {
        io.err(`validate needs --config FILE\n${USAGE}`);
        return 2;
      }
      await loadSidecarConfig(files, io.env);
      io.out(`${files.join(', ')}: valid\n`);
      return 0;
    }
    if (command === 'convert') {
      const { runConvert } = await import('./tracecontext/convert-command.ts');
      return runConvert(rest, (l) => io.out(`${l}\n`), (l) => io.err(`${l}\n`));
    }
    return await run(configFiles(argv), io);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`${err.message}\n`);
      return 1;
    }
    if (err instanceof TypeError && (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`${err.message}\n${USAGE}`);
      return 2;
    }
    throw err;
  }
}

async function run(files: string[], io: Io): Promise<number> {
  const { config, source, status } = await loadSidecarConfig(files, io.env);
  const logger = createLogger(config.service.telemetry.logs.level);
  // Each error of a rejected mounted config once, at error level, as `validate` prints it.
  for (const error of status.errors) {
    logger.error({ config: status.path, error }, 'mounted config is invalid; running the embedded default instead');
  }
  logger.info({ version: VERSION, config: source, node: process.versions.node }, 'starting tracebridge sidecar');
  const service = new Service(config, logger);
  service.configStatus = status;
  process.on('unhandledRejection', (reason) => logger.error({ err: String(reason) }, 'unhandled rejection (ignored; please report)'));
  const stopped = new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal, deadline_ms: config.service.shutdownTimeoutMs }, 'signal received: draining');
      const deadline = setTimeout(() => {
        logger.warn('drain deadline passed; exiting with data still queued');
        resolve(0);
      }, config.service.shutdownTimeoutMs);
      deadline.unref();
      service.shutdown().then(
        () => resolve(0),
        (err: unknown) => {
          logger.error({ err: String(err) }, 'error during shutdown');
          resolve(0);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await service.start();
  const code = await stopped;
  logger.flush();
  return code;
}
