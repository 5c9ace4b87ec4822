// The collector's `resolver.k8s`: the backends are the ready endpoints of one Service, read from
// its EndpointSlices (label kubernetes.io/service-name=<name>) with a LIST, then followed with a
// WATCH from the list's resourceVersion. Each address is emitted once per configured port.
//
// Rules, as the API defines them and as the collector applies them:
// - `service` is `name[.namespace]`; without a namespace the pod's own is used (the service account
//   namespace file), else `default`. The Service's DNS name (`name.namespace.svc[.cluster.local]`)
//   is accepted too.
// - An endpoint counts when `conditions.ready` is true or absent (absent means "unknown", which
//   the API says consumers should read as ready). `ports` are the backends' ports; the slices'
//   own ports are not used (as in the collector). IPv6 addresses are bracketed: `[fd00::1]:4317`.
// - `return_hostnames`: `<endpoint hostname>.<service>.<namespace>:<port>` instead of the IP (for
//   StatefulSet-style pods whose `subdomain` names a headless Service); endpoints without a
//   hostname are skipped with a warning.
// - A watch that ends is resumed from the last resourceVersion seen (BOOKMARKs move it on); 410
//   Gone, as an ERROR event or as the watch's status, means that version is too old: re-list.
//   Failures back off exponentially (jittered) and never clear the last known list: a control
//   plane outage must not take the gateways away from the sidecar.
//
// Talks to the API server with node:https and the pod's service account (token re-read for each
// connection, as bound tokens rotate; the cluster CA). A Kubernetes client library would load a
// large dependency tree into every pod's sidecar for two kinds of request.
import { readFileSync } from 'node:fs';
import type http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { ConfigError } from '../../config/schema.ts';
import { OnceWarning, type Logger } from '../../telemetry/logger.ts';
import type { BoundCounter, MetricsRegistry } from '../../telemetry/metrics.ts';
import { resolutionCounter } from './obs.ts';
import type { Resolver } from './resolver.ts';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** Used when `ports` is empty, as the collector documents. */
export const DEFAULT_PORT = 4317;
export const DEFAULT_TIMEOUT_MS = 1000;

export interface K8sResolverSettings {
  logger: Logger;
  metrics: MetricsRegistry;
  id: string;
}

export interface K8sResolverConfig {
  service: string;
  ports: number[];
  /** Milliseconds: bounds each LIST, and the wait for a WATCH's response headers. */
  timeout: number;
  return_hostnames: boolean;
}

export interface K8sResolverOptions {
  /** Holds `token`, `ca.crt` and `namespace`. */
  serviceAccountDir?: string;
  /** Where KUBERNETES_SERVICE_HOST/PORT are read. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Delay after a failed attempt: initialMs doubling up to maxMs, each jittered down to half. */
  backoff?: { initialMs: number; maxMs: number };
  /** Server-side length of one watch; default 5–10 minutes, random, as client-go's reflector. */
  watchSeconds?: number;
}

const MAX_LIST_BYTES = 16 * 1024 * 1024;
const MAX_EVENT_BYTES = 4 * 1024 * 1024;
// A watch is a long GET; a connection silent for this long past its server-side end is dead
// (the API server sends a bookmark about every minute while nothing changes).
const WATCH_IDLE_GRACE_MS = 60_000;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

