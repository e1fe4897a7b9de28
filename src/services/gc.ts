/**
 * Online garbage collection: a mark-and-sweep over the metadata, with a grace period, while
 * pushes, pulls and mounts go on — no read-only mode.
 *
 * What is kept. Metadata is the truth: a blob's bytes are kept while
 *   - a manifest references it (`manifest_references`, in any repository of any registry), or
 *   - a repository links it (`repository_blobs`) with a link that a manifest of that repository
 *     references or that was made, mounted or confirmed within the grace period, or
 *   - its `blobs` row was linked, or its file published, within the grace period.
 * A link that no manifest of its repository references — a push abandoned before its manifest,
 * or one whose manifests were deleted — stops counting once it is older than the grace period,
 * and the collection removes it. Deleting a manifest, a repository's content or a registry thus
 * makes the blobs only it referenced collectable (their usage drops at once, see
 * `meta/usage-store.ts`; their bytes go at the first run after the links have aged).
 *
 * A run, with `before` = now − grace period:
 *   1. unlink stale links: older than `before`, referenced by no manifest of their repository;
 *   2. adopt orphaned files: bytes in the store without a `blobs` row (left by a crash between
 *      publishing and linking) whose file is older than `before` get a row, linked at their mtime;
 *   3. collect blobs: rows older than `before`, linked nowhere, referenced by nothing — per batch
 *      in one transaction: lock the rows, check again, delete the rows (with the bytes of small
 *      blobs kept in them), delete the bytes in the store, commit;
 *   4. expire upload sessions idle for longer than the uploads TTL.
 * A dry run performs only the reads of these steps and reports what a run would reclaim now.
 * Each step pages through keys in order with one transaction per page; the report lists every
 * item reclaimed.
 *
 * Why nothing referenced is ever lost. Bytes are deleted only in step 3, inside the transaction
 * that removed their row after finding, with the row locked, no link and no reference. Every way
 * in which a blob becomes needed again passes through a link to that row first:
 *   - An upload publishes its bytes, keeping its own copy (`UploadWriter.publish`), then links the
 *     blob (`linkBlob` upserts the row, touching `linked_at`), then commits, which publishes the
 *     copy again if the blob is gone and only then drops it. The link and the collection are
 *     serialised on the blob row (SQLite: one writer; PostgreSQL: the collection's FOR UPDATE
 *     against the upsert). Link first: the collection sees it and keeps the blob. Collection
 *     first: the bytes are deleted before the link commits, so the commit that follows finds
 *     them missing and republishes the copy. Either way the blob is linked and present before
 *     the client is told it was created.
 *   - A small blob's upload links it with its bytes in the blob row, in one transaction (see
 *     `inline-blobs.ts`; a row that has bytes keeps them). Link first: the collection sees it.
 *     Collection first: the row, bytes and all, is gone before the link, which makes it anew.
 *   - A mount (`mountBlob`) takes the blob row, then checks its source link in the transaction
 *     that makes the new link: a collection that came first saw no links, so the mount finds no
 *     source and fails (the client uploads instead); otherwise the collection waits, then sees
 *     the new link.
 *   - A manifest put checks its blobs' links and records its references in one transaction
 *     (links held FOR KEY SHARE on PostgreSQL); step 1 removes a link only with the link locked
 *     and after checking references again, so either the put sees the link, and its references
 *     then keep the blob, or the put fails with MANIFEST_BLOB_UNKNOWN. The latter needs a client
 *     to upload a blob, leave it unreferenced and unasked-for longer than the grace period, then
 *     reference it; a HEAD or GET confirms a link older than half the grace period.
 *   - Reads need a link, and a link keeps its blob.
 *   - Crashes (kill -9 anywhere) leave each transaction done or undone. A collection transaction
 *     cut short after deleting some bytes rolls back to rows without bytes: nothing links or
 *     references them, only an upload can link them again (and it republishes the bytes, as
 *     above), and the next run removes them. Files without a row wait out the grace period on
 *     their mtime, so a blob published a moment ago whose link is about to commit is not taken.
 * Several runs at once (on several nodes) are safe for the same reasons; each write re-checks.
 */
import type { BlobLinkKey } from '../meta/collection-store.ts';
import type { MetaStore } from '../meta/meta-store.ts';
import type { BlobStore, UploadInfo } from '../store/blob-store.ts';

export interface GarbageCollectorOptions {
  gracePeriodMs: number;
  /** Links or blobs per transaction, and digests per metadata lookup. */
  batchSize?: number;
}

/** What expires abandoned upload sessions (`UploadService`). */
export interface AbandonedUploads {
  listAbandoned(now?: number): Promise<UploadInfo[]>;
  expireAbandonedUploads(now?: number): Promise<UploadInfo[]>;
}

export interface UnlinkedBlob {
  registry: string;
  repository: string;
  digest: string;
  size: number;
}

export interface ReclaimedBlob {
  digest: string;
  size: number;
}

export interface GcReport {
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  gracePeriodSeconds: number;
  /** Links removed from repositories: referenced by no manifest there, older than the grace period. */
  unlinkedBlobs: UnlinkedBlob[];
  /** Blobs whose bytes were deleted (or, in a dry run, would be), in digest order. */
  deletedBlobs: ReclaimedBlob[];
  /** Abandoned upload sessions whose bytes were deleted. */
  expiredUploads: { id: string; size: number }[];
  /** Bytes freed in the store: deleted blobs and expired uploads. */
  reclaimedBytes: number;
}

