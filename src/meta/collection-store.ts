/**
 * The metadata side of garbage collection (the argument for its safety is at the top of
 * `services/gc.ts`). Times are ISO-8601 UTC strings; `before` is the end of the grace period:
 * anything linked at or after it is never collected.
 *
 * Every `list…` method is a read that changes nothing (a dry run is made of them); every write
 * re-checks its condition in its own transaction, so a link or reference made since the listing
 * always wins.
 */

/** A blob linked into a repository, by the repository's key. */
export interface BlobLinkKey {
  repositoryId: number;
  digest: string;
}

export interface StaleLink extends BlobLinkKey {
  registry: string;
  repository: string;
  size: number;
}

export interface CollectableBlob {
  digest: string;
  size: number;
}

/** A stored file without a `blobs` row, as garbage collection adopts it. */
export interface OrphanBlob {
  digest: string;
  size: number;
  /** The file's modification time: the start of its grace period. */
  modified: string;
}

export interface CollectionStore {
  /**
   * Links made before `before` that no manifest of their repository references, in key order
   * after `after`.
   */
  listStaleLinks(before: string, page: { after?: BlobLinkKey; limit: number }): Promise<StaleLink[]>;
  /** Removes those of the links that are still stale, in one transaction; returns the removed ones. */
  unlinkStale(links: BlobLinkKey[], before: string): Promise<BlobLinkKey[]>;

  /**
   * Blobs linked before `before` that no manifest references and that no link made at or after
   * `before` holds — those a collection removes once the stale links are gone — in digest order
   * after `after`.
   */
  listCollectableBlobs(before: string, page: { after?: string; limit: number }): Promise<CollectableBlob[]>;
  /**
   * In one transaction: locks the rows of `digests`, keeps those still linked before `before`,
   * linked into no repository and referenced by no manifest, deletes their rows, then calls
   * `deleteBytes` for each before committing — so a link made at the same time either comes
   * first (and the blob is kept) or finds the row gone and its bytes already deleted. Returns
   * the blobs removed.
   */
  collectBlobs(digests: string[], before: string, deleteBytes: (digest: string) => Promise<void>): Promise<CollectableBlob[]>;

  /** Those of `digests` that have no `blobs` row and that no manifest references. */
  listOrphans(digests: string[]): Promise<string[]>;
  /** Gives stored files without a row one (linked at their modification time), unless one exists by now. */
  adoptOrphans(orphans: OrphanBlob[]): Promise<void>;
}