class KubeStatusError extends Error {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

/** `name[.namespace]`, or the Service's DNS name; the namespace is undefined when not given. */
export function parseServiceName(service: string): { name: string; namespace: string | undefined } {
  const labels = service.split('.');
  const name = labels[0]!;
  const namespace = labels[1];
  const rest = labels.slice(2);
  const dnsSuffix = rest.length === 0 || (rest[0] === 'svc' && rest.every((l) => DNS_LABEL.test(l)));
  if (!DNS_LABEL.test(name) || (namespace !== undefined && !DNS_LABEL.test(namespace)) || !dnsSuffix) {
    throw new ConfigError([`resolver.k8s.service: "${service}" is not a Service name (name[.namespace], lower-case DNS labels)`]);
  }
  return { name, namespace };
}

export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The hosts of a slice's ready endpoints; `missingHostnames` counts endpoints skipped for lack of one. */
export function sliceHosts(slice: unknown, hostnameSuffix: string | undefined): { hosts: string[]; missingHostnames: number } {
  const hosts: string[] = [];
  let missingHostnames = 0;
  const endpoints = isObj(slice) && Array.isArray(slice.endpoints) ? (slice.endpoints as unknown[]) : [];
  for (const ep of endpoints) {
    if (!isObj(ep)) continue;
    const ready = isObj(ep.conditions) ? ep.conditions.ready : undefined;
    if (ready === false) continue;
    if (hostnameSuffix !== undefined) {
      if (typeof ep.hostname === 'string' && ep.hostname !== '') hosts.push(`${ep.hostname}.${hostnameSuffix}`);
      else missingHostnames++;
      continue;
    }
    if (!Array.isArray(ep.addresses)) continue;
    for (const a of ep.addresses as unknown[]) if (typeof a === 'string' && a !== '') hosts.push(a);
  }
  return { hosts, missingHostnames };
}

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function sliceName(obj: unknown): string | undefined {
  return isObj(obj) && isObj(obj.metadata) && typeof obj.metadata.name === 'string' ? obj.metadata.name : undefined;
}

function resourceVersionOf(obj: unknown): string | undefined {
  return isObj(obj) && isObj(obj.metadata) && typeof obj.metadata.resourceVersion === 'string' && obj.metadata.resourceVersion !== '' ? obj.metadata.resourceVersion : undefined;
}

type WatchEnd = 'ended' | 'gone';

export class K8sResolver implements Resolver {
  private readonly id: string;
  private readonly logger: Logger;
  private readonly resolved: BoundCounter;
  private readonly failedResolutions: BoundCounter;
  private readonly name: string;
  private readonly configuredNamespace: string | undefined;
  private readonly ports: number[];
  private readonly cfg: K8sResolverConfig;
  private readonly dir: string;
  private readonly env: Readonly<Record<string, string | undefined>>;
  private readonly backoff: { initialMs: number; maxMs: number };
  private readonly watchSeconds: number | undefined;
  private readonly failing: OnceWarning;

  private namespace = '';
  private apiServer: URL | undefined;
  private onChange: ((endpoints: readonly string[]) => void) | undefined;
  /** Hosts per EndpointSlice name. */
  private readonly slices = new Map<string, string[]>();
  private resourceVersion: string | undefined;
  private emitted: string[] | undefined;
  private failures = 0;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private inflight: http.ClientRequest | undefined;
  private missingHostnamesWarned = false;
  /** Whether the current watch has delivered a well-formed event. */
  private progressed = false;

  constructor(settings: K8sResolverSettings, cfg: K8sResolverConfig, opts: K8sResolverOptions = {}) {
    const { name, namespace } = parseServiceName(cfg.service);
    for (const p of cfg.ports) {
      if (!Number.isInteger(p) || p < 1 || p > 65535) throw new ConfigError([`resolver.k8s.ports: ${String(p)} is not a port (1-65535)`]);
    }
    this.id = settings.id;
    this.name = name;
    this.configuredNamespace = namespace;
    this.ports = cfg.ports.length > 0 ? [...cfg.ports] : [DEFAULT_PORT];
    // 0 means the default, as in the collector (1s).
    this.cfg = { ...cfg, timeout: cfg.timeout > 0 ? cfg.timeout : DEFAULT_TIMEOUT_MS };
    // The exporter's logger already names the component; the `service` field is the root logger's.
    this.logger = settings.logger.child({ resolver: 'k8s' });
    // The collector's metric, labelled like the other resolvers' (exporter ID, resolver, success).
    const resolutions = resolutionCounter(settings.metrics, settings.id, 'k8s');
    this.resolved = resolutions.success;
    this.failedResolutions = resolutions.failure;
    this.dir = opts.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
    this.env = opts.env ?? process.env;
    this.backoff = opts.backoff ?? { initialMs: 1000, maxMs: 30_000 };
    this.watchSeconds = opts.watchSeconds;
    this.failing = new OnceWarning(this.logger, 'cannot read the EndpointSlices of the gateway Service; keeping the last known backends and retrying');
  }

