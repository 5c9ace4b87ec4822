// transport `api`: PutTraceSegments through @aws-sdk/client-xray (SigV4, the default credential
// chain or an assumed `role_arn`, `region`, `endpoint`, `proxy_address`, `no_verify_ssl`).
//
// One queued request is one batch of documents, sent as calls of at most 50 documents (the API's
// limit) one after the other. Outcomes:
// - accepted documents are done; `UnprocessedTraceSegments` with a retryable code (throttling,
//   internal errors) go back for another attempt, the others are counted as failed;
// - a throttling (HTTP 429, ThrottledException) or 5xx answer, a timeout or a network error:
//   the documents not yet accepted are retried by the shared retry machinery (RetryRemainder);
// - any other 4xx (bad request, access denied): the documents not yet accepted fail for good.
// The SDK's own retries are off (`max_retries`, default 0) so that `retry_on_failure` is the one
// retry policy, with its backoff, elapsed-time limit and drain deadline.
import type { Agent as HttpsAgent } from 'node:https';
import type { PutTraceSegmentsCommand as PutTraceSegmentsCommandType, XRayClient as XRayClientType } from '@aws-sdk/client-xray';
import type { CreateSettings } from '../../component/component.ts';
import { PermanentError, RetryableError } from '../../component/errors.ts';
import { RetryRemainder } from '../internal/retry.ts';
import type { SendOutcome } from '../internal/request.ts';
import { userAgent } from '../../component/user-agent.ts';
import type { AwsxrayExporterConfig } from './config.ts';
import type { XRayObs } from './obs.ts';
import { TelemetrySender, type TelemetryMetadata, type TelemetryRecorder } from './telemetry.ts';
import { segmentRequest, type SegmentRequest, type SegmentTransport } from './request.ts';

/** PutTraceSegments takes at most 50 documents per call. */
export const MAX_DOCUMENTS_PER_CALL = 50;

const RETRYABLE_CODE = /throttl|^(?:internalfailure|internalerror|internalservererror|internalserviceerror|serviceunavailable(?:exception)?|requesttimeout(?:exception)?|toomanyrequests(?:exception)?|slowdown|429|5\d\d)$/i;

/** Whether X-Ray may accept an unprocessed segment later (throttling, server-side trouble). */
export function isRetryableSegmentError(code: string | undefined): boolean {
  return code !== undefined && RETRYABLE_CODE.test(code);
}

interface SdkError {
  name?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

/** An SDK failure as the retry machinery's error classes. */
export function classifySdkError(err: unknown): Error {
  const e = (err ?? {}) as SdkError;
  const message = e.message ?? String(err);
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? '';
  const throttle = status === 429 || /throttl|toomanyrequests/i.test(name) || e.$retryable?.throttling === true;
  if (throttle) return new RetryableError(`X-Ray throttled PutTraceSegments: ${message}`, { throttle: true, cause: err });
  if (status === undefined || status >= 500 || e.$fault === 'server') return new RetryableError(`PutTraceSegments failed: ${message}`, { cause: err });
  // Expired credentials or signature: the credential provider refreshes on the next attempt.
  if (/expired|requesttimetooskewed|requestexpired/i.test(name)) return new RetryableError(`PutTraceSegments refused (${name}): ${message}`, { cause: err });
  return new PermanentError(`PutTraceSegments refused with HTTP ${status} ${name}: ${message}`, { cause: err });
}

export interface TelemetryOptions {
  metadata: TelemetryMetadata;
  intervalMs?: number;
}

export interface ApiEnv {
  /** HTTPS_PROXY / NO_PROXY of the environment, used when `proxy_address` is not set. */
  proxyEnv?: NodeJS.ProcessEnv;
  /** AWS_REGION of the environment: the SDK's first source of a region after `region`. */
  awsRegion?: string;
  telemetry?: TelemetryOptions;
}

/** A region the SDK's client accepts: one hostname label (its check, @smithy/core checkRegion). */
const HOST_LABEL = /^(?!.*-$)(?!-)[a-zA-Z0-9-]{1,63}$/;

/**
 * The region the SDK's client would use for `region`, or the start error it would give: a FIPS
 * form (`fips-us-east-1`, `us-east-1-fips`) names its plain region, and anything that is not one
 * hostname label is refused. The client makes this check when it first resolves its region, which
 * is the first export when the client is made then; done here, a malformed `region` or AWS_REGION
 * (a trailing space) still fails the start instead of every export.
 */
export function sdkRegion(region: string, exporter: string): string {
  const real = ['fips-aws-global', 'aws-fips'].includes(region) ? 'us-east-1' : region.startsWith('fips-') || region.endsWith('-fips') ? region.replace(/fips-(dkr-|prod-)?|-fips/, '') : region;
  if (!HOST_LABEL.test(real)) {
    throw new Error(`exporter ${exporter}: no AWS region: set region (or AWS_REGION): Region not accepted: region="${real}" is not a valid hostname component.`);
  }
  return real;
}

export class ApiTransport implements SegmentTransport {
  private readonly settings: CreateSettings;
  private readonly cfg: AwsxrayExporterConfig;
  private readonly obs: XRayObs;
  private readonly telemetryOptions: TelemetryOptions;
  private readonly proxyEnv: NodeJS.ProcessEnv;
  private readonly awsRegion: string | undefined;
  private telemetry: TelemetrySender | undefined;
  private client: XRayClientType | undefined;
  private PutTraceSegmentsCommand: typeof PutTraceSegmentsCommandType | undefined;
  private agent: HttpsAgent | undefined;
  private connecting: Promise<void> | undefined;
  private closed = false;
  private region = '';

