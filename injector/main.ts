#!/usr/bin/env node
// tracebridge-injector: `--config FILE` runs the admission webhook; `inject [--config FILE]
// -f MANIFEST...` injects offline (manifest on stdout, one reason per object on stderr);
// `validate --config FILE` checks a config and lists every error. FILE is an injector config or
// the ConfigMap manifest that holds one (config-source.ts).
//
// Exit codes: 0 done; 1 a config or manifest that cannot be used (every error listed); 2 a
// command line that cannot be understood (the error and the usage on stderr, never a stack).
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { configWarnings, sidecarSettings, type InjectorConfig } from './config.ts';
import { ConfigSourceError, loadInjectorConfigFile, shippedConfig, type LoadedConfig } from './config-source.ts';
import { decisionPolicy } from './decision.ts';
import { createLogger } from './logger.ts';
import { injectManifest } from './manifest.ts';
import { meshWiringStep } from './mesh-wiring.ts';
import { offlineModeChoice, parseKubeVersionText } from './mode.ts';
import { startInjector } from './service.ts';
import { INJECTOR_VERSION } from './version.ts';

const USAGE = `usage:
  tracebridge-injector --config FILE                        run the admission webhook
  tracebridge-injector inject -f MANIFEST [-f MANIFEST]...  inject offline, with the shipped
                                                            ConfigMap's values
  tracebridge-injector inject --config FILE -f MANIFEST...  inject offline, with FILE
      [--kube-version 1.30] [--namespace NAME]
      "-f -" reads stdin; several -f are read as one manifest, in order. Without --kube-version,
      native sidecars (Kubernetes >= 1.29) are assumed.
  tracebridge-injector validate --config FILE               check a config, list every error
  tracebridge-injector --help

FILE is an injector config, or the ConfigMap manifest holding one under data["config.yaml"]
(mesh-configs/kubernetes/injector-config.yaml).
`;

function fail(message: string, code = 1): never {
  process.stderr.write(message.endsWith('\n') ? message : `${message}\n`);
  process.exit(code);
}

/** A command line that cannot be understood: the error, then the usage; exit 2. */
function usageError(message: string): never {
  fail(`tracebridge-injector: ${message}\n\n${USAGE}`, 2);
}

function help(): never {
  process.stdout.write(USAGE);
  process.exit(0);
}

/** parseArgs, with its errors (unknown option, missing value, stray argument) as usage errors. */
function parseCommand<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  if (args.includes('--help') || args.includes('-h')) help();
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    usageError((err as Error).message);
  }
}

/**
 * Loads --config, or exits 1 listing every error (a ConfigError's message lists them with their
 * paths). The offline commands print the config's warnings on stderr; the webhook logs them
 * (startInjector).
 */
function loadConfig(file: string, requireTls: boolean, printWarnings = true): LoadedConfig {
  let loaded: LoadedConfig;
  try {
    loaded = loadInjectorConfigFile(file, { requireTls });
  } catch (err) {
    fail(`${err instanceof ConfigSourceError ? err.source : file}: ${(err as Error).message}`);
  }
  if (printWarnings) for (const w of configWarnings(loaded.config)) process.stderr.write(`${loaded.source}: warning: ${w}\n`);
  return loaded;
}