/** Thrown by a run that `close` stopped between two batches. */
export class CollectionStoppedError extends Error {
  constructor() {
    super('garbage collection stopped: the server is shutting down');
    this.name = 'CollectionStoppedError';
  }
}

export class GarbageCollector {
  readonly #batchSize: number;
  /** Runs one after another, in call order. */
  #queue: Promise<unknown> = Promise.resolve();
  #stopping = false;

  constructor(
    private readonly meta: Pick<MetaStore, 'collection'>,
    private readonly store: BlobStore,
    private readonly uploads: AbandonedUploads,
    private readonly options: GarbageCollectorOptions,
  ) {
    this.#batchSize = options.batchSize ?? 200;
  }

  run(options: { dryRun?: boolean } = {}): Promise<GcReport> {
    const result = this.#queue.catch(() => undefined).then(() => this.#run(options.dryRun === true));
    this.#queue = result;
    return result;
  }

  /** Stops a run in progress after its current batch and waits for it. */
  async close(): Promise<void> {
    this.#stopping = true;
    await this.#queue.catch(() => undefined);
  }

  async #run(dryRun: boolean): Promise<GcReport> {
    this.#checkStopping();
    const started = Date.now();
    const before = new Date(started - this.options.gracePeriodMs).toISOString();
    const unlinkedBlobs = await this.#unlinkStale(before, dryRun);
    const orphans = await this.#findOrphans(before);
    if (!dryRun) await this.meta.collection.adoptOrphans(orphans);
    const collected = await this.#collect(before, dryRun);
    const deletedBlobs = dryRun ? mergeByDigest(collected, orphans) : collected;
    this.#checkStopping();
    const uploads = dryRun ? await this.uploads.listAbandoned(started) : await this.uploads.expireAbandonedUploads(started);
    const expiredUploads = uploads.map((upload) => ({ id: upload.id, size: upload.size }));
    return {
      dryRun,
      startedAt: new Date(started).toISOString(),
      finishedAt: new Date().toISOString(),
      gracePeriodSeconds: this.options.gracePeriodMs / 1000,
      unlinkedBlobs,
      deletedBlobs,
      expiredUploads,
      reclaimedBytes: sum(deletedBlobs) + sum(expiredUploads),
    };
  }

  /** Step 1. */
  async #unlinkStale(before: string, dryRun: boolean): Promise<UnlinkedBlob[]> {
    const unlinked: UnlinkedBlob[] = [];
    let after: BlobLinkKey | undefined;
    for (;;) {
      this.#checkStopping();
      const page = await this.meta.collection.listStaleLinks(before, { after, limit: this.#batchSize });
      if (page.length === 0) break;
      after = page.at(-1);
      const removed = dryRun ? page : await this.meta.collection.unlinkStale(page, before);
      const keys = new Set(removed.map(linkKey));
      for (const link of page) {
        if (keys.has(linkKey(link))) unlinked.push({ registry: link.registry, repository: link.repository, digest: link.digest, size: link.size });
      }
      if (page.length < this.#batchSize) break;
    }
    return unlinked;
  }

  /** Step 2's reads: stored files without a row, untouched since before `before`. */
  async #findOrphans(before: string): Promise<{ digest: string; size: number; modified: string }[]> {
    const orphans: { digest: string; size: number; modified: string }[] = [];
    const check = async (digests: string[]) => {
      this.#checkStopping();
      for (const digest of await this.meta.collection.listOrphans(digests)) {
        const info = await this.store.stat(digest);
        const modified = info?.modified.toISOString();
        if (info && modified! < before) orphans.push({ digest, size: info.size, modified: modified! });
      }
    };
    let batch: string[] = [];
    for await (const digest of this.store.list()) {
      batch.push(digest);
      if (batch.length >= this.#batchSize) {
        await check(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await check(batch);
    return orphans;
  }

  /** Step 3. */
  async #collect(before: string, dryRun: boolean): Promise<ReclaimedBlob[]> {
    const collected: ReclaimedBlob[] = [];
    let after: string | undefined;
    for (;;) {
      this.#checkStopping();
      const page = await this.meta.collection.listCollectableBlobs(before, { after, limit: this.#batchSize });
      if (page.length === 0) break;
      after = page.at(-1)!.digest;
      const removed = dryRun
        ? page
        : await this.meta.collection.collectBlobs(
            page.map((blob) => blob.digest),
            before,
            async (digest) => {
              await this.store.delete(digest);
            },
          );
      for (const blob of removed) collected.push({ digest: blob.digest, size: blob.size });
      if (page.length < this.#batchSize) break;
    }
    return collected;
  }

  #checkStopping(): void {
    if (this.#stopping) throw new CollectionStoppedError();
  }
}

function linkKey(link: BlobLinkKey): string {
  return `${link.repositoryId} ${link.digest}`;
}

function sum(items: { size: number }[]): number {
  return items.reduce((total, item) => total + item.size, 0);
}

function mergeByDigest(a: ReclaimedBlob[], b: ReclaimedBlob[]): ReclaimedBlob[] {
  const all = new Map<string, ReclaimedBlob>();
  for (const blob of [...a, ...b]) all.set(blob.digest, { digest: blob.digest, size: blob.size });
  return [...all.values()].sort((x, y) => (x.digest < y.digest ? -1 : x.digest > y.digest ? 1 : 0));
}