  constructor(settings: CreateSettings, cfg: AwsxrayExporterConfig, obs: XRayObs, env: ApiEnv = {}) {
    this.settings = settings;
    this.cfg = cfg;
    this.obs = obs;
    this.telemetryOptions = env.telemetry ?? { metadata: {} };
    this.proxyEnv = env.proxyEnv ?? {};
    this.awsRegion = env.awsRegion;
  }

  /** X-Ray telemetry records (`telemetry.enabled`), else undefined. */
  get recorder(): TelemetryRecorder | undefined {
    return this.telemetry?.recorder;
  }

  /**
   * The AWS SDK's X-Ray client (~130 ms to load on a 2-core VM, node:https, node:tls and
   * node:http2 with it) is made by the first export when the region is known without it: from
   * `region`, else AWS_REGION (the SDK's own first source), which the shipped config and the
   * injector's env give: as a native sidecar, the pod's app containers start only once the
   * sidecar is healthy. Otherwise it is made now, so that the SDK's chain (shared config files)
   * finds the region or the start fails, before any data is accepted. The first export pays the
   * ~130 ms once (the event loop is busy loading it; the UDP receive buffer holds datagrams).
   */
  async start(): Promise<void> {
    this.checkProxy();
    const known = this.knownRegion();
    if (known === undefined) return this.connect();
    this.region = sdkRegion(known, this.settings.id);
  }

  /**
   * The proxy settings of the client's Agent: `proxy_address`, else the environment's.
   * `proxy_address` goes in as its URL's normal form: Node's Agent goes direct, without a word, for
   * a proxy whose text does not start with "http://" or "https://" (`HTTP://proxy:3128`), which
   * the config accepts as the URL it is.
   */
  private agentProxyEnv(): NodeJS.ProcessEnv {
    const proxy = this.cfg.proxy_address === undefined ? undefined : new URL(this.cfg.proxy_address).href;
    return proxy !== undefined ? { HTTPS_PROXY: proxy, HTTP_PROXY: proxy } : this.proxyEnv;
  }

