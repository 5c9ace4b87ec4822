// Serving key pair, reloaded without a restart when cert-manager (or anyone) rewrites the
// files. The files are polled and compared by content rather than watched: a Secret volume
// update swaps a `..data` symlink, which a watch on the file itself misses, and a poll also
// survives editors that replace files. A new pair is installed with `setSecureContext` only
// once both files parse and the key matches the certificate; a half-written pair (the
// certificate rotated, the key not yet) keeps the old one until the next poll.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions, type Server } from 'node:tls';
import type { Logger } from './logger.ts';
import type { InjectorMetrics } from './metrics.ts';

export interface KeyPairFiles {
  certFile: string;
  keyFile: string;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
}

export interface KeyPair {
  cert: Buffer;
  key: Buffer;
  notAfter: Date;
}

/** Reads and checks a key pair; throws with a message naming the file on any problem. */
export function readKeyPair(files: KeyPairFiles): KeyPair {
  let cert: Buffer;
  let key: Buffer;
  try {
    cert = readFileSync(files.certFile);
  } catch (err) {
    throw new Error(`tls.cert_file ${files.certFile}: ${(err as Error).message}`, { cause: err });
  }
  try {
    key = readFileSync(files.keyFile);
  } catch (err) {
    throw new Error(`tls.key_file ${files.keyFile}: ${(err as Error).message}`, { cause: err });
  }
  let notAfter: Date;
  try {
    notAfter = new Date(new X509Certificate(cert).validTo);
  } catch (err) {
    throw new Error(`tls.cert_file ${files.certFile}: not a PEM certificate (${(err as Error).message})`, { cause: err });
  }
  try {
    // Throws on an unreadable key or a key that does not match the certificate.
    createSecureContext({ cert, key });
  } catch (err) {
    throw new Error(`tls: ${files.certFile} and ${files.keyFile} do not form a key pair (${(err as Error).message})`, { cause: err });
  }
  return { cert, key, notAfter };
}

export function secureContextOptions(pair: KeyPair, files: KeyPairFiles): SecureContextOptions {
  return { cert: pair.cert, key: pair.key, minVersion: files.minVersion };
}

export class KeyPairReloader {
  private readonly files: KeyPairFiles;
  private readonly logger: Logger;
  private readonly metrics: InjectorMetrics;
  private current: KeyPair;
  private server: Server | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failing = false;

  /** Reads the pair now: a missing or broken pair at start-up is fatal (fail fast). */
  constructor(files: KeyPairFiles, logger: Logger, metrics: InjectorMetrics) {
    this.files = files;
    this.logger = logger;
    this.metrics = metrics;
    this.current = readKeyPair(files);
    this.metrics.certNotAfter.set(Math.floor(this.current.notAfter.getTime() / 1000));
  }

  get pair(): KeyPair {
    return this.current;
  }

  start(server: Server, intervalMs: number): void {
    this.server = server;
    this.timer = setInterval(() => this.check(), intervalMs);
    this.timer.unref();
  }

  /** Compares the files with the installed pair and installs a changed, valid pair. */
  check(): boolean {
    let next: KeyPair;
    try {
      next = readKeyPair(this.files);
    } catch (err) {
      // Warn once per episode: a rotation in progress fails one poll, a broken Secret fails all.
      if (!this.failing) {
        this.failing = true;
        this.metrics.tlsReloads.add(1, { result: 'error' });
        this.metrics.errors.add(1, { kind: 'tls_reload' });
        this.logger.warn({ err: (err as Error).message }, 'TLS key pair unreadable; keeping the current one');
      }
      return false;
    }
    this.failing = false;
    if (next.cert.equals(this.current.cert) && next.key.equals(this.current.key)) return false;
    this.server?.setSecureContext(secureContextOptions(next, this.files));
    this.current = next;
    this.metrics.tlsReloads.add(1, { result: 'ok' });
    this.metrics.certNotAfter.set(Math.floor(next.notAfter.getTime() / 1000));
    this.logger.info({ notAfter: next.notAfter.toISOString() }, 'TLS key pair reloaded');
    return true;
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