  async start(onChange: (endpoints: readonly string[]) => void): Promise<void> {
    const host = this.env.KUBERNETES_SERVICE_HOST;
    const port = this.env.KUBERNETES_SERVICE_PORT;
    if (host === undefined || host === '' || port === undefined || port === '') {
      // A ConfigError: the sidecar exits 1 with this line, as for a config mistake (which it is,
      // outside a cluster).
      throw new ConfigError([
        `exporters.${this.id}.resolver.k8s: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set; the k8s resolver runs only inside a Kubernetes pod (elsewhere use resolver.dns or resolver.static)`,
      ]);
    }
    this.apiServer = new URL(`https://${host.includes(':') ? `[${host}]` : host}:${port}`);
    this.namespace = this.configuredNamespace ?? this.podNamespace();
    this.onChange = onChange;
    // The first attempt is awaited so the exporter starts with its backends when the API server
    // answers; when it does not, the exporter starts without them and they arrive with a retry.
    await this.step();
  }

  shutdown(): Promise<void> {
    this.stopped = true;
    this.onChange = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.inflight?.destroy();
    this.inflight = undefined;
    return Promise.resolve();
  }

  private podNamespace(): string {
    try {
      const ns = readFileSync(join(this.dir, 'namespace'), 'utf8').trim();
      if (DNS_LABEL.test(ns)) return ns;
    } catch {
      // Not in a pod with a service account mounted: fall through.
    }
    this.logger.warn({ k8s_service: this.cfg.service }, 'resolver.k8s.service names no namespace and the pod\'s namespace is unknown: using "default"');
    return 'default';
  }

  private get path(): string {
    const selector = encodeURIComponent(`kubernetes.io/service-name=${this.name}`);
    return `/apis/discovery.k8s.io/v1/namespaces/${this.namespace}/endpointslices?labelSelector=${selector}`;
  }

  /** One LIST or WATCH, then the next one scheduled. Never throws. */
  private async step(): Promise<void> {
    this.timer = undefined;
    if (this.stopped) return;
    let delay = 0;
    try {
      if (this.resourceVersion === undefined) {
        await this.list();
      } else {
        this.progressed = false;
        const end = await this.watch();
        if (end === 'gone') {
          this.resourceVersion = undefined;
          this.logger.debug('watch resourceVersion expired (410 Gone): listing again');
          this.failures++;
        } else if (!this.progressed) {
          // Ended without delivering an event (a healthy watch gets a bookmark about every
          // minute): back off, so a server that closes every watch at once is not hammered.
          this.failures++;
        }
        delay = this.delay();
      }
    } catch (err) {
      if (this.stopped) return;
      this.failures++;
      this.failedResolutions.add(1);
      this.failing.warn({ err: (err as Error).message, k8s_service: `${this.name}.${this.namespace}` });
      this.logger.debug({ err: (err as Error).message }, 'EndpointSlice list/watch failed');
      delay = this.delay();
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.step(), delay);
    this.timer.unref();
  }

  private delay(): number {
    if (this.failures === 0) return 0;
    const full = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** Math.min(this.failures - 1, 30));
    return Math.round(full * (0.5 + Math.random() / 2));
  }

  private async list(): Promise<void> {
    const body = await this.getJson(this.path);
    if (!isObj(body) || !Array.isArray(body.items)) throw new Error('the EndpointSlice list is not an EndpointSliceList');
    const rv = resourceVersionOf(body);
    if (rv === undefined) throw new Error('the EndpointSlice list has no metadata.resourceVersion');
    this.slices.clear();
    for (const item of body.items as unknown[]) this.apply(item);
    this.resourceVersion = rv;
    this.resolved.add(1);
    this.failing.reset();
    this.emit();
  }

