// The validating webhook for the sidecar's per-namespace ConfigMap (POST /validate-configmap).
// The ConfigMap labelled app.kubernetes.io/name: tracebridge-sidecar carries the sidecar's config
// in data["config.yaml"]; a mistake there (an unknown key, a bad endpoint) used to surface only
// when a pod started. Here `config.yaml` is decoded at `kubectl apply` with the sidecar's own
// decoder (the code `tracebridge-sidecar validate` runs) and every error comes back with its YAML
// path:
// - action warn (default): allowed, one admission warning per error (kubectl prints them);
// - action deny: allowed: false, status 400, the errors in the message.
// Skipped (allowed, no warnings): validation disabled, DELETE/CONNECT, objects without the label,
// ConfigMaps without a config.yaml string. A malformed review answers 400, like /mutate. Any
// internal error admits the ConfigMap (fail open): a validator bug must never block a deploy.
import { ConfigError, decodeSidecarConfig, expandEnv, loadComponentFactories, parseConfigText, type Env } from '../sidecar/public.ts';
import type { AdmissionAnswer } from './admission.ts';
import { MalformedReview, parseReview, type AdmissionRequest } from './admission-review.ts';
import type { InjectorConfig } from './config.ts';
import type { Logger } from './logger.ts';
import type { InjectorMetrics } from './metrics.ts';
import { isRecord } from './pod.ts';

export const SIDECAR_CONFIGMAP_LABEL = { key: 'app.kubernetes.io/name', value: 'tracebridge-sidecar' } as const;
export const SIDECAR_CONFIG_KEY = 'config.yaml';

// Kubernetes' limits on admission warnings: "limit warnings to 120 characters if possible",
// warnings over 256 characters may be truncated, and past 4096 characters of warnings in one
// response (from all sources) further warnings are dropped. An error message with its path and
// the list of known keys often needs more than 120: each warning is cut at 256, and ours stay
// within 3584 characters so that the API server's and other webhooks' warnings still fit.
const MAX_WARNING = 256;
const WARNING_BUDGET = 3584;
// The status message of a refusal: kubectl prints it whole; bounded all the same.
const MAX_MESSAGE = 4096;

// `${env:NAME}` references are resolved from the pod's environment, which does not exist at
// admission: every name is answered with this placeholder, so that no reference is reported as
// unset. A value built from a reference is the pod's to get right: the reference is replaced by
// the stand-in of the usual types (URL, host:port, number, boolean, duration) that leaves the
// fewest errors, so that a rule that depends on the value (such as "endpoint or traces_endpoint
// is required") does not fire because the placeholder was not a URL; errors at the reference's
// own path are dropped unless every stand-in gets them too (an unknown key is still reported).
const PLACEHOLDER = 'tracebridge-env-placeholder';
const podEnv: Env = new Proxy<Record<string, string | undefined>>({}, { get: (_t, name) => (typeof name === 'string' ? PLACEHOLDER : undefined) });
const STAND_INS: readonly unknown[] = [`https://${PLACEHOLDER}.invalid`, `${PLACEHOLDER}.invalid:1`, 1, true, '1s'];

interface EnvValue {
  /** The YAML path as the decoder writes it in errors (`a.b[0].c`). */
  path: string;
  parent: Record<string, unknown> | unknown[];
  key: string | number;
}

/** Every string in the expanded tree that came (at least partly) from an env reference. */
function envValues(node: unknown, path: string, out: EnvValue[]): EnvValue[] {
  if (Array.isArray(node)) {
    node.forEach((v, i) => {
      const p = `${path}[${i}]`;
      if (typeof v === 'string' && v.includes(PLACEHOLDER)) out.push({ path: p, parent: node, key: i });
      else envValues(v, p, out);
    });
  } else if (isRecord(node)) {
    for (const [k, v] of Object.entries(node)) {
      const p = path === '' ? k : `${path}.${k}`;
      if (typeof v === 'string' && v.includes(PLACEHOLDER)) out.push({ path: p, parent: node, key: k });
      else envValues(v, p, out);
    }
  }
  return out;
}

function decodeErrors(tree: unknown): readonly string[] {
  try {
    decodeSidecarConfig(tree);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.errors;
    throw err;
  }
}

const at = (errors: readonly string[], path: string) => errors.some((e) => e.startsWith(`${path}: `) || e.startsWith(`${path}.`) || e.startsWith(`${path}[`));

/**
 * Every error in a sidecar config text, each prefixed with its YAML path (a syntax error with
 * `config.yaml:` and the line); empty when the sidecar would start with it. `${env:NAME}`
 * references count as set (see PLACEHOLDER).
 */
export function sidecarConfigErrors(text: string): readonly string[] {
  let tree: unknown;
  try {
    tree = expandEnv(parseConfigText(text, SIDECAR_CONFIG_KEY), podEnv);
  } catch (err) {
    if (err instanceof ConfigError) return err.errors;
    throw err;
  }
  const refs = envValues(tree, '', []);
  const atPath = (errors: readonly string[], path: string) => errors.filter((e) => e.startsWith(`${path}: `));
  // Errors at a reference's own path that no value changes (an unknown key) are the file's, and kept.
  const persistent = new Set<string>();
  let errors = decodeErrors(tree);
  for (const ref of refs) {
    if (!at(errors, ref.path)) continue;
    const slot = ref.parent as Record<string | number, unknown>;
    let best: { value: unknown; errors: readonly string[] } = { value: slot[ref.key], errors };
    let common = new Set(atPath(errors, ref.path));
    for (const standIn of STAND_INS) {
      slot[ref.key] = standIn;
      const next = decodeErrors(tree);
      const here = new Set(atPath(next, ref.path));
      common = new Set([...common].filter((e) => here.has(e)));
      if (next.length < best.errors.length) best = { value: standIn, errors: next };
    }
    slot[ref.key] = best.value;
    errors = best.errors;
    for (const e of common) persistent.add(e);
  }
  return errors.filter((e) => persistent.has(e) || !refs.some((r) => e.startsWith(`${r.path}: `)));
}

