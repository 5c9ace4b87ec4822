// Loads YAML config files the way the collector's confmap does: `${env:NAME}` and
// `${env:NAME:-default}` expand (`$$` is a literal `$`), several files merge in order (maps
// merge, later scalars and lists win).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import { ConfigError } from './schema.ts';

export type Env = Readonly<Record<string, string | undefined>>;

// The YAML parser is loaded when a config file is parsed, not at import: the embedded default is
// built in code and needs none. In the image, `yaml` resolves to the one-file copy the bundle
// carries (sidecar/runtime/bundle.ts): 10-12 ms to load against 29-45 ms for the 72 modules of
// the package (2-core VM, the image's node flags). An idle sidecar on a config file holds
// 0.9-1.0 MiB more private memory than one on the embedded default with it, 1.7 MiB with the
// package.
let yamlModule: typeof Yaml | undefined;
function yaml(): typeof Yaml {
  yamlModule ??= createRequire(import.meta.url)('yaml') as typeof Yaml;
  return yamlModule;
}

const REFERENCE = /\$\$|\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const WHOLE_REFERENCE = /^\$\{env:[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/;

function expandString(text: string, env: Env, path: string, errors: string[]): unknown {
  if (!text.includes('$')) return text;
  const expanded = text.replace(REFERENCE, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === '$$') return '$';
    const value = env[name!];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    errors.push(`${path || '(root)'}: environment variable ${name!} is not set (write \${env:${name!}:-default} to give a default)`);
    return '';
  });
  // A value that is a single reference takes the type its text has in YAML (`${env:PORT}` -> 4317),
  // as in the collector.
  if (WHOLE_REFERENCE.test(text.trim())) {
    try {
      const typed: unknown = yaml().parse(expanded);
      if (typed === null || typeof typed !== 'object') return typed ?? expanded;
    } catch {
      // keep the text
    }
  }
  return expanded;
}

/** Expands env references in every string of a parsed YAML tree (keys are left alone). */
export function expandEnv(value: unknown, env: Env, path = '', errors: string[] = []): unknown {
  if (typeof value === 'string') return expandString(value, env, path, errors);
  if (Array.isArray(value)) return value.map((v, i) => expandEnv(v, env, `${path}[${i}]`, errors));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = expandEnv(v, env, path === '' ? k : `${path}.${k}`, errors);
    return out;
  }
  return value;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Deep merge: maps merge key by key, anything else in `over` replaces `base`. */
export function mergeConfig(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (!isMap(base) || !isMap(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = mergeConfig(base[k], v);
  return out;
}

/** Parses one YAML text; syntax errors name the source and line. */
export function parseConfigText(text: string, source: string): unknown {
  const doc = yaml().parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    // The first syntax error is the real one; the rest are usually its echoes.
    throw new ConfigError([`${source}: ${doc.errors[0]!.message.split('\n')[0]}`]);
  }
  const value: unknown = doc.toJS({ maxAliasCount: 100 });
  if (value !== null && value !== undefined && !isMap(value)) {
    throw new ConfigError([`${source}: the top level must be a map`]);
  }
  return value ?? {};
}

/** Reads, parses, merges and env-expands config files in order. */
export function loadConfigFiles(paths: readonly string[], env: Env = process.env): unknown {
  let merged: unknown = {};
  const errors: string[] = [];
  for (const file of paths) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      errors.push(`${file}: cannot read: ${(err as Error).message}`);
      continue;
    }
    try {
      merged = mergeConfig(merged, parseConfigText(text, file));
    } catch (err) {
      if (err instanceof ConfigError) errors.push(...err.errors);
      else throw err;
    }
  }
  if (errors.length > 0) throw new ConfigError(errors);
  const expanded = expandEnv(merged, env, '', errors);
  if (errors.length > 0) throw new ConfigError(errors);
  return expanded;
}
