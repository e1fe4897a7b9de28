/**
 * A source registry of this installation: manifests come from the metadata store and blobs are
 * linked, never copied — the bytes are already in the installation's blob store.
 */
import { looksLikeDigest } from '../oci/digest.ts';
import type { MetaStore } from '../meta/meta-store.ts';
import { ImportError, type BlobSink, type FetchedManifest, type SourceReader } from './source-reader.ts';

export class InstallationSource implements SourceReader {
  readonly description: string;

  constructor(
    private readonly meta: MetaStore,
    private readonly registry: string,
    private readonly repository: string,
  ) {
    this.description = `registry ${registry}, repository ${repository}`;
  }

  async manifest(reference: string): Promise<FetchedManifest> {
    const record = looksLikeDigest(reference)
      ? await this.meta.getManifestByDigest(this.registry, this.repository, reference)
      : await this.meta.getManifestByTag(this.registry, this.repository, reference);
    if (!record) throw new ImportError(`${this.description}: manifest ${reference} does not exist`);
    return { digest: record.digest, mediaType: record.mediaType, content: record.content };
  }

  async deliverBlob(blob: { digest: string; size: number }, sink: BlobSink): Promise<'linked'> {
    const held = await this.meta.getRepositoryBlob(this.registry, this.repository, blob.digest);
    if (!held) throw new ImportError(`${this.description}: blob ${blob.digest} is missing`);
    if (held.size !== blob.size) throw new ImportError(`${this.description}: blob ${blob.digest} has ${held.size} bytes, but its manifest says ${blob.size}`);
    await sink.link(blob.digest, blob.size);
    return 'linked';
  }
}
