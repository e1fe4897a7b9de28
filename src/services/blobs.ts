/**
 * Reading and deleting blobs as a repository sees them: only blobs linked into it exist. A blob's
 * bytes are in the blob store, or in its metadata row when it is small (see `inline-blobs.ts`).
 */
import { parseDigest } from '../oci/digest.ts';
import { RegistryError } from '../oci/errors.ts';
import { BlobNotFoundError, type BlobReader, type BlobStore } from '../store/blob-store.ts';
import type { MetaStore } from '../meta/meta-store.ts';
import { bufferBlobReader } from './inline-blobs.ts';

export type { BlobReader } from '../store/blob-store.ts';
export { freeChunk } from '../store/free-chunk.ts';

/** A blob linked into a repository. */
export interface RepositoryBlob {
  digest: string;
  size: number;
  /** Its bytes, when they are kept in the metadata database. */
  content: Buffer | undefined;
}

export interface BlobServiceOptions {
  /**
   * A link older than this is confirmed again when a client asks for the blob, restarting its
   * garbage-collection grace period: a client that checks a blob (HEAD) and then pushes a manifest
   * referencing it needs the link to outlive that interval. Half the grace period.
   */
  linkRefreshMs: number;
}

export class BlobService {
  constructor(
    private readonly meta: MetaStore,
    private readonly store: BlobStore,
    private readonly options: BlobServiceOptions = { linkRefreshMs: 30 * 60_000 },
  ) {}

  /** The blob; `BLOB_UNKNOWN` unless it is linked into the repository. */
  async stat(registry: string, repository: string, digest: string): Promise<RepositoryBlob> {
    parseDigest(digest);
    const blob = await this.meta.getRepositoryBlob(registry, repository, digest);
    if (!blob) throw blobUnknown(digest);
    if (Date.parse(blob.linkedAt) < Date.now() - this.options.linkRefreshMs) {
      // Collected between the two statements: answer as if it had gone a moment earlier.
      if (!(await this.meta.refreshBlobLink(registry, repository, digest))) throw blobUnknown(digest);
    }
    return { digest, size: blob.size, content: blob.content };
  }

  /** The blob's bytes for positional reads (see `BlobReader`). */
  async openReader(blob: RepositoryBlob): Promise<BlobReader> {
    if (blob.content) return bufferBlobReader(blob.content);
    try {
      return await this.store.openReader(blob.digest);
    } catch (error) {
      if (error instanceof BlobNotFoundError) throw missingFromStorage(blob.digest);
      throw error;
    }
  }

  /**
   * The bytes of any blob of the installation, wherever they are kept (its row, else the blob
   * store), for the server's own reads; undefined if the installation has none.
   */
  async openByDigest(digest: string): Promise<BlobReader | undefined> {
    const content = await this.meta.getBlobContent(digest);
    if (content) return bufferBlobReader(content);
    try {
      return await this.store.openReader(digest);
    } catch (error) {
      if (error instanceof BlobNotFoundError) return undefined;
      throw error;
    }
  }

  /** Whether the installation holds the blob's bytes, in its row or in the blob store. */
  async isStored(digest: string): Promise<boolean> {
    return (await this.meta.getBlobContent(digest)) !== undefined || (await this.store.stat(digest)) !== undefined;
  }

  /** Unlinks the blob from the repository; its bytes stay while anything else refers to them. */
  async delete(registry: string, repository: string, digest: string): Promise<void> {
    parseDigest(digest);
    if (!(await this.meta.unlinkBlob(registry, repository, digest))) throw blobUnknown(digest);
  }
}

function blobUnknown(digest: string): RegistryError {
  return new RegistryError('BLOB_UNKNOWN', `blob ${digest} is not known to this repository`);
}

function missingFromStorage(digest: string): RegistryError {
  return new RegistryError('BLOB_UNKNOWN', `blob ${digest} is missing from storage`);
}
