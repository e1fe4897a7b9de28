/**
 * The source of truth for everything that is not blob bytes. Every method is asynchronous so the
 * same call sites work on SQLite (embedded default) and PostgreSQL (several nodes).
 *
 * Repositories are addressed by (registry name, repository name). A repository row comes into
 * being on its first write (upload, mount, manifest) and is visible in the catalog only while it
 * holds at least one manifest. In a registry that does not exist, reads find nothing and writes
 * (`linkBlob`, `putManifest`) throw `RegistryNotFoundError`.
 */

import type { AttributeStore, ChangeableAttributes, ManifestAttributes } from './attribute-store.ts';
import type { CollectionStore } from './collection-store.ts';
import type { ChangeOrigin, EventStore } from './event-store.ts';
import type { IdentityStore } from './identity-store.ts';
import type { MirrorStore } from '../mirrors/mirror-store.ts';
import type { UsageStore } from './usage-store.ts';
import type { RetentionStore } from './retention-store.ts';
import type { TaskStore } from './task-store.ts';
import type { TriggerStore } from './trigger-store.ts';
import type { WebhookStore } from './webhook-store.ts';

export type Sku = 'Basic' | 'Standard' | 'Premium';

export const skus: readonly Sku[] = ['Basic', 'Standard', 'Premium'];

/** What a SKU includes, as ACR's tiers: storage quota and number of webhooks. */
export const skuLimits: Record<Sku, { quotaBytes: number; webhookLimit: number }> = {
  Basic: { quotaBytes: 10 * 1024 ** 3, webhookLimit: 2 },
  Standard: { quotaBytes: 100 * 1024 ** 3, webhookLimit: 10 },
  Premium: { quotaBytes: 500 * 1024 ** 3, webhookLimit: 500 },
};

/** A registry's settings; a change of `sku` sets the quota and webhook limit of that SKU. */
export interface RegistrySettings {
  sku: Sku;
  adminUserEnabled: boolean;
  anonymousPullEnabled: boolean;
  resourceGroup: string | null;
  location: string | null;
}

export interface RegistryRecord extends RegistrySettings {
  name: string;
  /** ISO-8601 UTC. */
  createdAt: string;
  quotaBytes: number;
  webhookLimit: number;
}

export interface ManifestRecord {
  digest: string;
  mediaType: string;
  /** The manifest's `artifactType`, or for an image manifest without one, its config media type. */
  artifactType: string | null;
  /** Digest of the manifest's `subject`, if any. */
  subject: string | null;
  size: number;
  /** The exact bytes the client pushed. */
  content: Buffer;
  createdAt: string;
}

/**
 * What a pull needs of a manifest, read together with what decides whether it may have it: the
 * read locks of its repository, of the tag it was addressed by, and its own, and its quarantine
 * state. The content is not included: it never changes for a digest (see `getManifestByDigest`).
 */
export interface PullableManifest extends Pick<ManifestRecord, 'digest' | 'mediaType' | 'size'>, Pick<ManifestAttributes, 'readEnabled' | 'quarantineState'> {
  repositoryReadEnabled: boolean;
  /** Null when the manifest was addressed by digest. */
  tagReadEnabled: boolean | null;
}

/** A blob linked into a repository. */
export interface RepositoryBlobRecord {
  size: number;
  linkedAt: string;
  /** The blob's bytes when they are kept in its row; undefined when they are in the blob store. */
  content: Buffer | undefined;
}

/**
 * An upload session that ended (finished or cancelled), remembered until `until`: up to then its
 * id would still open a session without stored bytes (see services/uploads.ts).
 */
export interface EndedUpload {
  id: string;
  until: Date;
}

/** A manifest as a descriptor in a referrers response. */
export interface ReferrerRecord {
  digest: string;
  mediaType: string;
  artifactType: string | null;
  size: number;
  annotations: Record<string, string> | null;
}

export interface NewManifest {
  registry: string;
  repository: string;
  digest: string;
  mediaType: string;
  artifactType: string | null;
  subject: string | null;
  annotations: Record<string, string> | null;
  content: Buffer;
  /** Digests of blobs the manifest references (config, layers); each must be linked in the repository. */
  blobs: string[];
  /** Digests of child manifests (an index's entries); each must exist in the repository. */
  manifests: string[];
  /** Tags to point at this manifest (moved if they point elsewhere). */
  tags: string[];
  /** For the ACR listings: the image config's media type, platform, and the size of manifest + config + layers. */
  configMediaType?: string | null;
  architecture?: string | null;
  os?: string | null;
  imageSize?: number | null;
  /** The request that pushed it, for the push event the put records. */
  origin?: ChangeOrigin | null;
  /** Pushed while the quarantine policy is on: a new manifest starts `Pending`, and the event is `quarantine`. */
  quarantined?: boolean;
}