  /**
   * Node checks an Agent's proxy settings when the Agent is made, and the client's is made by the
   * first export. The same check runs at start on an http Agent (node:http is loaded, node:https
   * is not) given the https settings under the http names (Node reads the pair of the request's
   * scheme, lower case first, the same way for both), so a malformed HTTPS_PROXY still fails the
   * start instead of every export, with its credentials left out of the message.
   */
  private checkProxy(): void {
    const env = this.agentProxyEnv();
    try {
      const { Agent } = process.getBuiltinModule('node:http');
      new Agent({ proxyEnv: { http_proxy: env.https_proxy, HTTP_PROXY: env.HTTPS_PROXY, no_proxy: env.no_proxy, NO_PROXY: env.NO_PROXY } }).destroy();
    } catch (err) {
      // Node's message quotes the URL: its user and password stay out of the log. No `cause`: the
      // logger appends a cause's message, which would bring them back.
      const message = (err as Error).message.replace(/\/\/[^/\s]*@/g, '//***@');
      // eslint-disable-next-line preserve-caught-error
      throw new Error(`exporter ${this.settings.id}: ${message} (proxy_address, else HTTPS_PROXY / https_proxy of the environment)`);
    }
  }

  /** `region`, else a non-empty AWS_REGION; undefined leaves the region to the SDK's chain. */
  private knownRegion(): string | undefined {
    return this.cfg.region ?? (this.awsRegion || undefined);
  }

  /** Makes the client once; a failure is thrown to the caller and tried again by the next. */
  private connect(): Promise<void> {
    this.connecting ??= this.makeClient().catch((err: unknown) => {
      this.connecting = undefined;
      throw err;
    });
    return this.connecting;
  }

  private async makeClient(): Promise<void> {
    const sdk = await import('@aws-sdk/client-xray');
    const cfg = this.cfg;
    const { Agent } = process.getBuiltinModule('node:https');
    const agent = new Agent({
      keepAlive: true,
      maxSockets: cfg.sending_queue.enabled ? cfg.sending_queue.num_consumers : 16,
      rejectUnauthorized: !cfg.no_verify_ssl,
      // Node's own proxy support: the configured proxy, else HTTPS_PROXY / NO_PROXY.
      proxyEnv: this.agentProxyEnv(),
    });
    const region = this.knownRegion();
    let credentials;
    if (cfg.role_arn !== undefined) {
      const { fromTemporaryCredentials } = await import('@aws-sdk/credential-providers');
      credentials = fromTemporaryCredentials({
        params: { RoleArn: cfg.role_arn, RoleSessionName: 'tracebridge' },
        clientConfig: region === undefined ? {} : { region },
      });
    }
    const ua = userAgent('awsxray');
    const client = new sdk.XRayClient({
      region,
      endpoint: cfg.endpoint,
      credentials,
      maxAttempts: cfg.max_retries + 1,
      customUserAgent: ua,
      requestHandler: { httpsAgent: agent, requestTimeout: cfg.timeout },
    });
    // The SDK writes its own product first in User-Agent; the mesh-proxy self-filter recognises the
    // sidecar's export calls by a User-Agent that *starts* with tracebridge/ (not signed by SigV4).
    client.middlewareStack.add(
      (next) => (args) => {
        const req = args.request as { headers?: Record<string, string> };
        if (req.headers !== undefined) {
          const sdkUa = req.headers['user-agent'];
          req.headers['user-agent'] = sdkUa === undefined ? ua : `${ua} ${sdkUa}`;
        }
        return next(args);
      },
      { step: 'finalizeRequest', name: 'tracebridgeUserAgent', priority: 'low' },
    );
    try {
      this.region = await client.config.region();
    } catch (err) {
      client.destroy();
      agent.destroy();
      throw new Error(`exporter ${this.settings.id}: no AWS region: set region (or AWS_REGION): ${(err as Error).message}`, { cause: err });
    }
    if (this.closed) {
      // close() came while the SDK loaded: nothing is sent any more.
      client.destroy();
      agent.destroy();
      return;
    }
    this.client = client;
    this.agent = agent;
    this.PutTraceSegmentsCommand = sdk.PutTraceSegmentsCommand;
    if (cfg.telemetry.enabled) {
      const meta = cfg.telemetry.include_metadata ? this.telemetryOptions.metadata : {};
      this.telemetry = new TelemetrySender(client, sdk.PutTelemetryRecordsCommand, meta, this.settings.logger, this.telemetryOptions.intervalMs);
      this.telemetry.start();
    }
  }

