// The TCP side of the daemon: X-Ray SDKs poll `POST /GetSamplingRules` (every 5 min) and
// `POST /SamplingTargets` (every 10 s) on the daemon address. Relayed to X-Ray with SigV4, as the
// collector's proxy_server does; answered locally with the X-Ray default rule when there is no
// region, no credentials or no reachable X-Ray, so the SDKs' sampling keeps working.
// Unlike the collector, which relays any path, only these two APIs are served: the loopback port
// must not lend the sidecar's credentials to other X-Ray calls.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseDaemonAddress } from '../../aws/daemon-address.ts';
import { createAwsSigner } from '../../aws/sigv4.ts';
import type { Env } from '../../config/load.ts';
import type { Logger } from '../../telemetry/logger.ts';
import { OnceWarning } from '../../telemetry/logger.ts';
import type { BoundCounter, MetricsRegistry } from '../../telemetry/metrics.ts';
import { HttpError, readBody } from '../../net/http-body.ts';
import { closeServer, listen } from '../../net/listen.ts';
import type { ProxyServerConfig } from './config.ts';
import { InvalidSamplingRequest, LocalSampling } from './local-sampling.ts';
import { resolveRegion, type RegionLookupOptions } from './region.ts';
import { relayToXRay, RelayError, type RelayTarget } from './relay.ts';
// node:http by process.getBuiltinModule, not an ES import: importing it reads every export, and its
// WebSocket getter loads undici with node:tls and node:http2 (6.6 MiB of private memory at idle).
const { createServer } = process.getBuiltinModule('node:http');

const APIS = { '/GetSamplingRules': 'GetSamplingRules', '/SamplingTargets': 'SamplingTargets' } as const;
type Api = (typeof APIS)[keyof typeof APIS];

const MAX_BODY_BYTES = 1024 * 1024;
/** How long X-Ray may take to answer before the SDK gets the local answer. */
export const RELAY_TIMEOUT_MS = 5000;
/** After a failure, answer locally this long before trying X-Ray again (no wait on every poll). */
export const LOCAL_HOLD_MS = 30_000;

export interface SamplingProxyOptions {
  env: Env;
  now?: () => number;
  relayTimeoutMs?: number;
  imdsRegion?: RegionLookupOptions['imdsRegion'];
}

interface Upstream {
  target: RelayTarget | undefined;
  local: LocalSampling;
}

interface AnswerCounters {
  relayed: BoundCounter;
  local: BoundCounter;
  rejected: BoundCounter;
}

export class SamplingProxy {
  private readonly server: Server;
  private readonly cfg: ProxyServerConfig;
  private readonly opts: SamplingProxyOptions;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly answers: Record<Api, AnswerCounters>;
  private readonly unreachable: OnceWarning;
  private upstream: Promise<Upstream> | undefined;
  private localUntil = 0;
  private degraded = false;