function runInject(args: string[]): void {
  const values = parseCommand(args, {
    config: { type: 'string' },
    filename: { type: 'string', short: 'f', multiple: true },
    'kube-version': { type: 'string' },
    namespace: { type: 'string', short: 'n' },
  });
  const files = values.filename ?? [];
  if (files.length === 0) usageError('inject: -f MANIFEST is required');
  if (files.filter((f) => f === '-').length > 1) usageError('-f - (stdin) can be given once');
  let version;
  if (values['kube-version'] !== undefined) {
    version = parseKubeVersionText(values['kube-version']);
    if (version === undefined) usageError(`--kube-version ${values['kube-version']}: expected a version such as 1.30`);
  }

  let cfg: InjectorConfig;
  if (values.config !== undefined) cfg = loadConfig(values.config, false).config;
  else {
    cfg = shippedConfig();
    process.stderr.write(
      `no --config: the shipped ConfigMap's values (mesh-configs/kubernetes/injector-config.yaml): image ${cfg.sidecar.image ?? ''}, traces to ${cfg.sidecar.exporter.traces_endpoint ?? 'the embedded default'}\n`,
    );
  }

  // Several files are one manifest, as `kubectl apply -f a -f b` applies them to one cluster: a
  // Namespace (or Service) in one file informs the workloads of another. Each file is read and
  // parsed on its own first, so errors name the file and its own document number; then the files'
  // documents are joined with `---` and injected in one pass.
  const reports: string[] = [];
  const texts: string[] = [];
  const errors: string[] = [];
  for (const f of files) {
    const name = f === '-' ? 'stdin' : f;
    let text: string;
    try {
      text = readFileSync(f === '-' ? 0 : f, 'utf8');
    } catch (err) {
      fail(`${name}: ${(err as Error).message}`);
    }
    const docs = parseAllDocuments(text, { uniqueKeys: true });
    const list = Array.isArray(docs) ? docs : [];
    list.forEach((d, i) => d.errors.forEach((e) => errors.push(`${name}: document ${i + 1}: ${e.message.split('\n')[0]}`)));
    if (list.some((d) => d.errors.length > 0)) continue;
    if (list.every((d) => d.toJS({ maxAliasCount: 100 }) == null)) {
      reports.push(`${name}: no objects (nothing to inject)`);
      continue;
    }
    texts.push(text.endsWith('\n') ? text : `${text}\n`);
  }
  if (errors.length > 0) fail(`cannot parse the manifest:\n  ${errors.join('\n  ')}`);

  const settings = sidecarSettings(cfg);
  let output = '';
  if (texts.length > 0) {
    try {
      const result = injectManifest(joinManifests(texts), {
        policy: decisionPolicy(cfg),
        settings,
        mode: offlineModeChoice(cfg.sidecar.native, version),
        version: INJECTOR_VERSION,
        defaultNamespace: values.namespace ?? 'default',
        steps: (ns) => [meshWiringStep(cfg, ns)],
        meshes: { istio: cfg.mesh.istio.enabled, linkerd: cfg.mesh.linkerd.enabled },
      });
      output = result.output;
      reports.push(...result.reports);
    } catch (err) {
      // Each file parsed on its own: what fails here is the join (a %YAML directive in a later file).
      fail(`${(err as Error).message}${files.length > 1 ? '\n(several -f are joined with "---": a %YAML or %TAG directive may only open the first file)' : ''}`);
    }
  }
  process.stdout.write(output);
  for (const line of reports) process.stderr.write(`${line}\n`);
}

/**
 * Several -f as one stream: each file starts a new document, with a `---` between them unless the
 * file opens with its own (a second one would add an empty document to the output).
 */
function joinManifests(texts: readonly string[]): string {
  let out = '';
  for (const text of texts) {
    if (out !== '') {
      if (!out.endsWith('\n')) out += '\n';
      if (!/^---(?:[ \t]|\r?\n|$)/.test(text)) out += '---\n';
    }
    out += text;
  }
  return out;
}

function runValidate(args: string[]): void {
  const values = parseCommand(args, { config: { type: 'string' } });
  if (values.config === undefined) usageError('validate: --config FILE is required');
  const { source } = loadConfig(values.config, true);
  process.stdout.write(`${source}: valid\n`);
}

async function runWebhook(args: string[]): Promise<void> {
  const values = parseCommand(args, { config: { type: 'string' } });
  if (values.config === undefined) usageError('the webhook needs --config FILE');
  const { config: cfg } = loadConfig(values.config, true, false);
  const logger = createLogger(cfg.logs.level);
  logger.info({ version: INJECTOR_VERSION }, 'tracebridge-injector starting');
  let running;
  try {
    running = await startInjector(cfg, logger);
  } catch (err) {
    logger.fatal({ err: (err as Error).message }, 'cannot start');
    process.exit(1);
  }
  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    running.shutdown().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

const [command, ...rest] = process.argv.slice(2);
if (command === 'inject') runInject(rest);
else if (command === 'validate') runValidate(rest);
else if (command === '--help' || command === '-h' || command === 'help') help();
else if (command !== undefined && !command.startsWith('-')) usageError(`unknown command "${command}"`);
else await runWebhook(process.argv.slice(2));
