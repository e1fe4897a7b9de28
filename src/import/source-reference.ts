/**
 * What an import names: the source image (`host/repo:tag`, `host/repo@digest`, or `repo:tag` with
 * a source registry of this installation) and the targets (`repo:tag`s and untagged repositories).
 * Also how a source host is reached: plain http for loopback hosts, as registry clients do, and
 * https for every other host unless the operator lists it as insecure. Pure, no I/O.
 */
import { RegistryError } from '../oci/errors.ts';
import { assertRepositoryName, assertTag } from '../oci/names.ts';
import { parseImageReference } from '../oci/reference.ts';

export interface SourceImage {
  /** `host[:port]` as written (Docker Hub aliases resolved); null for a registry of this installation. */
  host: string | null;
  repository: string;
  tag: string | null;
  digest: string | null;
}

export interface ImportTarget {
  repository: string;
  /** Empty for an untagged import into the repository. */
  tags: string[];
}

const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);
const DOCKER_HUB_API = 'registry-1.docker.io';

/**
 * Parses `--source`. With a source registry of this installation (`inInstallation`), the source
 * is `repo:tag` or `repo@digest` and names no host; otherwise it must name one.
 * Throws `NAME_INVALID`, `MANIFEST_INVALID` or `DIGEST_INVALID` with the reason.
 */
export function parseSourceImage(value: string, inInstallation: boolean): SourceImage {
  const parsed = parseImageReference(value.trim());
  if (inInstallation) {
    if (parsed.host !== null) throw new RegistryError('NAME_INVALID', `with a source registry, give the source as repository:tag or repository@digest, not "${value}"`);
  } else if (parsed.host === null) {
    throw new RegistryError('NAME_INVALID', `the source "${value}" names no registry: write host/repository:tag (e.g. docker.io/library/hello-world:latest) or name a source registry of this installation`);
  }
  let { host, repository } = parsed;
  if (host !== null && DOCKER_HUB_ALIASES.has(host.toLowerCase())) {
    host = DOCKER_HUB_API;
    if (!repository.includes('/')) repository = `library/${repository}`;
  }
  const tag = parsed.tag ?? (parsed.digest === null ? 'latest' : null);
  return { host, repository, tag, digest: parsed.digest };
}

/** What to ask the source's manifest endpoint for: the digest when pinned, else the tag. */
export function sourceManifestReference(source: SourceImage): string {
  return source.digest ?? source.tag ?? 'latest';
}

export function formatSourceImage(source: SourceImage): string {
  const host = source.host === null ? '' : `${source.host}/`;
  return `${host}${source.repository}${source.tag === null ? '' : `:${source.tag}`}${source.digest === null ? '' : `@${source.digest}`}`;
}

/**
 * The targets: `repo:tag` images (several may share a repository) and untagged repositories.
 * Without either, the source's own repository and tag (or, for a digest-only source, its
 * repository untagged), as `az acr import` does.
 */
export function resolveTargets(images: readonly string[], untaggedRepositories: readonly string[], source: SourceImage): ImportTarget[] {
  const byRepository = new Map<string, string[]>();
  const add = (repository: string, tag: string | null) => {
    assertRepositoryName(repository);
    const tags = byRepository.get(repository) ?? [];
    if (tag !== null && !tags.includes(tag)) {
      assertTag(tag);
      tags.push(tag);
    }
    byRepository.set(repository, tags);
  };
  for (const image of images) {
    const colon = image.lastIndexOf(':');
    const slash = image.lastIndexOf('/');
    if (image.includes('@')) throw new RegistryError('NAME_INVALID', `the target image "${image}" must be repository:tag; use an untagged repository to import by digest only`);
    if (colon === -1 || colon < slash) add(image, 'latest');
    else add(image.slice(0, colon), image.slice(colon + 1));
  }
  for (const repository of untaggedRepositories) add(repository, null);
  if (byRepository.size === 0) add(source.repository, source.tag);
  return [...byRepository].map(([repository, tags]) => ({ repository, tags }));
}

/** Loopback names and addresses: `localhost`, `*.localhost`, 127.0.0.0/8 and ::1. */
export function isLoopbackHost(host: string): boolean {
  const name = hostnameOf(host).toLowerCase();
  return name === 'localhost' || name.endsWith('.localhost') || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name) || name === '::1';
}

/**
 * The base URL of a source registry: `http://` for loopback hosts and hosts the operator lists as
 * insecure (by `host` or `host:port`), `https://` otherwise.
 */
export function sourceBaseUrl(host: string, insecureRegistries: readonly string[] = []): URL {
  const lowered = host.toLowerCase();
  const insecure = isLoopbackHost(host) || insecureRegistries.some((entry) => {
    const wanted = entry.toLowerCase();
    return wanted === lowered || wanted === hostnameOf(lowered);
  });
  return new URL(`${insecure ? 'http' : 'https'}://${host}`);
}

/** `host:port` → `host`; `[::1]:5000` → `::1`. */
export function hostnameOf(host: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(host);
  if (bracketed) return bracketed[1]!;
  return host.replace(/:\d+$/, '');
}