const cut = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** Admission warnings for these errors, within Kubernetes' limits; the last one says how many did not fit. */
export function warningsFor(errors: readonly string[]): string[] {
  const out: string[] = [];
  let used = 0;
  for (const [i, e] of errors.entries()) {
    const w = cut(e, MAX_WARNING);
    const rest = errors.length - i - 1;
    // Room for this one plus, if any are left, the closing note.
    const note = rest > 0 ? 80 : 0;
    if (used + w.length + note > WARNING_BUDGET) {
      out.push(`${errors.length - i} more errors: run tracebridge-sidecar validate --config config.yaml for the full list`);
      return out;
    }
    out.push(w);
    used += w.length;
  }
  return out;
}

function respond(uid: string, extra: Record<string, unknown> = {}): AdmissionAnswer {
  return { status: 200, body: { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, allowed: true, ...extra } } };
}

/** The config text to check, or why the object is not checked. */
function target(req: AdmissionRequest, enabled: boolean): { text: string } | { skip: string } {
  if (!enabled) return { skip: 'disabled' };
  if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return { skip: 'operation' };
  const obj = req.object;
  if (!isRecord(obj) || (obj.kind !== undefined && obj.kind !== 'ConfigMap')) return { skip: 'not a ConfigMap' };
  const labels = isRecord(obj.metadata) && isRecord(obj.metadata.labels) ? obj.metadata.labels : {};
  // The webhook's objectSelector sends only labelled ConfigMaps; checked again for other setups.
  if (labels[SIDECAR_CONFIGMAP_LABEL.key] !== SIDECAR_CONFIGMAP_LABEL.value) return { skip: 'not labelled' };
  const text = isRecord(obj.data) ? obj.data[SIDECAR_CONFIG_KEY] : undefined;
  if (typeof text !== 'string') return { skip: `no ${SIDECAR_CONFIG_KEY}` };
  return { text };
}

export interface ConfigMapValidatorDeps {
  config: InjectorConfig['configmap_validation'];
  logger: Logger;
  metrics: InjectorMetrics;
}

let factoriesLoaded: Promise<void> | undefined;

export class ConfigMapValidator {
  private readonly deps: ConfigMapValidatorDeps;

  constructor(deps: ConfigMapValidatorDeps) {
    this.deps = deps;
  }

  async review(body: Buffer): Promise<AdmissionAnswer> {
    // A ConfigMap may name any component type: every sidecar factory is loaded, once, before the first check.
    factoriesLoaded ??= loadComponentFactories();
    await factoriesLoaded;
    return this.answer(body);
  }

  /** Decoding is synchronous once the factories are loaded (review() loads them). */
  answer(body: Buffer): AdmissionAnswer {
    const { metrics, logger, config } = this.deps;
    const count = (outcome: string) => metrics.configMapValidations.add(1, { outcome });
    let req: AdmissionRequest;
    try {
      req = parseReview(body);
    } catch (err) {
      if (!(err instanceof MalformedReview)) throw err;
      metrics.errors.add(1, { kind: 'malformed' });
      count('malformed');
      logger.warn({ err: err.message }, 'malformed AdmissionReview (ConfigMap validation)');
      return { status: 400, body: { error: err.message } };
    }
    const where = { uid: req.uid, namespace: req.namespace, name: req.name };
    try {
      const t = target(req, config.enabled);
      if ('skip' in t) {
        count('skipped');
        logger.debug({ ...where, reason: t.skip }, 'ConfigMap not validated');
        return respond(req.uid);
      }
      const errors = sidecarConfigErrors(t.text);
      if (errors.length === 0) {
        count('valid');
        logger.info(where, 'sidecar ConfigMap valid');
        return respond(req.uid);
      }
      const summary = `${SIDECAR_CONFIG_KEY} is not a valid tracebridge sidecar config (${errors.length} error${errors.length === 1 ? '' : 's'})`;
      // Only the count: error messages may quote config values.
      logger.warn({ ...where, errors: errors.length, action: config.action }, `sidecar ConfigMap invalid: ${config.action === 'deny' ? 'refused' : 'admitted with warnings'}`);
      if (config.action === 'deny') {
        count('denied');
        return respond(req.uid, { allowed: false, status: { code: 400, reason: 'Invalid', message: cut(`${summary}: ${errors.join('; ')}`, MAX_MESSAGE) } });
      }
      count('warned');
      return respond(req.uid, { warnings: warningsFor(errors) });
    } catch (err) {
      metrics.errors.add(1, { kind: 'internal' });
      metrics.failOpen.add(1);
      count('fail_open');
      logger.error({ ...where, err: (err as Error).message }, 'internal error: ConfigMap admitted unchecked (fail open)');
      return respond(req.uid);
    }
  }
}
