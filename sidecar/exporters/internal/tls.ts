// Client TLS settings shared by the OTLP exporters (the collector's configtls client fields).
import { readFileSync } from 'node:fs';
import { bool, object, string, withDefault } from '../../config/schema.ts';

const pemPath = () => string({ nonEmpty: true, patternHint: 'a path to a PEM file' });

export const clientTlsConfig = object(
  {
    /** gRPC: plaintext (h2c) instead of TLS (an `http://` endpoint implies it). HTTP: the URL's scheme decides. */
    insecure: withDefault(bool(), false),
    /** TLS without verifying the server's certificate chain and name. For tests only. */
    insecure_skip_verify: withDefault(bool(), false),
    /** PEM CA bundle that signs the server certificate (default: Node's bundled CAs). */
    ca_file: pemPath(),
    /** Client certificate and key (PEM) for mutual TLS. */
    cert_file: pemPath(),
    key_file: pemPath(),
    /** Server name to verify instead of the endpoint's host. */
    server_name_override: string({ nonEmpty: true, patternHint: 'a host name' }),
  },
  {
    check(cfg, path, errors) {
      if ((cfg.cert_file === undefined) !== (cfg.key_file === undefined)) errors.add(path, 'cert_file and key_file go together');
    },
  },
);

export type ClientTlsConfig = typeof clientTlsConfig.defaultValue;

export interface TlsMaterial {
  ca: Buffer | undefined;
  cert: Buffer | undefined;
  key: Buffer | undefined;
}

/** Reads the PEM files at start (a missing file fails start-up, before any data is accepted). */
export function readTlsMaterial(tls: ClientTlsConfig): TlsMaterial {
  const read = (f: string | undefined) => (f === undefined ? undefined : readFileSync(f));
  return { ca: read(tls.ca_file), cert: read(tls.cert_file), key: read(tls.key_file) };
}
