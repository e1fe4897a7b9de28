/**
 * What the importer needs of a source, whether a remote registry reached over HTTP or a registry
 * of this installation: manifests by tag or digest, and each blob delivered into a sink that
 * stores it for the target (bytes streamed and verified, or a link to bytes already held).
 */

export interface FetchedManifest {
  digest: string;
  mediaType: string;
  /** The exact bytes, so the copy keeps the source's digest. */
  content: Buffer;
}

export interface BlobSink {
  /** Streams a blob's bytes into the store, verifying size and digest as they flow, and links it into the target. */
  write(digest: string, size: number, bytes: AsyncIterable<Uint8Array>): Promise<void>;
  /** Links a blob whose bytes the installation already holds into the target. */
  link(digest: string, size: number): Promise<void>;
}

export interface SourceReader {
  /** The source in messages, e.g. `127.0.0.1:5000/app` or `registry contoso, repository app`. */
  readonly description: string;
  /** A manifest by tag or digest; by digest, the content is checked against it. */
  manifest(reference: string): Promise<FetchedManifest>;
  /** Delivers a blob into `sink`: `copied` when bytes were transferred, `linked` when not. */
  deliverBlob(blob: { digest: string; size: number }, sink: BlobSink): Promise<'copied' | 'linked'>;
}

/** An import failure whose message is meant for the user as it stands. */
export class ImportError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ImportError';
  }
}
