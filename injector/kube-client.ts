// A minimal Kubernetes API client: GET with the in-cluster service account (bearer token file
// re-read periodically, since bound tokens rotate; the cluster CA), a per-request timeout and
// a bounded response size. The injector needs three reads: a namespace, /version, and the
// mutating webhook configurations; a client library would bring far more than that.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

export class KubeApiError extends Error {
  readonly status: number | undefined;

  constructor(message: string, status?: number) {
    super(message);
    this.name = 'KubeApiError';
    this.status = status;
  }
}

export interface KubeClientOptions {
  apiServer: string;
  tokenFile?: string;
  caFile?: string;
  timeoutMs: number;
  now?: () => number;
}

const TOKEN_REREAD_MS = 60_000;
const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

export class KubeClient {
  readonly apiServer: URL;
  private readonly opts: KubeClientOptions;
  private readonly agent: http.Agent;
  private token: { value: string | undefined; readAt: number } | undefined;

  constructor(opts: KubeClientOptions) {
    this.opts = opts;
    this.apiServer = new URL(opts.apiServer);
    let ca: Buffer | undefined;
    if (opts.caFile !== undefined) {
      try {
        ca = readFileSync(opts.caFile);
      } catch {
        // Outside a cluster (kubectl proxy on http, or a public CA): the system roots apply.
      }
    }
    // TLS sessions are not cached: connections are kept alive, so resumption would save little,
    // and a resumed session across the interposed sockets of an HTTP interceptor (nock, in the
    // tests) tears down unrelated connections.
    this.agent =
      this.apiServer.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, maxSockets: 4, maxCachedSessions: 0, ...(ca !== undefined ? { ca } : {}) })
        : new http.Agent({ keepAlive: true, maxSockets: 4 });
  }

  private bearer(): string | undefined {
    const now = (this.opts.now ?? Date.now)();
    if (this.token === undefined || now - this.token.readAt > TOKEN_REREAD_MS) {
      let value: string | undefined;
      try {
        value = this.opts.tokenFile === undefined ? undefined : readFileSync(this.opts.tokenFile, 'utf8').trim();
      } catch {
        value = undefined;
      }
      this.token = { value, readAt: now };
    }
    return this.token.value;
  }

  /** GET `path` and parse JSON; throws KubeApiError (status set for HTTP errors). */
  get(path: string): Promise<unknown> {
    const url = new URL(path, this.apiServer);
    const token = this.bearer();
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'tracebridge-injector' };
    if (token !== undefined && token !== '') headers.authorization = `Bearer ${token}`;
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      // Why the request was cut short, if we cut it: destroy(err) does not always hand `err`
      // to the 'error' listener (an interposed agent may report a plain abort instead).
      let abortReason: KubeApiError | undefined;
      const abort = (reason: KubeApiError) => {
        abortReason ??= reason;
        req.destroy();
      };
      const req = transport.request(url, { method: 'GET', headers, agent: this.agent, timeout: this.opts.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            abort(new KubeApiError(`response from ${url.pathname} exceeds ${MAX_RESPONSE_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', (err) => reject(abortReason ?? new KubeApiError(err.message)));
        res.on('end', () => {
          if (abortReason !== undefined) return;
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString('utf8');
          if (status < 200 || status >= 300) {
            reject(new KubeApiError(`GET ${url.pathname}: HTTP ${status}`, status));
            return;
          }
          try {
            resolve(JSON.parse(text));
          } catch {
            reject(new KubeApiError(`GET ${url.pathname}: response is not JSON`, status));
          }
        });
      });
      req.on('timeout', () => abort(new KubeApiError(`GET ${url.pathname}: timed out after ${this.opts.timeoutMs}ms`)));
      req.on('error', (err) => reject(abortReason ?? new KubeApiError(`GET ${url.pathname}: ${err.message}`)));
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * The API server from the config, else the in-cluster service environment; undefined (with
 * the reason) when neither is there, e.g. the injector running on a laptop.
 */
export function resolveApiServer(configured: string | undefined, env: Readonly<Record<string, string | undefined>>): { url: string } | { none: string } {
  if (configured !== undefined) return { url: configured };
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (host === undefined || host === '' || port === undefined || port === '') {
    return { none: 'no kubernetes.api_server and KUBERNETES_SERVICE_HOST/PORT are not set' };
  }
  return { url: `https://${host.includes(':') ? `[${host}]` : host}:${port}` };
}
