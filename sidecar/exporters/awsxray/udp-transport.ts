// transport `udp`: one segment document per datagram, `{"format": "json", "version": 1}\n` then
// the JSON, to an X-Ray daemon or CloudWatch agent (`daemon_address`, else
// AWS_XRAY_DAEMON_ADDRESS, else 127.0.0.1:2000). The daemon batches, signs and uploads; nothing
// acknowledges a datagram, so only local send errors (no route, unresolvable host) are retried.
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { RetryRemainder } from '../internal/retry.ts';
import type { SendOutcome } from '../internal/request.ts';
import type { AwsxrayExporterConfig } from './config.ts';
import { DEFAULT_DAEMON_ADDRESS, parseDaemonAddress } from '../../aws/daemon-address.ts';
import { segmentRequest, type SegmentRequest, type SegmentTransport } from './request.ts';

export const DAEMON_HEADER = '{"format": "json", "version": 1}\n';
const HEADER_BYTES = Buffer.from(DAEMON_HEADER, 'utf8');

export class UdpTransport implements SegmentTransport {
  private readonly host: string;
  private readonly port: number;
  private readonly source: string;
  private socket: Socket | undefined;

  constructor(cfg: AwsxrayExporterConfig, envAddress: string | undefined) {
    const text = cfg.daemon_address ?? (envAddress !== undefined && envAddress.trim() !== '' ? envAddress : DEFAULT_DAEMON_ADDRESS);
    const parsed = parseDaemonAddress(text);
    if (parsed === undefined) throw new Error(`AWS_XRAY_DAEMON_ADDRESS: expected host:port or "udp:host:port tcp:host:port", got ${JSON.stringify(text)}`);
    this.host = parsed.udp.host;
    this.port = parsed.udp.port;
    this.source = cfg.daemon_address !== undefined ? 'daemon_address' : envAddress !== undefined && envAddress.trim() !== '' ? 'AWS_XRAY_DAEMON_ADDRESS' : 'default';
  }

  start(): Promise<void> {
    const socket = createSocket(isIPv6(this.host) ? 'udp6' : 'udp4');
    // Errors surface per send; an 'error' event without a listener would crash the process.
    socket.on('error', () => {});
    socket.unref();
    this.socket = socket;
    return Promise.resolve();
  }

  describe(): Record<string, unknown> {
    // The sidecar's own awsxray receiver listens on 127.0.0.1:2000 by default (the exporter warns).
    const loopback = this.port === 2000 && (this.host === '127.0.0.1' || this.host === 'localhost' || this.host === '::1' || this.host === '0.0.0.0');
    return { daemon_address: `${this.host}:${this.port}`, from: this.source, loopback_daemon: loopback };
  }

  private sendOne(doc: string): Promise<Error | undefined> {
    const body = Buffer.from(doc, 'utf8');
    return new Promise((resolve) => {
      this.socket!.send([HEADER_BYTES, body], this.port, this.host, (err) => resolve(err ?? undefined));
    });
  }

  async send(req: SegmentRequest, abort: AbortSignal): Promise<SendOutcome | void> {
    // All datagrams of the batch in flight at once: the kernel queues them; a send callback only
    // reports local errors.
    const results = await Promise.all(req.docs.map((d) => this.sendOne(d)));
    const retryDocs: string[] = [];
    const retryIds: string[] = [];
    let firstError: Error | undefined;
    results.forEach((err, i) => {
      if (err === undefined) return;
      firstError ??= err;
      retryDocs.push(req.docs[i]!);
      retryIds.push(req.ids[i]!);
    });
    if (firstError !== undefined) {
      if (abort.aborted) throw firstError;
      throw new RetryRemainder(segmentRequest(retryDocs, retryIds, req.rejected), `sending to the X-Ray daemon at ${this.host}:${this.port} failed: ${firstError.message}`, { cause: firstError });
    }
    return req.rejected > 0 ? { rejected: req.rejected, message: 'segment documents over 64 kB after trimming' } : undefined;
  }

  close(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s === undefined) return Promise.resolve();
    return new Promise((resolve) => s.close(() => resolve()));
  }
}
