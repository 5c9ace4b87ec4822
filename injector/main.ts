#!/usr/bin/env node
// tracebridge-injector: `--config FILE` runs the admission webhook; `inject --config FILE
// -f MANIFEST` injects offline (manifest on stdout, one reason per object on stderr);
// `validate --config FILE` checks a config and lists every error.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadInjectorConfig, sidecarSettings } from './config.ts';
import { decisionPolicy } from './decision.ts';
import { createLogger } from './logger.ts';
import { injectManifest } from './manifest.ts';
import { meshWiringStep } from './mesh-wiring.ts';
import { chooseMode, parseKubeVersionText } from './mode.ts';
import { startInjector } from './service.ts';
import { INJECTOR_VERSION } from './version.ts';

const USAGE = `usage:
  tracebridge-injector --config FILE                       run the admission webhook
  tracebridge-injector inject --config FILE -f MANIFEST    inject offline ("-f -" reads stdin)
      [--kube-version 1.30] [--namespace NAME]
  tracebridge-injector validate --config FILE              check a config
`;

function fail(message: string, code = 1): never {
  process.stderr.write(message.endsWith('\n') ? message : `${message}\n`);
  process.exit(code);
}

/** A ConfigError's message lists every error with its YAML path. */
function configErrorText(err: unknown): string {
  return (err as Error).message;
}

function runInject(args: string[]): void {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      filename: { type: 'string', short: 'f' },
      'kube-version': { type: 'string' },
      namespace: { type: 'string', short: 'n' },
    },
  });
  if (values.config === undefined || values.filename === undefined) fail(USAGE, 2);
  let cfg;
  try {
    cfg = loadInjectorConfig(values.config, { requireTls: false });
  } catch (err) {
    fail(configErrorText(err));
  }
  let version: ReturnType<typeof parseKubeVersionText> | { unknown: string } = { unknown: 'offline: pass --kube-version to choose by version' };
  if (values['kube-version'] !== undefined) {
    version = parseKubeVersionText(values['kube-version']);
    if (version === undefined) fail(`--kube-version ${values['kube-version']}: expected a version such as 1.30`, 2);
  }
  let text: string;
  try {
    text = readFileSync(values.filename === '-' ? 0 : values.filename, 'utf8');
  } catch (err) {
    fail(`${values.filename}: ${(err as Error).message}`);
  }
  try {
    const result = injectManifest(text, {
      policy: decisionPolicy(cfg),
      settings: sidecarSettings(cfg),
      mode: chooseMode(cfg.sidecar.native, version),
      version: INJECTOR_VERSION,
      defaultNamespace: values.namespace ?? 'default',
      steps: (ns) => [meshWiringStep(cfg, ns)],
    });
    process.stdout.write(result.output);
    for (const line of result.reports) process.stderr.write(`${line}\n`);
  } catch (err) {
    fail((err as Error).message);
  }
}

function runValidate(args: string[]): void {
  const { values } = parseArgs({ args, options: { config: { type: 'string' } } });
  if (values.config === undefined) fail(USAGE, 2);
  try {
    loadInjectorConfig(values.config, { requireTls: true });
  } catch (err) {
    fail(configErrorText(err));
  }
  process.stdout.write(`${values.config}: valid\n`);
}

async function runWebhook(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { config: { type: 'string' } } });
  if (values.config === undefined) fail(USAGE, 2);
  let cfg;
  try {
    cfg = loadInjectorConfig(values.config, { requireTls: true });
  } catch (err) {
    fail(configErrorText(err));
  }
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
else if (command === '--help' || command === '-h' || command === 'help') process.stdout.write(USAGE);
else await runWebhook(process.argv.slice(2));