  /** Stores a slice's hosts; false when the object is not a usable EndpointSlice. */
  private apply(slice: unknown): boolean {
    const name = sliceName(slice);
    if (name === undefined) return false;
    const { hosts, missingHostnames } = sliceHosts(slice, this.cfg.return_hostnames ? `${this.name}.${this.namespace}` : undefined);
    if (missingHostnames > 0) {
      this.failedResolutions.add(1);
      if (!this.missingHostnamesWarned) {
        this.missingHostnamesWarned = true;
        this.logger.warn(
          { slice: name, skipped: missingHostnames },
          'return_hostnames: endpoints without a hostname are skipped (the pods need spec.subdomain set to the name of the headless Service)',
        );
      }
    }
    this.slices.set(name, hosts);
    return true;
  }

  private emit(): void {
    const all = new Set<string>();
    for (const hosts of this.slices.values()) for (const h of hosts) for (const p of this.ports) all.add(joinHostPort(h, p));
    const endpoints = [...all].sort();
    const prev = this.emitted;
    if (prev !== undefined && prev.length === endpoints.length && prev.every((e, i) => e === endpoints[i])) return;
    this.emitted = endpoints;
    this.logger.info({ backends: endpoints.length }, 'gateway backends changed');
    try {
      this.onChange?.(endpoints);
    } catch (err) {
      // The resolver's loop must survive its consumer.
      this.logger.error({ err: (err as Error).message }, 'the loadbalancing exporter failed to take the new backends');
    }
  }

