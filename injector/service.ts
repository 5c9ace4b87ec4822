// Wires the webhook from a decoded config: Kubernetes API client (optional), namespace cache,
// version source, key pair, admission handler and HTTPS server. main.ts handles argv and
// signals; tests start this in-process (with nock standing in for the API server).
import { AdmissionHandler } from './admission.ts';
import { configWarnings, type InjectorConfig } from './config.ts';
import { KubeClient, resolveApiServer } from './kube-client.ts';
import { KubeVersionSource } from './kube-version.ts';
import { meshWiringStep } from './mesh-wiring.ts';
import type { Logger } from './logger.ts';
import { InjectorMetrics } from './metrics.ts';
import { chooseMode } from './mode.ts';
import { NamespaceCache } from './namespace-cache.ts';
import { WebhookServer } from './server.ts';
import { ConfigMapValidator } from './validate-configmap.ts';
import { KeyPairReloader, type KeyPairFiles } from './tls-reloader.ts';
import { checkWebhookOrder } from './webhook-order.ts';
import { INJECTOR_VERSION } from './version.ts';

export interface RunningInjector {
  port: number;
  metrics: InjectorMetrics;
  keyPair: KeyPairReloader;
  shutdown(): Promise<void>;
}

export async function startInjector(
  cfg: InjectorConfig,
  logger: Logger,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<RunningInjector> {
  const metrics = new InjectorMetrics();
  for (const w of configWarnings(cfg)) logger.warn(w);
  if (cfg.tls.cert_file === undefined || cfg.tls.key_file === undefined) throw new Error('tls.cert_file and tls.key_file are required');
  const tlsFiles: KeyPairFiles = { certFile: cfg.tls.cert_file, keyFile: cfg.tls.key_file, minVersion: cfg.tls.min_version };
  // Before anything listens: a missing or mismatched key pair is a start-up error.
  const keyPair = new KeyPairReloader(tlsFiles, logger, metrics);

  const api = resolveApiServer(cfg.kubernetes.api_server, env);
  const client =
    'url' in api
      ? new KubeClient({ apiServer: api.url, tokenFile: cfg.kubernetes.token_file, caFile: cfg.kubernetes.ca_file, timeoutMs: cfg.kubernetes.timeout })
      : undefined;
  // Why there is no client, for the cache and the version source to answer with.
  const noApi = { none: 'none' in api ? api.none : '' };
  if (client === undefined) logger.warn({ reason: noApi.none }, 'no Kubernetes API: decisions use the pod alone');

  const namespaces = new NamespaceCache(
    client !== undefined ? (name) => client.get(`/api/v1/namespaces/${encodeURIComponent(name)}`) : noApi,
    {
      ttlMs: cfg.kubernetes.namespace_cache_ttl,
      maxStaleMs: cfg.kubernetes.namespace_cache_max_stale,
      retryAfterFailureMs: cfg.kubernetes.retry_after_failure,
    },
    (result) => {
      metrics.kubeRequests.add(1, { op: 'get_namespace', result });
      if (result === 'error') metrics.errors.add(1, { kind: 'kubernetes_api' });
    },
  );
  const versions = new KubeVersionSource(client ?? noApi, {
    refreshMs: cfg.kubernetes.version_refresh_interval,
    retryAfterFailureMs: cfg.kubernetes.retry_after_failure,
  });
  const native = cfg.sidecar.native;
  if (native === 'auto') {
    const first = await versions.current();
    logger.info({ sidecarMode: chooseMode(native, first) }, 'sidecar mode for native: auto');
  }

  await checkOrder(cfg, client, logger, metrics);

  const handler = new AdmissionHandler({
    config: cfg,
    version: INJECTOR_VERSION,
    logger,
    metrics,
    namespace: (name) => namespaces.get(name),
    mode: async () => chooseMode(native, native === 'auto' ? await versions.current() : { unknown: 'not needed' }),
    steps: (ns) => [meshWiringStep(cfg, ns)],
  });
  const server = new WebhookServer({
    endpoint: cfg.endpoint,
    maxRequestBody: cfg.max_request_body,
    requestTimeoutMs: cfg.request_timeout,
    tlsReloadIntervalMs: cfg.tls.reload_interval,
    tlsFiles,
    keyPair,
    handler,
    configMapValidator: new ConfigMapValidator({ config: cfg.configmap_validation, logger, metrics }),
    metrics,
    logger,
  });
  const address = await server.start();
  let stopped: Promise<void> | undefined;
  return {
    port: address.port,
    metrics,
    keyPair,
    shutdown() {
      stopped ??= server.shutdown().then(() => client?.close());
      return stopped;
    },
  };
}

/** Warns about mesh and identity webhooks that run before this one; never fatal. */
async function checkOrder(cfg: InjectorConfig, client: KubeClient | undefined, logger: Logger, metrics: InjectorMetrics): Promise<void> {
  metrics.webhookOrderProblems.set(-1);
  if (!cfg.mesh.check_webhook_order || client === undefined) return;
  let list: unknown;
  try {
    list = await client.get('/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations');
    metrics.kubeRequests.add(1, { op: 'list_mutatingwebhookconfigurations', result: 'ok' });
  } catch (err) {
    metrics.kubeRequests.add(1, { op: 'list_mutatingwebhookconfigurations', result: 'error' });
    logger.warn({ err: (err as Error).message }, 'webhook order not checked: cannot list mutating webhook configurations');
    return;
  }
  const findings = checkWebhookOrder(list, cfg.mesh.webhook_configuration);
  metrics.webhookOrderProblems.set(findings.length);
  for (const f of findings) logger.warn({ configuration: f.configuration }, f.message);
  if (findings.length === 0) logger.info({ configuration: cfg.mesh.webhook_configuration }, 'webhook order checked: runs before the mesh injectors and pod identity');
}
