/**
 * Names as the distribution spec and ACR define them: repository names, tags, registry names,
 * and the `<reference>` of a manifest URL (a tag or a digest).
 */
import { looksLikeDigest, parseDigest } from './digest.ts';
import { RegistryError } from './errors.ts';

/** Limit on the whole repository name; the grammar alone allows any length. */
export const MAX_REPOSITORY_NAME_LENGTH = 255;

/**
 * The spec's `<name>` grammar. Path components are lower-case alphanumerics joined by `.`, `_`,
 * `__` or runs of `-`, so `..`, leading or trailing separators and empty components (and with
 * them every path-traversal form) never match.
 */
const repositoryNamePattern =
  /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;

const tagPattern = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

const registryNamePattern = /^[a-z0-9]{5,50}$/;

export function isValidRepositoryName(name: string): boolean {
  return name.length <= MAX_REPOSITORY_NAME_LENGTH && repositoryNamePattern.test(name);
}

export function assertRepositoryName(name: string): void {
  if (name.length > MAX_REPOSITORY_NAME_LENGTH) {
    throw new RegistryError('NAME_INVALID', `repository name is longer than ${MAX_REPOSITORY_NAME_LENGTH} characters`);
  }
  if (!repositoryNamePattern.test(name)) {
    throw new RegistryError('NAME_INVALID', `invalid repository name "${name}"`);
  }
}

export function isValidTag(tag: string): boolean {
  return tagPattern.test(tag);
}

/** Distribution has no tag code in the OCI set; like it, an invalid tag is a `MANIFEST_INVALID`. */
export function assertTag(tag: string): void {
  if (!tagPattern.test(tag)) {
    throw new RegistryError('MANIFEST_INVALID', `invalid tag "${tag}"`);
  }
}

/** Why `name` cannot be a registry name, or `undefined` when it can. */
export function validRegistryName(name: string): string | undefined {
  if (registryNamePattern.test(name)) return undefined;
  return `invalid registry name "${name}": use 5 to 50 lower-case letters and digits`;
}

export type ManifestReference = { kind: 'tag'; tag: string } | { kind: 'digest'; digest: string };

/**
 * Classifies the `<reference>` of `/v2/<name>/manifests/<reference>` to push to: a digest when it
 * contains `:` (tags cannot), else a tag. Throws `DIGEST_INVALID` or `MANIFEST_INVALID` for a bad one.
 */
export function parseManifestReference(reference: string): ManifestReference {
  if (looksLikeDigest(reference)) return { kind: 'digest', digest: parseDigest(reference).digest };
  assertTag(reference);
  return { kind: 'tag', tag: reference };
}

/**
 * Classifies the `<reference>` of a manifest to fetch, check or delete. A reference that cannot
 * be a tag names no manifest, so it is `MANIFEST_UNKNOWN` (404), as the spec answers for any
 * manifest not found (its conformance suite asks for one such name); a bad digest stays
 * `DIGEST_INVALID`.
 */
export function parseManifestLookup(reference: string): ManifestReference {
  if (looksLikeDigest(reference)) return { kind: 'digest', digest: parseDigest(reference).digest };
  if (!tagPattern.test(reference)) throw new RegistryError('MANIFEST_UNKNOWN', `no manifest can be tagged "${reference}"`);
  return { kind: 'tag', tag: reference };
}
