// Namespace metadata for decisions, cached: one API read per namespace per TTL, concurrent
// lookups share one request, and while the API is failing the cache neither hammers it (one
// attempt per `retryAfterFailureMs`) nor blocks admission: it serves a stale entry up to
// `maxStaleMs` old, else "unknown" with the reason, and the pod alone decides.
import { KubeApiError } from './kube-client.ts';
import { stringMap, isRecord, type NamespaceInfo } from './pod.ts';

export interface NamespaceCacheOptions {
  ttlMs: number;
  maxStaleMs: number;
  retryAfterFailureMs: number;
  maxEntries?: number;
  now?: () => number;
}

export type NamespaceFetch = (name: string) => Promise<unknown>;

interface Entry {
  info: Extract<NamespaceInfo, { known: true }>;
  fetchedAt: number;
}

export class NamespaceCache {
  private readonly fetch: NamespaceFetch | { none: string };
  private readonly opts: Required<NamespaceCacheOptions>;
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<NamespaceInfo>>();
  private failure: { at: number; message: string } | undefined;
  private readonly onResult: (result: 'ok' | 'error' | 'not_found') => void;

  constructor(fetch: NamespaceFetch | { none: string }, opts: NamespaceCacheOptions, onResult: (result: 'ok' | 'error' | 'not_found') => void = () => {}) {
    this.fetch = fetch;
    this.opts = { maxEntries: 10_000, now: Date.now, ...opts };
    this.onResult = onResult;
  }

  async get(name: string): Promise<NamespaceInfo> {
    if (name === '') return { known: false, name, why: 'the request names no namespace' };
    if (typeof this.fetch !== 'function') return { known: false, name, why: this.fetch.none };
    const now = this.opts.now();
    const entry = this.entries.get(name);
    if (entry !== undefined && now - entry.fetchedAt < this.opts.ttlMs) return entry.info;
    if (this.failure !== undefined && now - this.failure.at < this.opts.retryAfterFailureMs) return this.fallback(name, entry, now);
    let pending = this.inflight.get(name);
    if (pending === undefined) {
      pending = this.load(name, this.fetch).finally(() => this.inflight.delete(name));
      this.inflight.set(name, pending);
    }
    return pending;
  }

  private async load(name: string, fetch: NamespaceFetch): Promise<NamespaceInfo> {
    try {
      const body = await fetch(name);
      const meta = isRecord(body) && isRecord(body.metadata) ? body.metadata : {};
      const info = { known: true as const, name, labels: stringMap(meta.labels), annotations: stringMap(meta.annotations) };
      this.failure = undefined;
      this.entries.delete(name);
      this.entries.set(name, { info, fetchedAt: this.opts.now() });
      if (this.entries.size > this.opts.maxEntries) this.entries.delete(this.entries.keys().next().value!);
      this.onResult('ok');
      return info;
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) {
        this.onResult('not_found');
        return { known: false, name, why: `namespace ${name} not found` };
      }
      this.onResult('error');
      const message = `Kubernetes API unreachable: ${(err as Error).message}`;
      this.failure = { at: this.opts.now(), message };
      return this.fallback(name, this.entries.get(name), this.opts.now());
    }
  }

  private fallback(name: string, entry: Entry | undefined, now: number): NamespaceInfo {
    if (entry !== undefined && now - entry.fetchedAt < this.opts.maxStaleMs) return entry.info;
    return { known: false, name, why: this.failure?.message ?? 'Kubernetes API unreachable' };
  }
}
