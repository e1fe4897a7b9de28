/** Reading and deleting blobs as a repository sees them: only blobs linked into it exist. */
import type { Readable } from 'node:stream';
import { parseDigest } from '../oci/digest.ts';
import { RegistryError } from '../oci/errors.ts';
import { BlobNotFoundError, type BlobStore, type ByteRange } from '../store/blob-store.ts';
import type { MetaStore } from '../meta/meta-store.ts';

export class BlobService {
  constructor(
    private readonly meta: MetaStore,
    private readonly store: BlobStore,
  ) {}

  /** The blob's size; `BLOB_UNKNOWN` unless it is linked into the repository. */
  async stat(registry: string, repository: string, digest: string): Promise<{ size: number }> {
    parseDigest(digest);
    const blob = await this.meta.getRepositoryBlob(registry, repository, digest);
    if (!blob) throw new RegistryError('BLOB_UNKNOWN', `blob ${digest} is not known to this repository`);
    return blob;
  }

  async open(digest: string, range?: ByteRange): Promise<Readable> {
    try {
      return await this.store.read(digest, range);
    } catch (error) {
      if (error instanceof BlobNotFoundError) throw new RegistryError('BLOB_UNKNOWN', `blob ${digest} is missing from storage`);
      throw error;
    }
  }

  /** Unlinks the blob from the repository; its bytes stay while anything else refers to them. */
  async delete(registry: string, repository: string, digest: string): Promise<void> {
    parseDigest(digest);
    if (!(await this.meta.unlinkBlob(registry, repository, digest))) {
      throw new RegistryError('BLOB_UNKNOWN', `blob ${digest} is not known to this repository`);
    }
  }
}
