// Request authentication provided by an extension (`auth: { authenticator: <extension id> }`, as
// in the collector's confighttp). The exporter asks the authenticator for the final headers of
// each attempt, after the body is encoded and compressed, because a signature covers the bytes
// actually sent (SigV4's x-amz-content-sha256).
import type { Host } from './component.ts';
import { object, string } from '../config/schema.ts';

export interface HttpRequestToSign {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: Uint8Array;
}

export interface HttpRequestAuthenticator {
  /** Returns the headers to send (the given ones plus the authentication headers). */
  authenticateHttpRequest(req: HttpRequestToSign): Promise<Record<string, string>>;
}

export const authConfig = object({ authenticator: string({ nonEmpty: true }) });

export function isHttpRequestAuthenticator(c: unknown): c is HttpRequestAuthenticator {
  return typeof (c as Partial<HttpRequestAuthenticator> | undefined)?.authenticateHttpRequest === 'function';
}

/** Finds the configured authenticator among the running extensions; throws (start fails) otherwise. */
export function findAuthenticator(host: Host, id: string, exporterId: string): HttpRequestAuthenticator {
  const ext = host.getExtension(id);
  if (ext === undefined) {
    throw new Error(`exporters.${exporterId}.auth.authenticator: extension "${id}" is not running (define it under extensions and list it in service.extensions)`);
  }
  if (!isHttpRequestAuthenticator(ext)) {
    throw new Error(`exporters.${exporterId}.auth.authenticator: extension "${id}" cannot authenticate HTTP requests`);
  }
  return ext;
}