  /** The request options every call shares: the token and CA read now (both rotate). */
  private requestOptions(timeoutMs: number): https.RequestOptions {
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'tracebridge-sidecar' };
    try {
      const token = readFileSync(join(this.dir, 'token'), 'utf8').trim();
      if (token !== '') headers.authorization = `Bearer ${token}`;
    } catch {
      // No token: the request goes anonymous and the API server's answer says so.
    }
    let ca: Buffer | undefined;
    try {
      ca = readFileSync(join(this.dir, 'ca.crt'));
    } catch {
      // The system roots apply.
    }
    // agent: false, one connection per request: a list and a long watch every few minutes.
    return { method: 'GET', headers, agent: false, timeout: timeoutMs, ...(ca !== undefined ? { ca } : {}) };
  }

  private getJson(path: string): Promise<unknown> {
    const url = new URL(path, this.apiServer);
    return new Promise((resolve, reject) => {
      let failure: Error | undefined;
      const fail = (err: Error) => {
        failure ??= err;
        req.destroy();
        reject(failure);
      };
      const req = https.request(url, this.requestOptions(this.cfg.timeout), (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_LIST_BYTES) fail(new Error(`the EndpointSlice list exceeds ${MAX_LIST_BYTES} bytes`));
          else chunks.push(c);
        });
        res.on('error', (err) => reject(failure ?? err));
        res.on('end', () => {
          clearTimeout(deadline);
          if (failure !== undefined) return;
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status !== 200) {
            reject(this.statusError('list', status, text));
            return;
          }
          try {
            resolve(JSON.parse(text));
          } catch {
            reject(new Error('the EndpointSlice list is not JSON'));
          }
        });
      });
      this.inflight = req;
      const deadline = setTimeout(() => fail(new Error(`list timed out after ${this.cfg.timeout}ms`)), this.cfg.timeout);
      deadline.unref();
      req.on('timeout', () => fail(new Error(`list timed out after ${this.cfg.timeout}ms`)));
      req.on('error', (err) => {
        clearTimeout(deadline);
        reject(failure ?? err);
      });
      req.end();
    });
  }

  private statusError(verb: 'list' | 'watch', status: number, body: string): KubeStatusError {
    let message = '';
    try {
      const s: unknown = JSON.parse(body);
      if (isObj(s) && typeof s.message === 'string') message = `: ${s.message}`;
    } catch {
      // Not a Status object.
    }
    const where = `endpointslices.discovery.k8s.io in namespace ${this.namespace}`;
    const hint =
      status === 403
        ? ` (forbidden: the pod's ServiceAccount needs get, list and watch on ${where}; see mesh-configs/gateway/k8s-resolver-rbac.yaml)`
        : status === 401
          ? ' (unauthorized: the service account token was refused)'
          : status === 404
            ? ` (not found: does namespace ${this.namespace} exist, and does the API server serve discovery.k8s.io/v1?)`
            : '';
    return new KubeStatusError(`${verb} ${where}: HTTP ${status}${message}${hint}`, status);
  }

  /** Follows the watch until it ends ('ended'), the version expires ('gone') or it fails (throws). */
  private watch(): Promise<WatchEnd> {
    const seconds = this.watchSeconds ?? 300 + Math.floor(Math.random() * 300);
    const path = `${this.path}&watch=1&resourceVersion=${encodeURIComponent(this.resourceVersion!)}&allowWatchBookmarks=true&timeoutSeconds=${seconds}`;
    const url = new URL(path, this.apiServer);
    return new Promise<WatchEnd>((resolve, reject) => {
      let failure: Error | undefined;
      let settled = false;
      const done = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(headersDeadline);
        fn();
      };
      const fail = (err: Error) => {
        const first = failure ?? err;
        failure = first;
        req.destroy();
        done(() => reject(first));
      };
      const req = https.request(url, this.requestOptions(seconds * 1000 + WATCH_IDLE_GRACE_MS), (res) => {
        clearTimeout(headersDeadline);
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => {
            if (chunks.length < 16) chunks.push(c);
          });
          res.on('end', () => done(() => (status === 410 ? resolve('gone') : reject(this.statusError('watch', status, Buffer.concat(chunks).toString('utf8'))))));
          res.on('error', (err) => fail(err));
          return;
        }
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let nl: number;
          while (!settled && (nl = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (line === '') continue;
            const outcome = this.onEvent(line);
            if (outcome === 'gone') {
              req.destroy();
              done(() => resolve('gone'));
            } else if (outcome instanceof Error) {
              fail(outcome);
            }
          }
          if (buffered.length > MAX_EVENT_BYTES) fail(new Error(`a watch event exceeds ${MAX_EVENT_BYTES} bytes`));
        });
        res.on('end', () => done(() => resolve('ended')));
        res.on('error', (err) => fail(err));
        res.on('close', () => {
          if (!res.complete) fail(new Error('the watch connection was cut'));
        });
      });
      this.inflight = req;
      const headersDeadline = setTimeout(() => fail(new Error(`watch: no response within ${this.cfg.timeout}ms`)), this.cfg.timeout);
      headersDeadline.unref();
      req.on('timeout', () => fail(new Error('watch: connection idle past its timeout')));
      req.on('error', (err) => fail(err));
      req.end();
    });
  }

  /** Applies one watch event line. */
  private onEvent(line: string): 'ok' | 'gone' | Error {
    let ev: unknown;
    try {
      ev = JSON.parse(line);
    } catch {
      return new Error('a watch event is not JSON');
    }
    if (!isObj(ev) || typeof ev.type !== 'string') return new Error('a watch event has no type');
    const obj = ev.object;
    switch (ev.type) {
      case 'ERROR': {
        const code = isObj(obj) ? obj.code : undefined;
        if (code === 410) return 'gone';
        const message = isObj(obj) && typeof obj.message === 'string' ? obj.message : 'no message';
        return new Error(`watch ERROR event ${String(code)}: ${message}`);
      }
      case 'BOOKMARK':
      case 'ADDED':
      case 'MODIFIED':
      case 'DELETED':
        break;
      default:
        return new Error(`unknown watch event type ${ev.type}`);
    }
    // Anything well-formed is progress: the backoff starts over.
    this.progressed = true;
    this.failures = 0;
    this.failing.reset();
    const rv = resourceVersionOf(obj);
    if (ev.type === 'BOOKMARK') {
      if (rv !== undefined) this.resourceVersion = rv;
      return 'ok';
    }
    const name = sliceName(obj);
    if (name === undefined) {
      this.failedResolutions.add(1);
      this.logger.warn({ type: ev.type }, 'watch event without an EndpointSlice name: ignored');
      return 'ok';
    }
    if (ev.type === 'DELETED') this.slices.delete(name);
    else this.apply(obj);
    if (rv !== undefined) this.resourceVersion = rv;
    this.resolved.add(1);
    this.emit();
    return 'ok';
  }
}
