// The API server's version for `native: auto`, read from /version at start and refreshed
// (clusters upgrade under a running injector). A failed read keeps the last known version.
import type { KubeClient } from './kube-client.ts';
import { parseKubeVersion, type KubeVersion } from './mode.ts';

export type VersionAnswer = KubeVersion | { unknown: string };

export class KubeVersionSource {
  private readonly client: KubeClient | { none: string };
  private readonly refreshMs: number;
  private readonly retryMs: number;
  private readonly now: () => number;
  private last: { version: KubeVersion; at: number } | undefined;
  private failure: { message: string; at: number } | undefined;
  private inflight: Promise<VersionAnswer> | undefined;

  constructor(client: KubeClient | { none: string }, opts: { refreshMs: number; retryAfterFailureMs: number; now?: () => number }) {
    this.client = client;
    this.refreshMs = opts.refreshMs;
    this.retryMs = opts.retryAfterFailureMs;
    this.now = opts.now ?? Date.now;
  }

  current(): Promise<VersionAnswer> {
    if ('none' in this.client) return Promise.resolve({ unknown: this.client.none });
    const now = this.now();
    if (this.last !== undefined && now - this.last.at < this.refreshMs) return Promise.resolve(this.last.version);
    if (this.failure !== undefined && now - this.failure.at < this.retryMs) return Promise.resolve(this.last?.version ?? { unknown: this.failure.message });
    this.inflight ??= this.load(this.client).finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async load(client: KubeClient): Promise<VersionAnswer> {
    try {
      const version = parseKubeVersion(await client.get('/version'));
      if (version === undefined) throw new Error('/version answered without a parsable version');
      this.last = { version, at: this.now() };
      this.failure = undefined;
      return version;
    } catch (err) {
      this.failure = { message: `Kubernetes API unreachable: ${(err as Error).message}`, at: this.now() };
      return this.last?.version ?? { unknown: this.failure.message };
    }
  }
}