export interface Page {
  /** Maximum number of entries; undefined = all. */
  n?: number;
  /** Return only entries lexically after this one. */
  last?: string;
}

/** A repository as ACR's `GET /acr/v1/<repo>` shows it. */
export interface RepositoryInfo {
  createdTime: string;
  /** The latest manifest put or tag change. */
  lastUpdateTime: string;
  manifestCount: number;
  tagCount: number;
}

/** Time order of the ACR listings, by last update; the default is name (tags) or digest (manifests) order. */
export type ListingOrder = 'timedesc' | 'timeasc';

export interface ListingPage extends Page {
  orderby?: ListingOrder;
}

export interface TagDetail {
  name: string;
  digest: string;
  createdTime: string;
  lastUpdateTime: string;
  changeableAttributes: ChangeableAttributes;
}

export interface ManifestDetail {
  digest: string;
  mediaType: string;
  configMediaType: string | null;
  architecture: string | null;
  os: string | null;
  /** Manifest + config + layers; the manifest's own size when it was not recorded at push. */
  imageSize: number;
  createdTime: string;
  lastUpdateTime: string;
  /** In byte order. */
  tags: string[];
  changeableAttributes: ManifestAttributes;
}

export type DeleteManifestResult =
  | { status: 'deleted' }
  | { status: 'not-found' }
  /** Refused: another manifest in the repository (an index) still references it. */
  | { status: 'referenced'; by: string };

export interface MetaStore extends IdentityStore {
  close(): Promise<void>;

  /** The outbox of changes: `putManifest`, `deleteManifest` and `deleteTag` record theirs in it. */
  readonly events: EventStore;
  readonly webhooks: WebhookStore;
  /** Garbage collection's queries (services/gc.ts). */
  readonly collection: CollectionStore;
  /** Storage and counts per registry, and the storage quota. */
  readonly usage: UsageStore;
  /** Locks, quarantine states and the quarantine policy. */
  readonly attributes: AttributeStore;
  /** The retention policy for untagged manifests and the manifests it makes due. */
  readonly retention: RetentionStore;
  /** Tasks, their queued and finished runs, run logs, and the secret store's sealed values. */
  readonly tasks: TaskStore;
  /** What task triggers remember so each commit, base-image move and timer fires a task once. */
  readonly triggers: TriggerStore;
  /** Mirrors (`berth mirror`) and the history of the upstream digests each handled. */
  readonly mirrors: MirrorStore;

  /** Settings default to Standard, admin user and anonymous pull disabled, no group or location. */
  createRegistry(name: string, settings?: Partial<RegistrySettings>): Promise<RegistryRecord>;
  getRegistry(name: string): Promise<RegistryRecord | undefined>;
  listRegistries(): Promise<RegistryRecord[]>;
  /** Changes the given settings; undefined if there is no such registry. */
  updateRegistry(name: string, changes: Partial<RegistrySettings>): Promise<RegistryRecord | undefined>;
  /**
   * Removes the registry and everything in it (repositories, manifests, tags, links)
   * and of it (scope maps, tokens, role assignments at its scopes, refresh tokens for it, tasks,
   * runs and their logs).
   */
  deleteRegistry(name: string): Promise<boolean>;