  describe(): Record<string, unknown> {
    return { region: this.region, endpoint: this.cfg.endpoint, role_arn: this.cfg.role_arn, proxy: this.cfg.proxy_address };
  }

  async send(req: SegmentRequest, abort: AbortSignal): Promise<SendOutcome | void> {
    if (this.client === undefined) await this.connect();
    const client = this.client;
    const Command = this.PutTraceSegmentsCommand;
    if (client === undefined || Command === undefined) throw new RetryableError(`exporter ${this.settings.id}: closed while its X-Ray client was being made`);
    const retryDocs: string[] = [];
    const retryIds: string[] = [];
    let rejected = req.rejected;
    let lastMessage = '';
    let throttled = false;

    for (let start = 0; start < req.docs.length; start += MAX_DOCUMENTS_PER_CALL) {
      const docs = req.docs.slice(start, start + MAX_DOCUMENTS_PER_CALL);
      let out;
      this.recorder?.received(docs.length);
      try {
        out = await client.send(new Command({ TraceSegmentDocuments: docs }), { abortSignal: abort });
      } catch (err) {
        this.recorder?.connectionError(err);
        const failure = classifySdkError(err);
        const restDocs = req.docs.slice(start);
        const restIds = req.ids.slice(start);
        if (failure instanceof PermanentError) {
          rejected += restDocs.length;
          if (retryDocs.length === 0) return { rejected, message: failure.message };
          throw new RetryRemainder(segmentRequest(retryDocs, retryIds, rejected), failure.message, { cause: err });
        }
        // Nothing accepted yet: the request goes back whole.
        if (start === 0) throw failure;
        const remaining = segmentRequest([...retryDocs, ...restDocs], [...retryIds, ...restIds], rejected);
        throw new RetryRemainder(remaining, failure.message, { cause: err, retryAfterMs: (failure as RetryableError).retryAfterMs });
      }
      const unprocessed = out.UnprocessedTraceSegments ?? [];
      this.recorder?.sent(docs.length - Math.min(docs.length, unprocessed.length));
      this.recorder?.rejected(unprocessed.length);
      if (unprocessed.length === 0) continue;
      const byId = new Map<string, number[]>();
      for (let i = start; i < start + docs.length; i++) {
        const list = byId.get(req.ids[i]!);
        if (list === undefined) byId.set(req.ids[i]!, [i]);
        else list.push(i);
      }
      for (const u of unprocessed) {
        const code = u.ErrorCode ?? 'Unknown';
        const retry = isRetryableSegmentError(u.ErrorCode);
        const indexes = (u.Id === undefined ? undefined : byId.get(u.Id)) ?? [];
        // An entry that names no document of this call cannot be retried; count it as one failure.
        const n = Math.max(1, indexes.length);
        for (let k = 0; k < n; k++) this.obs.unprocessed(code, retry && indexes.length > 0);
        if (retry && indexes.length > 0) {
          throttled ||= /throttl/i.test(code);
          for (const i of indexes) {
            retryDocs.push(req.docs[i]!);
            retryIds.push(req.ids[i]!);
          }
        } else {
          rejected += n;
          lastMessage = `X-Ray did not process segment ${u.Id ?? '?'}: ${code} ${u.Message ?? ''}`.trim();
        }
        if (u.Id !== undefined) byId.delete(u.Id);
      }
    }
    if (retryDocs.length > 0) {
      throw new RetryRemainder(segmentRequest(retryDocs, retryIds, rejected), `X-Ray left ${retryDocs.length} segments unprocessed with retryable errors${throttled ? ' (throttled)' : ''}`);
    }
    return rejected > 0 ? { rejected, message: lastMessage || 'segment documents over 64 kB after trimming' } : undefined;
  }

  close(): Promise<void> {
    this.closed = true;
    this.telemetry?.stop();
    this.client?.destroy();
    this.agent?.destroy();
    return Promise.resolve();
  }
}
