/**
 * The locks (ACR's changeable attributes) and quarantine as checks on the manifest paths every
 * writer goes through — pushes, imports, `/v2/` and `/acr/v1/` deletes, purge and retention — each
 * refusal naming the lock that refused.
 *
 * A repository's attributes apply to everything in it. `writeEnabled=false` also forbids deletes,
 * as in ACR. The checks run just before the change, not in its transaction: a lock set while a
 * push is in flight may let that one push through.
 */
import { RegistryError } from '../oci/errors.ts';
import type { ManifestReference } from '../oci/names.ts';
import type { ChangeableAttributes, LockName, ManifestAttributes } from '../meta/attribute-store.ts';
import type { MetaStore, PullableManifest } from '../meta/meta-store.ts';

/** What a pull may do with quarantined content; asked only when the content is quarantined. */
export type QuarantineAccess = () => Promise<boolean>;

const deleteLocks: LockName[] = ['deleteEnabled', 'writeEnabled'];

function locked(subject: string, lock: LockName): RegistryError {
  const what = lock.replace('Enabled', '');
  return new RegistryError('DENIED', `${subject} is ${what}-locked (${lock}=false)`);
}

function firstOff(attributes: ChangeableAttributes, locks: LockName[]): LockName | undefined {
  return locks.find((lock) => !attributes[lock]);
}

/** Whether a manifest is held by quarantine: pushed while the policy was on and not (yet) Passed. */
export function isQuarantined(attributes: Pick<ManifestAttributes, 'quarantineState'>): boolean {
  return attributes.quarantineState === 'Pending' || attributes.quarantineState === 'Failed';
}

export class LockGuard {
  constructor(private readonly meta: MetaStore) {}

  async #repository(registry: string, repository: string, locks: LockName[]): Promise<void> {
    const attributes = await this.meta.attributes.repository(registry, repository);
    const lock = attributes && firstOff(attributes, locks);
    if (lock) throw locked(`repository ${repository}`, lock);
  }

  /** A push of `digest` with `tags`: the repository must be writable, and no write-locked tag may move. */
  async assertWritable(registry: string, repository: string, digest: string, tags: string[]): Promise<void> {
    await this.#repository(registry, repository, ['writeEnabled']);
    for (const tag of tags) {
      const current = await this.meta.attributes.tag(registry, repository, tag);
      if (current && current.digest !== digest && !current.attributes.writeEnabled) throw locked(`tag ${repository}:${tag}`, 'writeEnabled');
    }
  }

  /** A delete of a tag, or of a manifest with every tag on it. */
  async assertDeletable(registry: string, repository: string, reference: ManifestReference): Promise<void> {
    await this.#repository(registry, repository, deleteLocks);
    if (reference.kind === 'tag') {
      const tag = await this.meta.attributes.tag(registry, repository, reference.tag);
      const lock = tag && firstOff(tag.attributes, deleteLocks);
      if (lock) throw locked(`tag ${repository}:${reference.tag}`, lock);
      return;
    }
    const manifest = await this.meta.attributes.manifest(registry, repository, reference.digest);
    if (!manifest) return;
    const lock = firstOff(manifest.attributes, deleteLocks);
    if (lock) throw locked(`manifest ${repository}@${reference.digest}`, lock);
    for (const tag of manifest.tags) {
      const tagLock = firstOff(tag.attributes, deleteLocks);
      if (tagLock) throw locked(`tag ${repository}:${tag.name}`, tagLock);
    }
  }

  /** A delete of the whole repository: nothing in it may be delete- or write-locked. */
  async assertRepositoryDeletable(registry: string, repository: string): Promise<void> {
    await this.#repository(registry, repository, deleteLocks);
    const found = await this.meta.attributes.firstLocked(registry, repository, deleteLocks);
    if (found) throw locked(found.kind === 'tag' ? `tag ${repository}:${found.name}` : `manifest ${repository}@${found.name}`, found.lock);
  }

  /**
   * A pull of a stored manifest, judged from the read that fetched it: read locks (repository,
   * tag, manifest), then quarantine (unless the caller may read quarantined content).
   */
  async assertPullable(repository: string, reference: ManifestReference, pull: PullableManifest, mayReadQuarantined?: QuarantineAccess): Promise<void> {
    const { digest } = pull;
    if (!pull.repositoryReadEnabled) throw locked(`repository ${repository}`, 'readEnabled');
    if (reference.kind === 'tag' && pull.tagReadEnabled === false) throw locked(`tag ${repository}:${reference.tag}`, 'readEnabled');
    if (!pull.readEnabled) throw locked(`manifest ${repository}@${digest}`, 'readEnabled');
    if (isQuarantined(pull) && !(mayReadQuarantined && (await mayReadQuarantined()))) {
      throw new RegistryError(
        'DENIED',
        `manifest ${repository}@${digest} is quarantined (quarantineState=${pull.quarantineState}); only principals with quarantine read access (AcrQuarantineReader) may pull it`,
      );
    }
  }
}
