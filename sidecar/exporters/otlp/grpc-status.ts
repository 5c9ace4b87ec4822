// gRPC status codes (github.com/grpc/grpc/blob/master/doc/statuscodes.md) and the error a unary
// call fails with. Our own constants: the exporter's client does not load grpc-js.

export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

const NAMES: readonly string[] = Object.keys(GrpcCode);

/** `UNAVAILABLE` for 14; the number itself for a code outside the table. */
export function grpcCodeName(code: number): string {
  return NAMES[code] ?? String(code);
}

/** A unary call that did not end with OK: the status the server sent, or the one the client decided. */
export class GrpcCallError extends Error {
  readonly code: number;
  /** grpc-message, percent-decoded ('' when the server sent none). */
  readonly details: string;
  /** grpc-status-details-bin (a google.rpc.Status), decoded from base64, when the server sent it. */
  readonly statusDetails: Buffer | undefined;
  /** True when the response was refused by this client for its size (the request was delivered). */
  readonly responseTooLarge: boolean;

  constructor(code: number, details: string, opts: { statusDetails?: Buffer; responseTooLarge?: boolean; cause?: unknown } = {}) {
    super(`${code} ${grpcCodeName(code)}: ${details}`, { cause: opts.cause });
    this.name = 'GrpcCallError';
    this.code = code;
    this.details = details;
    this.statusDetails = opts.statusDetails;
    this.responseTooLarge = opts.responseTooLarge ?? false;
  }
}
