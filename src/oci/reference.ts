/**
 * Image references as docker and skopeo write them: `[host[:port]/]repository[:tag][@digest]`.
 * No defaults are filled in: no `docker.io`, no `library/`, no `latest`.
 */
import { parseDigest } from './digest.ts';
import { RegistryError } from './errors.ts';
import { assertRepositoryName, assertTag } from './names.ts';

export interface ImageReference {
  /** `host` or `host:port`; null when the reference names no host. */
  host: string | null;
  repository: string;
  tag: string | null;
  digest: string | null;
}

const hostPattern =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;

/** Docker's rule: the first path component is a host only if it could not be a repository component. */
function isHostComponent(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost' || component.startsWith('[');
}

/** Throws `NAME_INVALID`, `MANIFEST_INVALID` (tag) or `DIGEST_INVALID`, the message quoting the whole reference. */
export function parseImageReference(value: string): ImageReference {
  try {
    return splitReference(value);
  } catch (error) {
    if (!(error instanceof RegistryError)) throw error;
    throw new RegistryError(error.code, `invalid image reference "${value}": ${error.message}`);
  }
}

function splitReference(value: string): ImageReference {
  const at = value.indexOf('@');
  const digest = at === -1 ? null : parseDigest(value.slice(at + 1)).digest;
  const namePart = at === -1 ? value : value.slice(0, at);

  let host: string | null = null;
  let path = namePart;
  const slash = namePart.indexOf('/');
  if (slash !== -1 && isHostComponent(namePart.slice(0, slash))) {
    host = namePart.slice(0, slash);
    path = namePart.slice(slash + 1);
    if (!hostPattern.test(host)) throw new RegistryError('NAME_INVALID', `invalid host "${host}"`);
  }

  const colon = path.lastIndexOf(':');
  const repository = colon === -1 ? path : path.slice(0, colon);
  const tag = colon === -1 ? null : path.slice(colon + 1);
  assertRepositoryName(repository);
  if (tag !== null) assertTag(tag);
  return { host, repository, tag, digest };
}

export function formatImageReference(reference: ImageReference): string {
  const host = reference.host === null ? '' : `${reference.host}/`;
  const tag = reference.tag === null ? '' : `:${reference.tag}`;
  const digest = reference.digest === null ? '' : `@${reference.digest}`;
  return `${host}${reference.repository}${tag}${digest}`;
}

/** What to ask a registry's manifest endpoint for: the digest when pinned, else the tag, else `latest`. */
export function manifestReferenceOf(reference: ImageReference): string {
  return reference.digest ?? reference.tag ?? 'latest';
}
