/**
 * A mirror's `--source` and `--image`. The source is `<registry-name>/<repo>:<tag>` or
 * `<login-server>/<repo>:<tag>`: a login server of this installation names one of its registries
 * (watched through the events outbox), any other host an external registry (polled). The source
 * names a tag, never a digest: a mirror follows a tag as it moves.
 */
import { parseSourceImage } from '../import/source-reference.ts';
import { RegistryError } from '../oci/errors.ts';
import { assertRepositoryName, assertTag, validRegistryName } from '../oci/names.ts';
import { parseImageReference } from '../oci/reference.ts';
import { MirrorError } from './mirror-error.ts';
import type { MirrorSource } from './mirror-store.ts';

export interface SourceResolution {
  /** The installation registry a login server (`host[:port]`) names, if any. */
  registryOfHost(host: string): Promise<string | undefined>;
  registryExists(registry: string): Promise<boolean>;
}

const invalid = (message: string) => new MirrorError('invalid', message);

export async function parseMirrorSource(text: string, resolution: SourceResolution): Promise<MirrorSource> {
  const value = text.trim();
  let reference;
  try {
    reference = parseImageReference(value);
  } catch (error) {
    if (error instanceof RegistryError) throw invalid(`--source "${text}": ${error.message}; write <registry-name>/<repository>:<tag> or <login-server>/<repository>:<tag>`);
    throw error;
  }
  if (reference.digest !== null) throw invalid(`--source "${text}" names a digest: a mirror follows a tag, write <registry>/<repository>:<tag>`);
  const tag = reference.tag ?? 'latest';
  if (reference.host === null) {
    const slash = reference.repository.indexOf('/');
    if (slash === -1) throw invalid(`--source "${text}" names no registry: write <registry-name>/<repository>:<tag> or <login-server>/<repository>:<tag>`);
    const registry = reference.repository.slice(0, slash);
    const why = validRegistryName(registry);
    if (why !== undefined) throw invalid(`--source "${text}": ${why}`);
    if (!(await resolution.registryExists(registry))) throw invalid(`--source "${text}": the source registry ${registry} does not exist in this installation`);
    return { registry, host: null, repository: reference.repository.slice(slash + 1), tag };
  }
  const registry = await resolution.registryOfHost(reference.host);
  if (registry !== undefined) return { registry, host: null, repository: reference.repository, tag };
  // Docker Hub's aliases and `library/` as an import reads them.
  const external = parseSourceImage(`${reference.host}/${reference.repository}:${tag}`, false);
  return { registry: null, host: external.host!, repository: external.repository, tag };
}

/** `--image <repo>:<tag>` (the tag defaults to `latest`). */
export function parseTargetImage(text: string): { repository: string; tag: string } {
  const value = text.trim();
  if (value.includes('@')) throw invalid(`--image "${text}": write <repository>:<tag>, not a digest`);
  const colon = value.lastIndexOf(':');
  const repository = colon === -1 || colon < value.lastIndexOf('/') ? value : value.slice(0, colon);
  const tag = repository === value ? 'latest' : value.slice(colon + 1);
  try {
    assertRepositoryName(repository);
    assertTag(tag);
  } catch (error) {
    if (error instanceof RegistryError) throw invalid(`--image "${text}": ${error.message}; write <repository>:<tag>`);
    throw error;
  }
  return { repository, tag };
}

/** `staging/<repo>`: where each upstream digest waits for its validation. */
export function stagingRepositoryOf(repository: string): string {
  return `staging/${repository}`;
}

/** The source as a pull reference: `<login server>/<repo>:<tag>`. */
export function sourceImageOf(source: MirrorSource, loginServer: (registry: string) => string): string {
  const host = source.registry !== null ? loginServer(source.registry) : source.host!;
  return `${host}/${source.repository}:${source.tag}`;
}
