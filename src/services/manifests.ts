/**
 * Manifests, tags, the catalog and referrers: validation on push, content negotiation on pull,
 * and the bookkeeping that keeps a manifest, its references and its tags in one transaction.
 */
import { digestOf, parseDigest } from '../oci/digest.ts';
import { RegistryError } from '../oci/errors.ts';
import { parseManifest, selectPlatform, MAX_MANIFEST_BYTES } from '../oci/manifest.ts';
import { assertTag, type ManifestReference } from '../oci/names.ts';
import { DOCKER_CONTAINER_CONFIG, OCI_IMAGE_CONFIG } from '../oci/media-types.ts';
import type { ChangeOrigin } from '../meta/event-store.ts';
import { MissingReferencesError, type ManifestRecord, type MetaStore, type Page, type PullableManifest, type ReferrerRecord } from '../meta/meta-store.ts';
import type { StorageQuota } from './quota.ts';
import { AcceptDecisions } from './accept-decisions.ts';
import type { BlobService } from './blobs.ts';
import { LockGuard, type QuarantineAccess } from './locks.ts';
import { ManifestContentCache } from './manifest-content-cache.ts';

/** What a pull is answered with. */
export type ServedManifest = Pick<ManifestRecord, 'digest' | 'mediaType' | 'size' | 'content'>;

export interface StoredManifest {
  digest: string;
  mediaType: string;
  subject: string | null;
}


const hostPlatform = {
  os: 'linux',
  architecture: process.arch === 'x64' ? 'amd64' : process.arch,
};

/** Bytes of pulled manifests kept in memory (see `ManifestContentCache`). */
const CONTENT_CACHE_BYTES = 4 * 1024 * 1024;

/** Image configs larger than this are not read for their platform (real ones are a few KiB). */
const MAX_CONFIG_BYTES = 1024 * 1024;

export class ManifestService {
  readonly #locks: LockGuard;
  readonly #contents = new ManifestContentCache(CONTENT_CACHE_BYTES);
  readonly #accept = new AcceptDecisions();

  constructor(
    private readonly meta: MetaStore,
    private readonly blobs: BlobService,
    /** Refuses manifests whose new content would take their registry over its storage quota. */
    private readonly quota?: Pick<StorageQuota, 'admitManifest'>,
  ) {
    this.#locks = new LockGuard(meta);
  }

  async put(
    registry: string,
    repository: string,
    reference: ManifestReference,
    body: Buffer,
    contentType: string | undefined,
    extraTags: string[] = [],
    /** The request pushing it, for the push event. */
    origin?: ChangeOrigin,
  ): Promise<StoredManifest> {
    if (body.length > MAX_MANIFEST_BYTES) {
      throw new RegistryError('SIZE_INVALID', `manifest exceeds ${MAX_MANIFEST_BYTES} bytes`, { status: 413 });
    }
    const parsed = parseManifest(body, contentType);
    let digest: string;
    if (reference.kind === 'digest') {
      const algorithm = parseDigest(reference.digest).algorithm;
      digest = digestOf(body, algorithm);
      if (digest !== reference.digest) {
        throw new RegistryError('DIGEST_INVALID', `manifest digest ${digest} does not match ${reference.digest}`);
      }
    } else {
      digest = digestOf(body);
    }
    for (const tag of extraTags) assertTag(tag);
    const tags = reference.kind === 'tag' ? [reference.tag, ...extraTags] : extraTags;
    await this.#locks.assertWritable(registry, repository, digest, tags);
    const quarantined = (await this.meta.attributes.quarantineEnabled(registry)) === true;
    await this.quota?.admitManifest(
      registry,
      { digest, size: body.length },
      parsed.blobs.map((blob) => ({ digest: blob.digest, size: blob.size })),
    );
    const platform = parsed.config ? await this.platformOf(parsed.config) : undefined;
    try {
      await this.meta.putManifest({
        registry,
        repository,
        digest,
        mediaType: parsed.mediaType,
        artifactType: parsed.artifactType,
        subject: parsed.subject?.digest ?? null,
        annotations: parsed.annotations,
        content: body,
        blobs: parsed.blobs.map((blob) => blob.digest),
        manifests: parsed.manifests.map((child) => child.digest),
        tags,
        configMediaType: parsed.config?.mediaType ?? null,
        architecture: platform?.architecture ?? null,
        os: platform?.os ?? null,
        imageSize: body.length + parsed.contentSize,
        origin: origin ?? null,
        quarantined,
      });
    } catch (error) {
      if (error instanceof MissingReferencesError) {
        throw new RegistryError('MANIFEST_BLOB_UNKNOWN', `manifest references content unknown to this repository: ${[...error.blobs, ...error.manifests].join(', ')}`, {
          detail: { blobs: error.blobs, manifests: error.manifests },
        });
      }
      throw error;
    }
    return { digest, mediaType: parsed.mediaType, subject: parsed.subject?.digest ?? null };
  }

