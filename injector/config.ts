// Injector configuration, decoded with the shared
// schema so errors carry YAML paths, unknown keys are rejected and `${env:NAME}` expands.
// Every option, its default and why it exists: injector/README.md.
import {
  bool,
  ConfigError,
  ConfigErrors,
  duration,
  endpoint,
  int,
  join,
  list,
  loadConfigFiles,
  number,
  object,
  oneOf,
  record,
  string,
  url,
  withDefault,
  type Env,
  type Schema,
} from '../sidecar/public.ts';
import { isRecord } from './pod.ts';
import { compareQuantities, QUANTITY } from './quantity.ts';

export type NativeSetting = 'auto' | 'true' | 'false';

/** `native: auto | true | false`: YAML gives booleans for the last two, a string for the first. */
function nativeSetting(): Schema<NativeSetting> {
  const expected = 'auto, true or false';
  return {
    expected,
    decode(value, path, errors) {
      if (value === undefined || value === null) return undefined;
      if (value === true || value === 'true') return 'true';
      if (value === false || value === 'false') return 'false';
      if (value === 'auto') return 'auto';
      errors.add(path, `expected ${expected}, got ${JSON.stringify(value)}`);
      return undefined;
    },
  };
}

/** A UID/GID (1 .. 2^31-1) or `auto`. */
function uidSetting(): Schema<number | 'auto'> {
  const expected = 'a UID from 1 to 2147483647, or auto';
  const id = int({ min: 1, max: 2147483647 });
  return {
    expected,
    decode(value, path, errors) {
      if (value === undefined || value === null) return undefined;
      if (value === 'auto') return 'auto';
      if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 2147483647) return id.decode(value, path, errors);
      errors.add(path, `expected ${expected}, got ${JSON.stringify(value)}`);
      return undefined;
    },
  };
}

const quantity = (): Schema<string> => string({ pattern: QUANTITY, patternHint: 'a Kubernetes quantity such as 10m, 96Mi or 1' });
const RESOURCE_NAMES = ['cpu', 'memory', 'ephemeral-storage'] as const;
const resourceList = () => object({ cpu: quantity(), memory: quantity(), 'ephemeral-storage': quantity() });

/**
 * The smallest sidecar memory limit that leaves its memory_limiter (the embedded default's:
 * soft limit 60% of the limit less the node binary's ~48 MiB of file-backed pages) 32 MiB above
 * the ~18 MiB of private memory the sidecar holds idle: (18 + 32) / 0.6 + 48 ≈ 131 MiB, with a
 * little margin. Below it, most data is refused under load. The sidecar logs the same advice at
 * start, computed from what it measures (smallest_container_limit_mib).
 */
export const SMALLEST_SIDECAR_MEMORY_LIMIT = '136Mi';

// An env var name as Kubernetes accepts it (C identifier rules are the portable subset).
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const port = () => int({ min: 1, max: 65535 });

/** Ports a mesh proxy owns: a sidecar port there would break the pod. */
export function meshReservedRange(p: number): string | undefined {
  if (p >= 15000 && p <= 15090) return 'Istio 15000-15090';
  if (p >= 4140 && p <= 4191) return 'Linkerd 4140-4191';
  return undefined;
}

const sidecarPorts = object(
  {
    otlp_grpc: withDefault(port(), 4317),
    otlp_http: withDefault(port(), 4318),
    zipkin: withDefault(port(), 9411),
    xray: withDefault(port(), 2000),
    health: withDefault(port(), 13133),
    metrics: withDefault(port(), 8888),
    // Bound only in pods annotated tracebridge.io/header-bridge: "true" (the embedded default's
    // header_bridge endpoint is 127.0.0.1:13128).
    header_bridge: withDefault(port(), 13128),
  },
  {
    check(ports, path, errors) {
      const seen = new Map<number, string>();
      for (const [name, p] of Object.entries(ports)) {
        const reserved = meshReservedRange(p);
        if (reserved !== undefined) errors.add(join(path, name), `port ${p} is in the mesh proxy range ${reserved}`);
        const other = seen.get(p);
        if (other !== undefined) errors.add(join(path, name), `port ${p} is also used by ${other}`);
        seen.set(p, name);
      }
    },
  },
);

const exporter = object(
  {
    // Becomes the sidecar's OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as is: include /v1/traces for HTTP).
    traces_endpoint: url(),
    // Becomes OTEL_EXPORTER_OTLP_ENDPOINT (base URL; the sidecar appends /v1/traces for HTTP).
    endpoint: url(),
    protocol: withDefault(oneOf(['http/protobuf', 'grpc']), 'http/protobuf'),
    region: string({ pattern: /^[a-z]{2}(?:-[a-z]+)+-\d+$/, patternHint: 'an AWS region such as us-east-1' }),
  },
  {
    check(e, path, errors) {
      for (const [key, value] of [['traces_endpoint', e.traces_endpoint], ['endpoint', e.endpoint]] as const) {
        if (value === undefined) continue;
        const host = new URL(value).hostname;
        if (host === 'localhost' || host === '127.0.0.1' || host === '[::1]') {
          errors.add(join(path, key), 'must not point at the pod itself (the sidecar would export to itself)');
        }
      }
    },
  },
);

