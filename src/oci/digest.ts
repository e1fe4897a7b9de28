/**
 * Content digests (`algorithm:encoded`) as the OCI image spec defines them.
 * Only sha256 and sha512 are accepted; anything else is `DIGEST_INVALID`.
 */
import { createHash, type Hash } from 'node:crypto';
import { RegistryError } from './errors.ts';

export type DigestAlgorithm = 'sha256' | 'sha512';

const encodedPattern: Record<DigestAlgorithm, RegExp> = {
  sha256: /^[a-f0-9]{64}$/,
  sha512: /^[a-f0-9]{128}$/,
};

/** The general grammar of the image spec: algorithm-component(s) ":" encoded. */
const digestGrammar = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  encoded: string;
  digest: string;
}

export function isDigestAlgorithm(value: string): value is DigestAlgorithm {
  return value === 'sha256' || value === 'sha512';
}

/** Parses a digest, throwing `DIGEST_INVALID` for a malformed one or an algorithm other than sha256 and sha512. */
export function parseDigest(value: string): ParsedDigest {
  if (!digestGrammar.test(value)) {
    throw new RegistryError('DIGEST_INVALID', `invalid digest "${value}"`);
  }
  const colon = value.indexOf(':');
  const algorithm = value.slice(0, colon);
  const encoded = value.slice(colon + 1);
  if (!isDigestAlgorithm(algorithm)) {
    throw new RegistryError('DIGEST_INVALID', `unsupported digest algorithm "${algorithm}"`);
  }
  if (!encodedPattern[algorithm].test(encoded)) {
    throw new RegistryError('DIGEST_INVALID', `invalid ${algorithm} digest "${value}"`);
  }
  return { algorithm, encoded, digest: value };
}

/** True when `value` looks like a digest (contains ':'), as opposed to a tag. */
export function looksLikeDigest(value: string): boolean {
  return value.includes(':');
}

export function createDigester(algorithm: DigestAlgorithm = 'sha256'): Hash {
  return createHash(algorithm);
}

export function digestOf(data: Uint8Array | string, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

export function finishDigest(hash: Hash, algorithm: DigestAlgorithm): string {
  return `${algorithm}:${hash.digest('hex')}`;
}