  /** The platform an image config declares, for listings; undefined for artifacts or unreadable configs. */
  private async platformOf(config: { mediaType: string; digest: string; size: number }): Promise<{ architecture: string | null; os: string | null } | undefined> {
    if (config.mediaType !== OCI_IMAGE_CONFIG && config.mediaType !== DOCKER_CONTAINER_CONFIG) return undefined;
    if (config.size > MAX_CONFIG_BYTES) return undefined;
    const content = await this.readConfig(config.digest);
    if (!content) return undefined;
    try {
      const document = JSON.parse(content.toString('utf8')) as { architecture?: unknown; os?: unknown };
      return {
        architecture: typeof document.architecture === 'string' ? document.architecture : null,
        os: typeof document.os === 'string' ? document.os : null,
      };
    } catch {
      return undefined;
    }
  }

  /** An image config's bytes; undefined if absent or too large. */
  private async readConfig(digest: string): Promise<Buffer | undefined> {
    const reader = await this.blobs.openByDigest(digest);
    if (!reader) return undefined;
    try {
      if (reader.size > MAX_CONFIG_BYTES) return undefined;
      const content = Buffer.allocUnsafe(reader.size);
      return content.subarray(0, await reader.readInto(content, 0));
    } finally {
      await reader.close();
    }
  }

  /**
   * The manifest a pull asks for. By tag, a client that does not accept the stored index type is
   * served the host platform's entry instead (as Distribution does for old clients); a client
   * that accepts neither gets `MANIFEST_UNKNOWN`. By digest, the exact content is served.
   */
  async get(
    registry: string,
    repository: string,
    reference: ManifestReference,
    accept: string | string[] | undefined,
    /** Whether the caller may pull quarantined manifests; without it, no one may. */
    mayReadQuarantined?: QuarantineAccess,
  ): Promise<ServedManifest> {
    const pull = await this.meta.getPullableManifest(registry, repository, reference);
    if (!pull) throw manifestUnknown(reference);
    await this.#locks.assertPullable(repository, reference, pull, mayReadQuarantined);
    if (reference.kind === 'digest' || this.#accept.accepts(accept, pull.mediaType)) return await this.#withContent(registry, repository, reference, pull);
    const parsed = parseManifest((await this.#withContent(registry, repository, reference, pull)).content, pull.mediaType);
    const child = parsed.kind === 'index' ? selectPlatform(parsed.manifests, hostPlatform) : undefined;
    if (child && this.#accept.accepts(accept, child.mediaType)) {
      const childReference = { kind: 'digest', digest: child.digest } as const;
      const childPull = await this.meta.getPullableManifest(registry, repository, childReference);
      if (childPull) {
        await this.#locks.assertPullable(repository, childReference, childPull, mayReadQuarantined);
        return await this.#withContent(registry, repository, childReference, childPull);
      }
    }
    throw new RegistryError('MANIFEST_UNKNOWN', `manifest is ${pull.mediaType}, which the Accept header does not allow`);
  }

  /** The bytes of a manifest the pull may have, from the cache or else the metadata store. */
  async #withContent(registry: string, repository: string, reference: ManifestReference, pull: PullableManifest): Promise<ServedManifest> {
    const { digest, mediaType, size } = pull;
    let content = this.#contents.get(digest);
    if (content === undefined) {
      // Deleted since it was read: as unknown as if the delete had come first.
      content = (await this.meta.getManifestByDigest(registry, repository, digest))?.content;
      if (content === undefined) throw manifestUnknown(reference);
      this.#contents.set(digest, content);
    }
    return { digest, mediaType, size, content };
  }

  /** Refused with `DENIED` naming the lock when the tag, the manifest, one of its tags or the repository is delete- or write-locked. */
  async delete(registry: string, repository: string, reference: ManifestReference, origin?: ChangeOrigin): Promise<void> {
    await this.#locks.assertDeletable(registry, repository, reference);
    if (reference.kind === 'tag') {
      if (!(await this.meta.deleteTag(registry, repository, reference.tag, origin ?? null))) throw manifestUnknown(reference);
      return;
    }
    const result = await this.meta.deleteManifest(registry, repository, reference.digest, origin ?? null);
    if (result.status === 'not-found') throw manifestUnknown(reference);
    if (result.status === 'referenced') {
      throw new RegistryError('DENIED', `manifest ${reference.digest} is referenced by ${result.by}; delete that first`, { status: 409 });
    }
  }

  async tags(registry: string, repository: string, page: Page): Promise<string[]> {
    const tags = await this.meta.listTags(registry, repository, page);
    if (tags.length === 0 && !(await this.meta.repositoryExists(registry, repository))) {
      throw new RegistryError('NAME_UNKNOWN', `repository ${repository} is not known to this registry`);
    }
    return tags;
  }

  async catalog(registry: string, page: Page): Promise<string[]> {
    return this.meta.listRepositories(registry, page);
  }

  async referrers(registry: string, repository: string, subject: string, artifactType?: string): Promise<ReferrerRecord[]> {
    parseDigest(subject);
    return this.meta.listReferrers(registry, repository, subject, artifactType);
  }
}

function manifestUnknown(reference: ManifestReference): RegistryError {
  const name = reference.kind === 'tag' ? `tag ${reference.tag}` : `manifest ${reference.digest}`;
  return new RegistryError('MANIFEST_UNKNOWN', `${name} is not known to this repository`);
}
