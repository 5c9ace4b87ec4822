// The error a unary call of the exporter's gRPC client fails with (the status codes themselves are
// in net/grpc-protocol.ts, shared with the receiver). Our own: the client does not load grpc-js.
import { grpcCodeName } from '../../net/grpc-protocol.ts';

/** A unary call that did not end with OK: the status the server sent, or the one the client decided. */
export class GrpcCallError extends Error {
  readonly code: number;
  /** grpc-message, percent-decoded ('' when the server sent none). */
  readonly details: string;
  /** grpc-status-details-bin (a google.rpc.Status), decoded from base64, when the server sent it. */
  readonly statusDetails: Buffer | undefined;
  /** True when the response was refused by this client for its size (the request was delivered). */
  readonly responseTooLarge: boolean;
  /** True when the server reset the stream with ENHANCE_YOUR_CALM: it is shedding load, not refusing the data for good. */
  readonly loadShed: boolean;

  constructor(code: number, details: string, opts: { statusDetails?: Buffer; responseTooLarge?: boolean; loadShed?: boolean; cause?: unknown } = {}) {
    super(`${code} ${grpcCodeName(code)}: ${details}`, { cause: opts.cause });
    this.name = 'GrpcCallError';
    this.code = code;
    this.details = details;
    this.statusDetails = opts.statusDetails;
    this.responseTooLarge = opts.responseTooLarge ?? false;
    this.loadShed = opts.loadShed ?? false;
  }
}
