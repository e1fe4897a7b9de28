/**
 * Node `https`/`tls` server options for Berth, from the operator's files (`--tls-cert`/`--tls-key`)
 * or from the self-signed material of `--tls-self-signed`; and `TlsReloader`, which swaps a running
 * server's certificate when a new registry needs a name added to it.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { SecureContextOptions, SecureVersion, Server as TlsServer } from 'node:tls';
import { ensureSelfSignedTls, type TlsNames } from './self-signed.ts';

/** Older protocol versions are refused during the handshake. */
export const TLS_MIN_VERSION: SecureVersion = 'TLSv1.2';

/** A certificate (optionally followed by its intermediates) and its private key, both PEM. */
export interface TlsMaterial {
  certPem: string;
  keyPem: string;
}

/** Options for `https.createServer`, `tls.createServer`, fastify's `https` and `setSecureContext`. */
export function tlsServerOptions(material: TlsMaterial): SecureContextOptions {
  return { cert: material.certPem, key: material.keyPem, minVersion: TLS_MIN_VERSION };
}

/**
 * Reads `--tls-cert` and `--tls-key`, failing at start-up with a message naming the file when one
 * is unreadable, not PEM, or the key does not belong to the certificate.
 */
export async function readTlsFiles(certPath: string, keyPath: string): Promise<TlsMaterial> {
  const certPem = await readTlsFile(certPath, 'certificate');
  const keyPem = await readTlsFile(keyPath, 'key');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (err) {
    throw new Error(`TLS certificate ${certPath} is not a PEM certificate: ${errorMessage(err)}`);
  }
  let matches: boolean;
  try {
    matches = cert.checkPrivateKey(createPrivateKey(keyPem));
  } catch (err) {
    throw new Error(`TLS key ${keyPath} is not a PEM private key: ${errorMessage(err)}`);
  }
  if (!matches) throw new Error(`TLS key ${keyPath} does not belong to the certificate ${certPath}`);
  return { certPem, keyPem };
}

async function readTlsFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read TLS ${what} ${path}: ${errorMessage(err)}`);
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Keeps a running server's self-signed certificate covering every name it must answer to. Updates
 * run one after another, so a slower, older update never replaces the material of a newer one.
 */
export class TlsReloader {
  readonly #server: TlsServer;
  readonly #dir: string;
  #servedCertPem: string;
  #queue: Promise<unknown> = Promise.resolve();

  /** `served` is the material the server was started with, from `ensureSelfSignedTls(dir, ...)`. */
  constructor(server: TlsServer, dir: string, served: TlsMaterial) {
    this.#server = server;
    this.#dir = dir;
    this.#servedCertPem = served.certPem;
  }

  /**
   * Makes sure the served certificate covers `names` (the full set, as from `selfSignedNames`),
   * reissuing it if needed; new connections get the new certificate, open ones keep theirs.
   * Resolves to whether the served certificate changed.
   */
  update(names: TlsNames): Promise<boolean> {
    const run = this.#queue.then(() => this.#reload(names));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #reload(names: TlsNames): Promise<boolean> {
    const material = await ensureSelfSignedTls(this.#dir, names);
    if (material.certPem === this.#servedCertPem) return false;
    this.#server.setSecureContext(tlsServerOptions(material));
    this.#servedCertPem = material.certPem;
    return true;
  }
}
