/**
 * What `/acr/v1/` shows and changes of one repository, tag or manifest: its details with the
 * changeable attributes, lock changes, quarantine decisions, and deletes (through `ManifestService`,
 * so locks are checked and events recorded as for `/v2/` deletes).
 */
import { RegistryError } from '../oci/errors.ts';
import type { ChangeableAttributes, ManifestAttributeChanges } from '../meta/attribute-store.ts';
import type { ChangeOrigin } from '../meta/event-store.ts';
import type { ManifestDetail, MetaStore, RepositoryInfo, TagDetail } from '../meta/meta-store.ts';
import { LockGuard } from './locks.ts';
import type { ManifestService } from './manifests.ts';

export interface RepositoryDetail extends RepositoryInfo {
  changeableAttributes: ChangeableAttributes;
}

/** Bounds the passes of a repository delete: each pass deletes at least the indexes no one references. */
const MAX_DELETE_PASSES = 64;

export class AttributeService {
  readonly #locks: LockGuard;

  constructor(
    private readonly meta: MetaStore,
    private readonly manifests: ManifestService,
  ) {
    this.#locks = new LockGuard(meta);
  }

  async repository(registry: string, repository: string): Promise<RepositoryDetail> {
    const info = await this.meta.getRepositoryInfo(registry, repository);
    const attributes = info && (await this.meta.attributes.repository(registry, repository));
    if (!info || !attributes) throw new RegistryError('NAME_UNKNOWN', `repository ${repository} is not known to registry`);
    return { ...info, changeableAttributes: attributes };
  }

  async updateRepository(registry: string, repository: string, changes: Partial<ChangeableAttributes>): Promise<RepositoryDetail> {
    await this.repository(registry, repository);
    await this.meta.attributes.updateRepository(registry, repository, changes);
    return await this.repository(registry, repository);
  }

  /** Deletes every manifest and tag, refusing (and deleting nothing) if anything in it is locked. */
  async deleteRepository(registry: string, repository: string, origin?: ChangeOrigin): Promise<{ manifestsDeleted: string[]; tagsDeleted: string[] }> {
    await this.repository(registry, repository);
    await this.#locks.assertRepositoryDeletable(registry, repository);
    const { manifests, tags } = await this.meta.attributes.contents(registry, repository);
    const deleted: string[] = [];
    let remaining = manifests;
    // An index's children are refused while it lives, so parents go first, pass by pass.
    for (let pass = 0; remaining.length > 0 && pass < MAX_DELETE_PASSES; pass++) {
      const referenced: string[] = [];
      for (const digest of remaining) {
        const result = await this.meta.deleteManifest(registry, repository, digest, origin ?? null);
        if (result.status === 'deleted') deleted.push(digest);
        else if (result.status === 'referenced') referenced.push(digest);
      }
      if (referenced.length === remaining.length) break;
      remaining = referenced;
    }
    // Reset so that a repository pushed again under this name starts unlocked, as a new one does.
    await this.meta.attributes.updateRepository(registry, repository, { deleteEnabled: true, writeEnabled: true, readEnabled: true, listEnabled: true });
    return { manifestsDeleted: deleted.sort(), tagsDeleted: tags };
  }

  async tag(registry: string, repository: string, tag: string): Promise<TagDetail> {
    const [detail] = await this.meta.listTagDetails(registry, repository, { name: tag, includeHidden: true, n: 1 });
    if (!detail) throw new RegistryError('MANIFEST_UNKNOWN', `tag ${tag} is not known to repository ${repository}`, { status: 404 });
    return detail;
  }

  async updateTag(registry: string, repository: string, tag: string, changes: Partial<ChangeableAttributes>): Promise<TagDetail> {
    await this.tag(registry, repository, tag);
    await this.meta.attributes.updateTag(registry, repository, tag, changes);
    return await this.tag(registry, repository, tag);
  }

  async deleteTag(registry: string, repository: string, tag: string, origin?: ChangeOrigin): Promise<void> {
    await this.manifests.delete(registry, repository, { kind: 'tag', tag }, origin);
  }

  async manifest(registry: string, repository: string, digest: string): Promise<ManifestDetail> {
    const [detail] = await this.meta.listManifestDetails(registry, repository, { digest, includeHidden: true, n: 1 });
    if (!detail) throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${digest} is not known to repository ${repository}`);
    return detail;
  }

  /** Lock changes and quarantine decisions; a release to `Passed` records the held-back push event. */
  async updateManifest(registry: string, repository: string, digest: string, changes: ManifestAttributeChanges, origin?: ChangeOrigin): Promise<ManifestDetail> {
    await this.manifest(registry, repository, digest);
    await this.meta.attributes.updateManifest(registry, repository, digest, changes, origin ?? null);
    return await this.manifest(registry, repository, digest);
  }
}