// A DNS-1123 subdomain, e.g. cluster.local.
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(?:\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;

const headerBridge = object({
  // The kubelet's clusterDomain: the API server's full name kubernetes.default.svc.<domain> is in NO_PROXY.
  cluster_domain: withDefault(string({ pattern: DNS_SUBDOMAIN, patternHint: 'a DNS domain such as cluster.local' }), 'cluster.local'),
  // Node reads HTTP_PROXY only with NODE_USE_ENV_PROXY=1 (Node >= 24.5, 22.21); harmless elsewhere.
  node_use_env_proxy: withDefault(bool(), true),
});

const sidecar = object(
  {
    image: string({ nonEmpty: true }),
    image_pull_policy: withDefault(oneOf(['Always', 'IfNotPresent', 'Never']), 'IfNotPresent'),
    container_name: withDefault(string({ pattern: /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, patternHint: 'a DNS-1123 label' }), 'tracebridge'),
    native: withDefault(nativeSetting(), 'auto'),
    config_map: string({ pattern: /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, patternHint: 'a ConfigMap name (DNS-1123 subdomain)' }),
    exporter,
    resources: withDefault(object({ requests: resourceList(), limits: resourceList() }), {
      // Measured (the image's entrypoint in a 320 MiB cgroup, ~1 KB spans): 62 MiB RSS idle, 15 MiB
      // of it private; at 10k spans/s 99 MiB over OTLP/gRPC, 89 MiB X-Ray UDP, 98 MiB Zipkin.
      // memory_limiter refuses above 60% (80% hard) of the limit less the node binary's ~48 MiB of
      // pages: 163 MiB of private memory in 320Mi, 87 MiB in 192Mi, which sustained the same rates
      // in the bench; 320Mi is headroom for bursts. Scheduling counts the request.
      requests: { cpu: '10m', memory: '128Mi' },
      limits: { memory: '320Mi' },
    }),
    ports: sidecarPorts,
    // `auto`: 65532, except in namespaces where the platform assigns the UID (OpenShift's
    // `openshift.io/sa.scc.uid-range`): there none is set, so restricted SCCs admit the pod.
    run_as_user: withDefault(uidSetting(), 'auto'),
    // Default: the same as run_as_user.
    run_as_group: uidSetting(),
    env: withDefault(record(string()), {}),
    app_env: withDefault(bool(), true),
    header_bridge: headerBridge,
  },
  {
    check(s, path, errors) {
      if (s.image === undefined) errors.add(join(path, 'image'), 'required (the sidecar image to inject)');
      for (const name of Object.keys(s.env)) {
        if (!ENV_NAME.test(name)) errors.add(join(join(path, 'env'), name), 'not a valid environment variable name');
      }
      // The API server refuses a container whose request is above its limit: every injected pod
      // would be refused with it. (A namespace's LimitRange default limit, applied after this
      // webhook, is not known here.)
      for (const name of RESOURCE_NAMES) {
        const [request, limit] = [s.resources.requests?.[name], s.resources.limits?.[name]];
        if (!((compareQuantities(request, limit) ?? 0) > 0)) continue;
        const resources = join(path, 'resources');
        errors.add(
          join(join(resources, 'requests'), name),
          `${request} is above ${join(join(resources, 'limits'), name)} (${limit}): Kubernetes refuses a container whose request exceeds its limit, so every injected pod would be refused`,
        );
      }
    },
  },
);

const policy = object({
  auto: withDefault(bool(), true),
  // Kubernetes' own namespaces, the mesh control planes, cert-manager (admission depends on its
  // certificates) and the injector's own namespace: the same list as the shipped webhook's
  // namespaceSelector (mesh-configs/kubernetes/webhook.yaml), so offline answers match the webhook's.
  skip_namespaces: withDefault(list(string({ nonEmpty: true })), [
    'kube-system',
    'kube-public',
    'kube-node-lease',
    'istio-system',
    'linkerd',
    'linkerd-viz',
    'cert-manager',
    'tracebridge',
  ]),
  // The injector's own pods never get a sidecar (a rollout of the injector would otherwise wait on itself).
  injector_labels: withDefault(record(string()), { 'app.kubernetes.io/name': 'tracebridge-injector' }),
});

const kubernetes = object({
  // Default: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT when both are set; else no API.
  api_server: url(),
  token_file: withDefault(string(), '/var/run/secrets/kubernetes.io/serviceaccount/token'),
  ca_file: withDefault(string(), '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt'),
  timeout: withDefault(duration({ min: 100, max: 10_000 }), 2000),
  namespace_cache_ttl: withDefault(duration({ min: 0, max: 3_600_000 }), 30_000),
  namespace_cache_max_stale: withDefault(duration({ min: 0, max: 86_400_000 }), 600_000),
  retry_after_failure: withDefault(duration({ min: 0, max: 600_000 }), 5000),
  version_refresh_interval: withDefault(duration({ min: 1000, max: 86_400_000 }), 600_000),
});

const tls = object({
  cert_file: string({ nonEmpty: true }),
  key_file: string({ nonEmpty: true }),
  min_version: withDefault(oneOf(['TLSv1.2', 'TLSv1.3']), 'TLSv1.2'),
  // The files are polled (and compared by content) at this interval; cert-manager swaps them in place.
  reload_interval: withDefault(duration({ min: 10, max: 3_600_000 }), 10_000),
});

const istio = object({
  enabled: withDefault(bool(), true),
  // Percent of requests Envoy samples (Istio's `tracing.sampling`, 0.0-100.0).
  sampling: withDefault(number({ min: 0, max: 100 }), 1),
  max_path_tag_length: withDefault(int({ min: 1, max: 65535 }), 256),
  // Istio `tracing.custom_tags`: name → literal value (environment and header tags: use a Telemetry resource).
  custom_tags: withDefault(record(string()), {}),
});

const mesh = object({
  istio,
  linkerd: object({ enabled: withDefault(bool(), true) }),
  // Name of this injector's MutatingWebhookConfiguration, for the start-up order check.
  webhook_configuration: withDefault(string({ nonEmpty: true }), '0-tracebridge-injector'),
  check_webhook_order: withDefault(bool(), true),
});

// The validating webhook for the sidecar's ConfigMap (POST /validate-configmap): `warn` admits a
// broken config with one warning per error (kubectl prints them), `deny` refuses it with 400.
const configMapValidation = object({
  enabled: withDefault(bool(), true),
  action: withDefault(oneOf(['warn', 'deny']), 'warn'),
});

export const injectorConfigSchema = object({
  endpoint: withDefault(endpoint(), '0.0.0.0:8443'),
  tls,
  max_request_body: withDefault(int({ min: 64 * 1024, max: 64 * 1024 * 1024 }), 3 * 1024 * 1024),
  request_timeout: withDefault(duration({ min: 1000, max: 60_000 }), 10_000),
  logs: object({ level: withDefault(oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']), 'info') }),
  sidecar,
  policy,
  kubernetes,
  mesh,
  configmap_validation: configMapValidation,
});

type Decoded<S> = S extends Schema<infer T> ? T : never;
export type InjectorConfig = Decoded<typeof injectorConfigSchema>;
export type SidecarSettings = InjectorConfig['sidecar'] & { image: string };
export type SidecarPorts = InjectorConfig['sidecar']['ports'];

/** Decodes an already-parsed config tree; throws ConfigError listing every problem. */
export function decodeInjectorConfig(raw: unknown, opts: { requireTls: boolean }): InjectorConfig {
  const errors = new ConfigErrors();
  const cfg = injectorConfigSchema.decode(raw, '', errors);
  // The offline `inject` command needs no key pair; the webhook does. Checked here so that the
  // user still sees every error in one round.
  if (opts.requireTls && cfg !== undefined) {
    if (cfg.tls.cert_file === undefined && rawHas(raw, 'tls', 'cert_file') === false) errors.add('tls.cert_file', 'required to serve the webhook');
    if (cfg.tls.key_file === undefined && rawHas(raw, 'tls', 'key_file') === false) errors.add('tls.key_file', 'required to serve the webhook');
  }
  if (errors.any() || cfg === undefined) throw new ConfigError(errors.any() ? errors.list() : ['configuration: missing']);
  return cfg;
}

/** Whether the raw tree holds a value at a.b (a present but invalid value already has its own error). */
function rawHas(raw: unknown, a: string, b: string): boolean {
  const outer = isRecord(raw) ? raw[a] : undefined;
  return isRecord(outer) && outer[b] !== undefined && outer[b] !== null;
}

export function loadInjectorConfig(file: string, opts: { requireTls: boolean }, env: Env = process.env): InjectorConfig {
  return decodeInjectorConfig(loadConfigFiles([file], env), opts);
}

/**
 * What a config can do but probably should not, each as `path: message`: the webhook logs them at
 * start, `validate` and `inject` print them. None stops the injector.
 */
export function configWarnings(cfg: InjectorConfig): string[] {
  const warnings: string[] = [];
  const limit = cfg.sidecar.resources.limits?.memory;
  if ((compareQuantities(limit, SMALLEST_SIDECAR_MEMORY_LIMIT) ?? 0) < 0) {
    warnings.push(
      `sidecar.resources.limits.memory: ${limit} is below ${SMALLEST_SIDECAR_MEMORY_LIMIT}, the smallest limit with which the sidecar's memory_limiter leaves room for data above what the sidecar holds idle: under load it would refuse most data (the apps' SDKs retry, then drop it)`,
    );
  }
  return warnings;
}

/** The sidecar settings with the image checked present (decoding reports it missing otherwise). */
export function sidecarSettings(cfg: InjectorConfig): SidecarSettings {
  const { image } = cfg.sidecar;
  if (image === undefined) throw new ConfigError(['sidecar.image: required (the sidecar image to inject)']);
  return { ...cfg.sidecar, image };
}
