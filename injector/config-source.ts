// Where the injector's config comes from: `--config FILE`, which is either an injector config or
// the ConfigMap manifest that holds one under data["config.yaml"] (the shipped
// mesh-configs/kubernetes/injector-config.yaml, as applied with kubectl), or, for the offline
// `inject` command without --config, the shipped ConfigMap's own values.
//
// Those values are written here, not read from the ConfigMap file at run time: the image copies
// only sidecar/ and injector/ (Dockerfile), and the npm package has no fixed path to
// mesh-configs/. A test (test/injector/shipped-defaults.test.ts) checks that they decode to what
// the ConfigMap decodes to, except SHIPPED_CONFIG_DEPLOYMENT_SPECIFIC.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { ConfigError, expandEnv, loadConfigFiles, parseConfigText, type Env } from '../sidecar/public.ts';
import { decodeInjectorConfig, type InjectorConfig } from './config.ts';
import { isRecord } from './pod.ts';
import { INJECTOR_VERSION } from './version.ts';

/**
 * The shipped ConfigMap's values that only mean something in its Deployment: the key pair's
 * paths, where deployment.yaml mounts cert-manager's Secret. The offline command needs no key pair.
 */
export const SHIPPED_CONFIG_DEPLOYMENT_SPECIFIC: readonly string[] = ['tls.cert_file', 'tls.key_file'];

/** mesh-configs/kubernetes/injector-config.yaml's config.yaml, as a YAML tree. */
export const SHIPPED_CONFIG: Readonly<Record<string, unknown>> = {
  endpoint: '0.0.0.0:8443',
  tls: { min_version: 'TLSv1.2' },
  logs: { level: 'info' },
  sidecar: {
    // The shipped manifests tag the image with the package version (a test checks they agree).
    image: `ghcr.io/example/tracebridge:${INJECTOR_VERSION}`,
    native: 'auto',
    config_map: 'tracebridge-sidecar',
    exporter: { traces_endpoint: 'https://xray.us-east-1.amazonaws.com/v1/traces', protocol: 'http/protobuf', region: 'us-east-1' },
    resources: { requests: { cpu: '10m', memory: '128Mi' }, limits: { memory: '320Mi' } },
  },
  policy: {
    auto: true,
    skip_namespaces: ['kube-system', 'kube-public', 'kube-node-lease', 'istio-system', 'linkerd', 'linkerd-viz', 'cert-manager', 'tracebridge'],
    injector_labels: { 'app.kubernetes.io/name': 'tracebridge-injector' },
  },
  mesh: {
    istio: { enabled: true, sampling: 1 },
    linkerd: { enabled: true },
    webhook_configuration: '0-tracebridge-injector',
    check_webhook_order: true,
  },
};

/** The offline command's config without --config. */
export function shippedConfig(): InjectorConfig {
  return decodeInjectorConfig(structuredClone(SHIPPED_CONFIG), { requireTls: false });
}

/** A ConfigError found inside a ConfigMap: `source` names the file and the ConfigMap. */
export class ConfigSourceError extends ConfigError {
  readonly source: string;

  constructor(source: string, errors: readonly string[]) {
    super(errors);
    this.source = source;
  }
}

export interface LoadedConfig {
  config: InjectorConfig;
  /** For messages: the file, and the ConfigMap in it when there was one. */
  source: string;
}

const CONFIG_KEY = 'config.yaml';

/**
 * Loads `--config FILE`: an injector config, or a ConfigMap manifest holding one under
 * data["config.yaml"]. Throws ConfigError listing every problem, with a hint when the file is a
 * Kubernetes manifest of another kind.
 */
export function loadInjectorConfigFile(file: string, opts: { requireTls: boolean }, env: Env = process.env): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`${file}: cannot read: ${(err as Error).message}`]);
  }
  const docs = parseAllDocuments(text, { uniqueKeys: true });
  const values = Array.isArray(docs) && docs.every((d) => d.errors.length === 0) ? docs.map((d) => d.toJS({ maxAliasCount: 100 }) as unknown) : undefined;
  const objects = (values ?? []).filter(isRecord);
  const configMaps = objects.filter((o) => o.kind === 'ConfigMap');
  if (configMaps.length > 0) return fromConfigMaps(file, configMaps, opts, env);
  if (objects.length > 1 && objects.every((o) => typeof o.kind === 'string')) {
    throw new ConfigError([`${file} holds Kubernetes objects (${objects.map((o) => String(o.kind)).join(', ')}) and no ConfigMap: pass the injector config, or the ConfigMap that holds it under data["${CONFIG_KEY}"]`]);
  }
  // Anything else (syntax errors included) reads as a config file, with the usual messages.
  const raw = loadConfigFiles([file], env);
  try {
    return { config: decodeInjectorConfig(raw, opts), source: file };
  } catch (err) {
    const kind = objects.length === 1 ? objects[0]!.kind : undefined;
    if (err instanceof ConfigError && typeof kind === 'string' && isRecord(raw) && 'apiVersion' in raw) {
      throw new ConfigError([
        `${file} is a Kubernetes ${kind} manifest, not an injector config: pass the injector config itself, or the ConfigMap that holds it under data["${CONFIG_KEY}"] (mesh-configs/kubernetes/injector-config.yaml)`,
        ...err.errors,
      ]);
    }
    throw err;
  }
}

function fromConfigMaps(file: string, configMaps: Record<string, unknown>[], opts: { requireTls: boolean }, env: Env): LoadedConfig {
  const nameOf = (cm: Record<string, unknown>) => (isRecord(cm.metadata) && typeof cm.metadata.name === 'string' ? cm.metadata.name : '(unnamed)');
  const holding = configMaps.filter((cm) => isRecord(cm.data) && typeof cm.data[CONFIG_KEY] === 'string');
  if (holding.length === 0) {
    const keys = configMaps.flatMap((cm) => (isRecord(cm.data) ? Object.keys(cm.data) : []));
    throw new ConfigError([
      `${file}: ConfigMap ${configMaps.map(nameOf).join(', ')} has no data["${CONFIG_KEY}"]${keys.length > 0 ? ` (its keys: ${keys.join(', ')})` : ''}: the injector config goes there`,
    ]);
  }
  if (holding.length > 1) {
    throw new ConfigError([`${file}: ${holding.length} ConfigMaps hold data["${CONFIG_KEY}"] (${holding.map(nameOf).join(', ')}): pass a file with only the injector's`]);
  }
  const cm = holding[0]!;
  const source = `${file} (ConfigMap ${nameOf(cm)}, data["${CONFIG_KEY}"])`;
  try {
    const raw = parseConfigText((cm.data as Record<string, string>)[CONFIG_KEY]!, `data["${CONFIG_KEY}"]`);
    const errors: string[] = [];
    const expanded = expandEnv(raw, env, '', errors);
    if (errors.length > 0) throw new ConfigError(errors);
    return { config: decodeInjectorConfig(expanded, opts), source };
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigSourceError(source, err.errors);
    throw err;
  }
}
