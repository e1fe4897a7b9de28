/**
 * Content-addressed blob bytes. Write-once: bytes reach a blob only through an upload that is
 * committed under its verified digest, published atomically. The store knows nothing about
 * registries or repositories — those live in `meta/`.
 */
import type { Readable } from 'node:stream';

export interface BlobInfo {
  size: number;
  /** When the blob was last published (garbage collection's grace period for blobs without metadata). */
  modified: Date;
}

export interface UploadInfo {
  id: string;
  size: number;
  modified: Date;
}

export interface AppendOptions {
  /**
   * Nothing else holds the chunks (an HTTP request body): each one's memory is freed as soon as
   * it is written, and its length becomes 0.
   */
  freeWritten?: boolean;
}

/**
 * An open upload session's bytes: appended in order, then committed under a digest or cancelled.
 * Calls on one writer run one after another, in call order.
 */
export interface UploadWriter {
  readonly id: string;
  /** Bytes written so far. */
  readonly size: number;
  /**
   * Appends every chunk of `source` in order and resolves with the number of bytes appended.
   * On a source or write error the bytes already appended stay appended (and `size` says so).
   * A yielded chunk belongs to the writer (it may be written later, by reference): the source
   * must not reuse its memory — as Node streams never do.
   */
  append(source: AsyncIterable<Uint8Array>, options?: AppendOptions): Promise<number>;
  /** Cuts the upload back to `size` bytes (used to undo a rejected chunk). */
  truncate(size: number): Promise<void>;
  /** Streams the bytes written so far (to re-hash after a restart). */
  read(): Readable;
  /**
   * Makes the bytes durable and publishes them as blob `digest` (the caller has verified the
   * digest), unless a blob with that digest exists; a blob published here counts as new
   * (`modified` is now). Unlike `commit`, the upload keeps its own bytes and the writer stays
   * open, so a later `commit(digest)` publishes them again should the blob have been deleted in
   * between (a garbage collection racing with the caller's metadata link), and only then
   * releases them. No more bytes may be appended after.
   */
  publish(digest: string): Promise<void>;
  /**
   * Makes the bytes durable and publishes them as blob `digest`; the caller has verified the
   * digest. If the blob already exists the upload is simply discarded. The writer is closed after.
   */
  commit(digest: string): Promise<void>;
  /** Discards the upload's bytes. */
  cancel(): Promise<void>;
  /**
   * Ends the caller's use of the writer; the upload's bytes stay, unless the driver found it
   * could not make them durable. A driver may keep its file open for the session's next
   * `openUpload`.
   */
  close(): Promise<void>;
}

/**
 * A published blob opened for positional reads into buffers the caller owns, so a server can
 * stream it through a few reused buffers instead of a new one per chunk.
 */
export interface BlobReader {
  readonly size: number;
  /** Fills `buffer` from `position` on; resolves with the bytes read (fewer only at the end, 0 past it). */
  readInto(buffer: Buffer, position: number): Promise<number>;
  close(): Promise<void>;
}

export interface BlobStore {
  /** Size of a published blob, or undefined. */
  stat(digest: string): Promise<BlobInfo | undefined>;
  /** Opens a published blob for positional reads; rejects with `BlobNotFoundError` if absent. */
  openReader(digest: string): Promise<BlobReader>;
  /** Deletes a published blob; false if it was absent. */
  delete(digest: string): Promise<boolean>;
  /** Every published blob's digest (for garbage collection). */
  list(): AsyncIterable<string>;
  /**
   * Opens an upload session's writer. With `create` (the default) its empty storage is made if it
   * does not exist; without, a missing upload rejects with `BLOB_UPLOAD_UNKNOWN`.
   */
  openUpload(id: string, options?: { create?: boolean }): Promise<UploadWriter>;
  /** Removes an upload's bytes; false if there were none. */
  deleteUpload(id: string): Promise<boolean>;
  /** Every upload with stored bytes (for expiry of abandoned sessions). */
  listUploads(): AsyncIterable<UploadInfo>;
}

/**
 * True for a well-formed upload id: a UUID or another `[A-Za-z0-9_-]{1,64}` id, never a path.
 * Drivers build storage keys from upload ids, so every layer applies the same rule.
 */
export function isUploadId(id: string): boolean {
  return /^[A-Za-z0-9_-]{1,64}$/.test(id);
}

export class BlobNotFoundError extends Error {
  constructor(readonly digest: string) {
    super(`blob ${digest} not found`);
    this.name = 'BlobNotFoundError';
  }
}

/**
 * A storage failure, normalised so that its message names only the operation and the error code
 * (never a path, bucket or account). The original error is kept as `cause` for server logs.
 */
export class BlobStoreError extends Error {
  constructor(
    readonly operation: string,
    readonly code: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(`blob store ${operation} failed${code ? ` (${code})` : ''}`, options);
    this.name = 'BlobStoreError';
  }
}