  /**
   * The blob's size, when its link was last made or confirmed, and its bytes if the blob is kept
   * in its row (see `linkBlob`), if it is linked into the repository.
   */
  getRepositoryBlob(registry: string, repository: string, digest: string): Promise<RepositoryBlobRecord | undefined>;
  /** The bytes of a blob kept in its row; undefined for any other blob, known or not. */
  getBlobContent(digest: string): Promise<Buffer | undefined>;
  /** The blob's size if it is linked into any repository of the registry. */
  findRegistryBlob(registry: string, digest: string): Promise<{ size: number } | undefined>;
  /**
   * Records the blob (once per installation) and links it into the repository, creating the
   * repository; the blob and the link count as linked now (see `linked_at` in schema.ts). With
   * `content`, the blob's bytes are kept in its row, written in the same transaction (a row that
   * already has bytes keeps them). With `ended`, the upload session that delivered the blob is
   * recorded as ended in that transaction too.
   */
  linkBlob(registry: string, repository: string, digest: string, size: number, content?: Uint8Array, ended?: EndedUpload): Promise<void>;
  /** Records an upload session as ended (recording it again changes nothing). */
  endUpload(ended: EndedUpload): Promise<void>;
  /** Whether the upload session was recorded as ended and is still remembered. */
  isUploadEnded(id: string): Promise<boolean>;
  /** Forgets ended upload sessions remembered until before `now`; returns how many. */
  forgetEndedUploads(now: Date): Promise<number>;
  /**
   * Links a blob already linked into `from` (or, without it, into any repository of the registry)
   * into `repository`, in one transaction with that check; undefined (and nothing linked) if it
   * is linked there no longer. With `requireContent` (its bytes are not in the blob store), the
   * blob's row must hold its bytes too.
   */
  mountBlob(registry: string, repository: string, digest: string, from?: string, options?: { requireContent?: boolean }): Promise<{ size: number } | undefined>;
  /** Marks the link as confirmed now (restarting its grace period); false if it is gone. */
  refreshBlobLink(registry: string, repository: string, digest: string): Promise<boolean>;
  /** Removes the blob's link from the repository; false if it was not linked. */
  unlinkBlob(registry: string, repository: string, digest: string): Promise<boolean>;


  /**
   * Stores a manifest with its references and tags, and a `push` event, in one transaction. Throws
   * `MissingReferencesError` listing any referenced blob or child manifest the repository lacks.
   * Putting an existing digest again is idempotent (its tags are still applied).
   */
  putManifest(manifest: NewManifest): Promise<void>;
  getManifestByDigest(registry: string, repository: string, digest: string): Promise<ManifestRecord | undefined>;
  getManifestByTag(registry: string, repository: string, tag: string): Promise<ManifestRecord | undefined>;
  /** The manifest a pull addresses with its read locks and quarantine state, in one read (the pull's hot path). */
  getPullableManifest(
    registry: string,
    repository: string,
    reference: { kind: 'tag'; tag: string } | { kind: 'digest'; digest: string },
  ): Promise<PullableManifest | undefined>;
  /** Deletes a manifest and every tag pointing at it, recording a `delete` event. */
  deleteManifest(registry: string, repository: string, digest: string, origin?: ChangeOrigin | null): Promise<DeleteManifestResult>;
  /** Deletes a tag alone, recording an `untag` event. */
  deleteTag(registry: string, repository: string, tag: string, origin?: ChangeOrigin | null): Promise<boolean>;

  /** True when the repository exists and holds at least one manifest. */
  repositoryExists(registry: string, repository: string): Promise<boolean>;
  /** Tags in lexical (byte) order, without list-disabled tags or tags of list-disabled manifests. */
  listTags(registry: string, repository: string, page: Page): Promise<string[]>;
  /** Repositories holding at least one manifest, in lexical (byte) order, without list-disabled ones. */
  listRepositories(registry: string, page: Page): Promise<string[]>;
  /** Manifests in the repository whose subject is `subject`, optionally filtered by artifact type. */
  listReferrers(registry: string, repository: string, subject: string, artifactType?: string): Promise<ReferrerRecord[]>;

  /** Undefined unless the repository holds at least one manifest. */
  getRepositoryInfo(registry: string, repository: string): Promise<RepositoryInfo | undefined>;
  /**
   * Tags with their manifests, optionally only those on `digest`. `last` is the last tag name of
   * the previous page; in a time order it must still exist, or the page is empty.
   */
  listTagDetails(registry: string, repository: string, page: ListingPage & { digest?: string; name?: string; includeHidden?: boolean }): Promise<TagDetail[]>;
  /** Manifests with their tags; `last` is the last digest of the previous page (as for tags). List-disabled ones only with `includeHidden`. */
  listManifestDetails(registry: string, repository: string, page: ListingPage & { digest?: string; includeHidden?: boolean }): Promise<ManifestDetail[]>;
}

export class MissingReferencesError extends Error {
  constructor(
    readonly blobs: string[],
    readonly manifests: string[],
  ) {
    super(`missing references: ${[...blobs, ...manifests].join(', ')}`);
    this.name = 'MissingReferencesError';
  }
}

export class RegistryExistsError extends Error {
  constructor(readonly registry: string) {
    super(`registry ${registry} already exists`);
    this.name = 'RegistryExistsError';
  }
}

/** A write named a registry that does not exist. */
export class RegistryNotFoundError extends Error {
  constructor(readonly registry: string) {
    super(`registry ${registry} does not exist`);
    this.name = 'RegistryNotFoundError';
  }
}
