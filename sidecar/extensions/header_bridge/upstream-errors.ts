// What the app sees when the bridge cannot get an answer from the upstream: 502 when the upstream
// refused, reset or could not be resolved, 504 when it did not answer in time (RFC 9110 §15.6.3,
// §15.6.5). The body is one plain-text line; Proxy-Status (RFC 9209) carries the same in a
// machine-readable form for clients and meshes that read it.

/** Raised by the bridge's own timers. */
export class UpstreamTimeoutError extends Error {
  readonly phase: 'connect' | 'response headers' | 'idle';

  constructor(phase: 'connect' | 'response headers' | 'idle', ms: number) {
    super(`no ${phase === 'idle' ? 'activity' : phase === 'connect' ? 'connection' : 'response headers'} within ${ms} ms`);
    this.name = 'UpstreamTimeoutError';
    this.phase = phase;
  }
}

export type UpstreamErrorReason = 'connect_refused' | 'reset' | 'timeout' | 'dns' | 'unreachable' | 'other';

export interface UpstreamFailure {
  status: 502 | 504;
  reason: UpstreamErrorReason;
  /** RFC 9209 error type. */
  proxyStatus: string;
  message: string;
}

export function classifyUpstreamError(err: Error & { code?: string }, target: string): UpstreamFailure {
  if (err instanceof UpstreamTimeoutError) {
    const proxyStatus = err.phase === 'connect' ? 'connection_timeout' : err.phase === 'idle' ? 'connection_read_timeout' : 'http_response_timeout';
    return { status: 504, reason: 'timeout', proxyStatus, message: `upstream ${target} timed out: ${err.message}` };
  }
  switch (err.code) {
    case 'ECONNREFUSED':
      return { status: 502, reason: 'connect_refused', proxyStatus: 'connection_refused', message: `upstream ${target} refused the connection` };
    case 'ECONNRESET':
    case 'EPIPE':
      return { status: 502, reason: 'reset', proxyStatus: 'connection_terminated', message: `upstream ${target} closed the connection before answering` };
    case 'ETIMEDOUT':
      return { status: 504, reason: 'timeout', proxyStatus: 'connection_timeout', message: `upstream ${target} timed out (${err.code})` };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { status: 502, reason: 'dns', proxyStatus: 'dns_error', message: `upstream host of ${target} could not be resolved (${err.code})` };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return { status: 502, reason: 'unreachable', proxyStatus: 'destination_unavailable', message: `upstream ${target} is unreachable (${err.code})` };
    case 'HPE_HEADER_OVERFLOW':
      return { status: 502, reason: 'other', proxyStatus: 'http_response_header_section_size', message: `upstream ${target} sent response headers over the size limit` };
    default:
      if (err.code?.startsWith('HPE_') === true) {
        return { status: 502, reason: 'other', proxyStatus: 'http_protocol_error', message: `upstream ${target} sent an invalid HTTP response (${err.code})` };
      }
      return { status: 502, reason: 'other', proxyStatus: 'proxy_internal_error', message: `upstream ${target} failed: ${err.code ?? err.message}` };
  }
}