  constructor(id: string, cfg: ProxyServerConfig, logger: Logger, metrics: MetricsRegistry, opts: SamplingProxyOptions) {
    this.cfg = cfg;
    this.opts = opts;
    this.logger = logger;
    this.now = opts.now ?? Date.now;
    const counter = metrics.counter(
      'tracebridge_receiver_awsxray_sampling_requests_total',
      'X-Ray sampling API calls from SDKs, by API and by who answered (relayed to X-Ray, local rules, or rejected).',
    );
    const bind = (api: Api): AnswerCounters => ({
      relayed: counter.bind({ receiver: id, api, answer: 'relayed' }),
      local: counter.bind({ receiver: id, api, answer: 'local' }),
      rejected: counter.bind({ receiver: id, api, answer: 'rejected' }),
    });
    this.answers = { GetSamplingRules: bind('GetSamplingRules'), SamplingTargets: bind('SamplingTargets') };
    this.unreachable = new OnceWarning(logger, 'X-Ray sampling API unavailable: serving the local default rule (1/s, then 5%) to SDKs');
    this.server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.logger.error({ err: (err as Error).message }, 'X-Ray sampling proxy handler failed');
        if (!res.headersSent) sendJson(res, 500, { __type: 'InternalFailure', message: 'internal error' });
      });
    });
  }

  async start(): Promise<void> {
    await listen(this.server, this.cfg.endpoint);
    // Resolved in the background: an EC2 metadata lookup must not delay the sidecar's start.
    // Requests that arrive meanwhile wait for it.
    this.upstream = this.resolveUpstream().catch((err: unknown) => {
      this.logger.error({ err: (err as Error).message }, 'X-Ray sampling proxy cannot reach X-Ray as configured: serving the local default rule');
      return { target: undefined, local: new LocalSampling(undefined) };
    });
    this.logger.info({ endpoint: this.cfg.endpoint, port: this.port }, 'X-Ray sampling proxy listening');
  }

  get port(): number {
    return (this.server.address() as AddressInfo | null)?.port ?? 0;
  }

  async shutdown(graceMs = 5000): Promise<void> {
    await closeServer(this.server, graceMs);
  }

  private async resolveUpstream(): Promise<Upstream> {
    const daemon = this.cfg.daemon_address === '' ? undefined : parseDaemonAddress(this.cfg.daemon_address);
    if (daemon !== undefined) {
      // The daemon signs the call itself; it answers the same two APIs on its TCP address.
      const host = daemon.tcp.host.includes(':') ? `[${daemon.tcp.host}]` : daemon.tcp.host;
      const target: RelayTarget = {
        base: new URL(`http://${host}:${daemon.tcp.port}`),
        proxy: undefined,
        tls: { rejectUnauthorized: true, servername: undefined, ca: undefined },
        signer: { region: '', sign: (req) => Promise.resolve({ ...req.headers }) },
        timeoutMs: this.opts.relayTimeoutMs ?? RELAY_TIMEOUT_MS,
      };
      this.logger.info({ daemon: target.base.host }, 'X-Ray sampling proxy relays to the X-Ray daemon the app named');
      return { target, local: new LocalSampling(undefined) };
    }
    const { region, source } = await resolveRegion({
      region: this.cfg.region,
      localMode: this.cfg.local_mode,
      imdsRetries: this.cfg.imds_retries,
      env: this.opts.env,
      imdsRegion: this.opts.imdsRegion,
    });
    const local = new LocalSampling(region);
    if (region === undefined) {
      this.logger.warn({ reason: source }, 'X-Ray sampling proxy has no AWS region: serving the local default rule (1/s, then 5%) to SDKs');
      return { target: undefined, local };
    }
    const base = new URL(this.cfg.aws_endpoint !== '' ? this.cfg.aws_endpoint : `https://${this.cfg.service_name}.${region}.amazonaws.com`);
    const proxyText = this.cfg.proxy_address || this.opts.env.HTTPS_PROXY || this.opts.env.https_proxy || '';
    const target: RelayTarget = {
      base,
      proxy: proxyText === '' ? undefined : new URL(proxyText.includes('://') ? proxyText : `http://${proxyText}`),
      tls: {
        rejectUnauthorized: !this.cfg.tls.insecure,
        servername: this.cfg.tls.server_name_override || undefined,
        ca: this.cfg.tls.ca_file === '' ? undefined : readFileSync(this.cfg.tls.ca_file, 'utf8'),
      },
      signer: createAwsSigner({ region, service: this.cfg.service_name, roleArn: this.cfg.role_arn || undefined }),
      timeoutMs: this.opts.relayTimeoutMs ?? RELAY_TIMEOUT_MS,
    };
    this.logger.info({ region, regionSource: source, xray: base.origin, proxy: target.proxy?.host }, 'X-Ray sampling proxy relays to X-Ray');
    return { target, local };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const api = (APIS as Record<string, Api | undefined>)[path];
    if (api === undefined) {
      req.resume();
      sendJson(res, 404, { __type: 'UnknownOperationException', message: `the X-Ray sampling proxy serves only ${Object.keys(APIS).join(' and ')}` });
      return;
    }
    const counters = this.answers[api];
    if (req.method !== 'POST') {
      req.resume();
      res.setHeader('Allow', 'POST');
      counters.rejected.add(1);
      sendJson(res, 405, { __type: 'InvalidRequestException', message: 'use POST' });
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(req, MAX_BODY_BYTES);
    } catch (err) {
      const e = err instanceof HttpError ? err : new HttpError(400, String(err));
      counters.rejected.add(1);
      res.setHeader('Connection', 'close');
      sendJson(res, e.status, { __type: 'InvalidRequestException', message: e.message });
      return;
    }
    const upstream = await this.upstream!;
    if (upstream.target !== undefined && this.now() >= this.localUntil) {
      try {
        const answer = await relayToXRay(upstream.target, path, body);
        if (this.degraded) {
          this.degraded = false;
          this.unreachable.reset();
          this.logger.info('X-Ray sampling API reachable again: relaying SDK sampling calls');
        }
        counters.relayed.add(1);
        res.writeHead(answer.status, { ...answer.headers, 'content-length': answer.body.length });
        res.end(answer.body);
        return;
      } catch (err) {
        if (!(err instanceof RelayError)) throw err;
        this.degraded = true;
        this.localUntil = this.now() + LOCAL_HOLD_MS;
        this.unreachable.warn({ reason: err.kind === 'credentials' ? 'no AWS credentials' : 'X-Ray unreachable', detail: err.message });
      }
    }
    this.answerLocally(api, upstream.local, body, res, counters);
  }

  private answerLocally(api: Api, local: LocalSampling, body: Buffer, res: ServerResponse, counters: AnswerCounters): void {
    if (api === 'GetSamplingRules') {
      counters.local.add(1);
      sendJson(res, 200, local.rules());
      return;
    }
    try {
      const answer = local.targets(JSON.parse(body.toString('utf8')));
      counters.local.add(1);
      sendJson(res, 200, answer);
    } catch (err) {
      if (!(err instanceof SyntaxError || err instanceof InvalidSamplingRequest)) throw err;
      counters.rejected.add(1);
      sendJson(res, 400, { __type: 'InvalidRequestException', message: err.message });
    }
  }
}

function sendJson(res: ServerResponse, status: number, value: object): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
