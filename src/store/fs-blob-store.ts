/**
 * `BlobStore` on the local filesystem.
 *
 * On-disk layout under the configured root:
 *
 *   <root>/
 *     uploads/
 *       <id>                      bytes of one upload session, appended in order. Created empty by
 *                                 `openUpload`; removed by `commit` (renamed into `blobs/`),
 *                                 `cancel` and `deleteUpload`. Flushed in the background while
 *                                 written, fdatasynced for sure only by `publish` or `commit`: after
 *                                 a crash an upload may be shorter than acknowledged (the service
 *                                 compares sizes and re-hashes on resume). `publish` hard-links
 *                                 it into `blobs/` and keeps it, so the two names share one
 *                                 file until `commit` or `cancel` drops this one.
 *     blobs/
 *       <algorithm>/              `sha256` or `sha512`
 *         <first two hex>/        fan-out directory, so no directory holds millions of entries;
 *                                 created on first use, never removed
 *           <encoded>             a published blob: exactly the bytes whose digest is
 *                                 `<algorithm>:<encoded>`, mode 0444, never modified. Appears only
 *                                 through an atomic rename or hard link of a complete,
 *                                 fdatasynced upload made read-only first, with the time of
 *                                 publishing (to within `FRESH_MTIME_MS`) as its mtime; removed
 *                                 only by `delete` (garbage collection).
 *
 * No temporary files exist besides `uploads/`: a crash at any point leaves either the upload or
 * the complete blob. Blob deletion is not fsynced — a blob that reappears after a crash is garbage
 * that the next collection removes again.
 *
 * Upload writers use positional writes on one open file descriptor. One writer per upload id at
 * a time: the service layer serialises requests for the same upload session. A closed writer
 * stays open for a while for the session's next request (`ParkedWriters`), and is used again
 * only if its file has not changed meanwhile.
 */
import { constants, createReadStream, existsSync, fstatSync } from 'node:fs';
import { link, mkdir, open, opendir, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { isDigestAlgorithm, parseDigest, type DigestAlgorithm } from '../oci/digest.ts';
import { RegistryError } from '../oci/errors.ts';
import { ParkedWriters } from './parked-writers.ts';
import { freeChunk } from './free-chunk.ts';
import { BlobNotFoundError, isUploadId, type AppendOptions, type BlobInfo, type BlobReader, type BlobStore, type UploadInfo, type UploadWriter } from './blob-store.ts';

/** Appends are gathered into writes of at least this size (one `writev` each). */
const WRITE_BATCH_BYTES = 2 * 1024 * 1024;
/** Stays below the kernel's IOV_MAX (1024) so one `writev` is one syscall. */
const WRITE_BATCH_CHUNKS = 512;
/** Chunk size of an upload's read stream. */
const READ_CHUNK_BYTES = 1024 * 1024;
/** Writeback of appended bytes starts in the background once this many are not yet flushed. */
const FLUSH_AHEAD_BYTES = 8 * 1024 * 1024;
/** Upload files kept open between the requests of their sessions, and for how long when idle. */
const PARKED_UPLOADS = 64;
const PARKED_UPLOAD_IDLE_MS = 10_000;
/**
 * A file this writer created or wrote to this recently already has about the time of publishing
 * as its mtime, and is published without setting it again. Far below any useful grace period of
 * garbage collection, which is what reads that mtime (for blobs without metadata).
 */
const FRESH_MTIME_MS = 1000;

const encodedPattern: Record<DigestAlgorithm, RegExp> = {
  sha256: /^[a-f0-9]{64}$/,
  sha512: /^[a-f0-9]{128}$/,
};

export class FsBlobStore implements BlobStore {
  readonly root: string;
  private readonly blobsDir: string;
  private readonly uploadsDir: string;
  private uploadsReady: Promise<unknown> | undefined;
  /** Fan-out directories whose whole path is known to be durable; see `ensureDurableDir`. */
  private readonly durableDirs = new Set<string>();
  private readonly parkedUploads = new ParkedWriters<FsUploadWriter>(PARKED_UPLOADS, PARKED_UPLOAD_IDLE_MS);

  constructor(root: string) {
    this.root = resolve(root);
    this.blobsDir = join(this.root, 'blobs');
    this.uploadsDir = join(this.root, 'uploads');
  }

  async stat(digest: string): Promise<BlobInfo | undefined> {
    try {
      const info = await stat(this.blobPath(digest));
      return { size: info.size, modified: info.mtime };
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return undefined;
      throw error;
    }
  }

  async openReader(digest: string): Promise<BlobReader> {
    let handle: FileHandle;
    try {
      handle = await open(this.blobPath(digest), constants.O_RDONLY);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') throw new BlobNotFoundError(digest);
      throw error;
    }
    try {
      return new FsBlobReader(handle, (await handle.stat()).size);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async delete(digest: string): Promise<boolean> {
    return removeFile(this.blobPath(digest));
  }

  async *list(): AsyncIterable<string> {
    for (const algorithm of await listNames(this.blobsDir)) {
      if (!isDigestAlgorithm(algorithm)) continue;
      const pattern = encodedPattern[algorithm];
      for (const prefix of await listNames(join(this.blobsDir, algorithm))) {
        const fanOut = join(this.blobsDir, algorithm, prefix);
        let dir;
        try {
          dir = await opendir(fanOut);
        } catch (error) {
          if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') continue;
          throw error;
        }
        for await (const entry of dir) {
          if (entry.isFile() && pattern.test(entry.name) && entry.name.startsWith(prefix)) {
            yield `${algorithm}:${entry.name}`;
          }
        }
      }
    }
  }

  async openUpload(id: string, options: { create?: boolean } = {}): Promise<UploadWriter> {
    this.uploadsReady ??= mkdir(this.uploadsDir, { recursive: true });
    try {
      await this.uploadsReady;
    } catch (error) {
      this.uploadsReady = undefined;
      throw error;
    }
    const path = this.uploadPath(id);
    const parked = this.parkedUploads.take(id);
    if (parked?.stillCurrent()) return parked;
    await parked?.shut();
    // Most sessions have no file yet when asked (every session starts without bytes): the name
    // lookup, answered from the directory cache, spares them a trip through the thread pool.
    if (options.create === false && !existsSync(path)) throw Object.assign(new Error('upload not found'), { code: 'ENOENT' });
    const host: WriterHost = {
      publish: (digest) => this.publish(path, digest),
      link: (digest, durable) => this.publishLink(path, digest, durable),
      park: (writer) => this.parkedUploads.park(id, writer),
    };
    // A file this call created is known to be empty and writable without asking it.
    const created = options.create === false ? undefined : await createNewFile(path);
    if (created) return new FsUploadWriter(id, path, created, 0, false, host, Date.now());
    const flags = options.create === false ? constants.O_RDWR : constants.O_RDWR | constants.O_CREAT;
    const handle = await openUploadFile(path, flags);
    try {
      // An upload published by `publish` (and not yet committed, say after a crash) shares its
      // file with the blob: it must never be written again.
      const { size, nlink, mode } = await handle.stat();
      const published = nlink > 1 || (mode & 0o222) === 0;
      return new FsUploadWriter(id, path, handle, size, published, host, undefined);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async deleteUpload(id: string): Promise<boolean> {
    const path = this.uploadPath(id);
    await this.parkedUploads.take(id)?.shut();
    return removeFile(path);
  }

  async *listUploads(): AsyncIterable<UploadInfo> {
    let dir;
    try {
      dir = await opendir(this.uploadsDir);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return;
      throw error;
    }
    for await (const entry of dir) {
      if (!entry.isFile() || !isUploadId(entry.name)) continue;
      try {
        const info = await stat(join(this.uploadsDir, entry.name));
        yield { id: entry.name, size: info.size, modified: info.mtime };
      } catch (error) {
        // Committed or deleted while listing.
        if (errorCode(error) !== 'ENOENT') throw error;
      }
    }
  }

  /** Publishes the (already fdatasynced, read-only) upload file at `uploadPath` as blob `digest`. */
  private async publish(uploadPath: string, digest: string): Promise<void> {
    const blobPath = this.blobPath(digest);
    if (await this.stat(digest)) {
      await removeFile(uploadPath);
      return;
    }
    const fanOut = dirname(blobPath);
    await this.ensureDurableDir(fanOut);
    // Two commits of the same digest may both get here; the second rename replaces the first
    // blob with identical bytes, and readers of the first keep their open file.
    await rename(uploadPath, blobPath);
    await fsyncDir(fanOut);
  }

  /**
   * Publishes the upload file at `uploadPath` as blob `digest` under a second name, keeping the
   * upload, once `durable` (its fdatasync and chmod) has resolved. The fan-out directory is
   * opened meanwhile, as nothing about it depends on the upload.
   */
  private async publishLink(uploadPath: string, digest: string, durable: Promise<void>): Promise<void> {
    const opening = (async () => {
      const blobPath = this.blobPath(digest);
      await this.ensureDurableDir(dirname(blobPath));
      return { blobPath, dir: await openDir(dirname(blobPath)) };
    })();
    const [synced, target] = await Promise.allSettled([durable, opening]);
    try {
      if (synced.status === 'rejected') throw synced.reason;
      if (target.status === 'rejected') throw target.reason;
      try {
        await link(uploadPath, target.value.blobPath);
      } catch (error) {
        if (errorCode(error) === 'EEXIST') return;
        throw error;
      }
      await target.value.dir.sync();
    } finally {
      if (target.status === 'fulfilled') await target.value.dir.close().catch(() => undefined);
    }
  }

  /**
   * Creates `dir` if needed and fsyncs every directory on its path below the root once per
   * process, so a new fan-out directory's own entry survives a crash — even when a concurrent
   * commit created it and has not fsynced it yet.
   */
  private async ensureDurableDir(dir: string): Promise<void> {
    if (this.durableDirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    for (let parent = dirname(dir); parent.startsWith(this.root); parent = dirname(parent)) {
      await fsyncDir(parent);
      if (parent === this.root) break;
    }
    this.durableDirs.add(dir);
  }

  private blobPath(digest: string): string {
    const { algorithm, encoded } = parseDigest(digest);
    return join(this.blobsDir, algorithm, encoded.slice(0, 2), encoded);
  }

  private uploadPath(id: string): string {
    if (!isUploadId(id)) {
      throw new RegistryError('BLOB_UPLOAD_UNKNOWN', 'invalid upload id');
    }
    return join(this.uploadsDir, id);
  }
}

class FsBlobReader implements BlobReader {
  constructor(
    private readonly handle: FileHandle,
    readonly size: number,
  ) {}

  async readInto(buffer: Buffer, position: number): Promise<number> {
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await this.handle.read(buffer, filled, buffer.length - filled, position + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled;
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

interface WriterHost {
  /** Renames the (durable, read-only) upload into place (or drops it if the blob exists). */
  publish(digest: string): Promise<void>;
  /** Links the upload into place, keeping it, once `durable` resolves (rejects if it rejects). */
  link(digest: string, durable: Promise<void>): Promise<void>;
  /** Keeps the writer open for its session's next request; false when it cannot. */
  park(writer: FsUploadWriter): boolean;
}

/**
 * Once published, an upload's file is also the blob's: it must never change again.
 *
 * Appended bytes are flushed in the background as they come (`flushAhead`), and `close` parks
 * the writer for the session's next request rather than closing its file, so that by the time
 * the upload is published little is left for its final datasync.
 */
class FsUploadWriter implements UploadWriter {
  private handle: FileHandle | undefined;
  private written: number;
  /** Operations on one writer run one after another, in call order. */
  private queue: Promise<unknown> = Promise.resolve();
  /** An operation failed: the writer is closed rather than parked. */
  private faulted = false;
  /** The background flush in flight; it never rejects (see `flushAhead`). */
  private flushing: Promise<void> | undefined;
  /** Size of the upload when the last background flush started. */
  private flushMark: number;
  /** The error of a failed background flush. */
  private flushFailure: { error: unknown } | undefined;

  constructor(
    readonly id: string,
    private readonly path: string,
    handle: FileHandle,
    size: number,
    private published: boolean,
    private readonly host: WriterHost,
    /** When this writer last set the file's mtime to the current time (creating or writing it). */
    private touchedAt: number | undefined,
  ) {
    this.handle = handle;
    this.written = size;
    this.flushMark = size;
  }

  get size(): number {
    return this.written;
  }

  append(source: AsyncIterable<Uint8Array>, options: AppendOptions = {}): Promise<number> {
    return this.exclusive(async (handle) => {
      this.unpublished();
      this.unfailed();
      const before = this.written;
      const iterator = source[Symbol.asyncIterator]();
      let batch: Uint8Array[] = [];
      let batchBytes = 0;
      let inFlight: Promise<void> = Promise.resolve();
      let sourceFailure: { error: unknown } | undefined;
      try {
        for (;;) {
          let next: IteratorResult<Uint8Array>;
          try {
            next = await iterator.next();
          } catch (error) {
            sourceFailure = { error };
            break;
          }
          if (next.done) break;
          if (next.value.byteLength === 0) continue;
          batch.push(next.value);
          batchBytes += next.value.byteLength;
          if (batchBytes >= WRITE_BATCH_BYTES || batch.length >= WRITE_BATCH_CHUNKS) {
            // One write in flight while the next batch is gathered; writes stay in order.
            await inFlight;
            inFlight = this.writeAll(handle, batch, options);
            inFlight.catch(() => undefined);
            batch = [];
            batchBytes = 0;
          }
        }
        await inFlight;
        // What the source delivered before failing is appended too, so `size` matches what a
        // caller hashing the same chunks has seen.
        await this.writeAll(handle, batch, options);
      } catch (writeError) {
        if (!sourceFailure) await closeQuietly(iterator);
        throw writeError;
      }
      if (sourceFailure) throw sourceFailure.error;
      return this.written - before;
    });
  }

  truncate(size: number): Promise<void> {
    return this.exclusive(async (handle) => {
      this.unpublished();
      this.unfailed();
      await handle.truncate(size);
      this.touchedAt = Date.now();
      this.written = size;
      this.flushMark = Math.min(this.flushMark, size);
    });
  }

  read(): Readable {
    this.current();
    if (this.written === 0) return Readable.from([], { objectMode: false });
    return createReadStream(this.path, { start: 0, end: this.written - 1, highWaterMark: READ_CHUNK_BYTES });
  }

  publish(digest: string): Promise<void> {
    return this.exclusive(async (handle) => {
      await this.settleFlush();
      const durable = this.makeDurable(handle).then(() => {
        this.published = true;
      });
      await this.host.link(digest, durable);
    });
  }

  commit(digest: string): Promise<void> {
    return this.exclusive(async (handle) => {
      // A published upload was made durable by `publish` and cannot have changed since.
      if (!this.published) {
        await this.settleFlush();
        await this.makeDurable(handle);
      }
      // Closing the file and publishing (or dropping) its name do not depend on each other.
      await settleAll(this.release(handle), this.host.publish(digest));
    });
  }

  cancel(): Promise<void> {
    // Removing the name does not wait for the file to be closed.
    return this.exclusive((handle) => settleAll(this.release(handle), removeFile(this.path)));
  }

  /** Parks the writer for the session's next request when it is sound; otherwise shuts it. */
  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    if (!this.handle) return;
    if (!this.faulted && !this.published && !this.flushFailure && this.host.park(this)) return;
    await this.shut();
  }

  /**
   * Closes the file for good. An upload whose background flush failed is removed: the kernel
   * reports a writeback error to one datasync only, so a later writer's datasync would succeed
   * on bytes that never reached the disk.
   */
  async shut(): Promise<void> {
    await this.queue.catch(() => undefined);
    if (this.handle) await this.release(this.handle);
    if (this.flushFailure && !this.published) await removeFile(this.path);
  }

  /**
   * True while the file is still this upload as this writer left it, so a parked writer may serve
   * again. The `fstat` of an open file reads its in-memory inode and never waits for the disk:
   * made synchronously, it spares every request of a session a trip through the thread pool.
   */
  stillCurrent(): boolean {
    if (!this.handle || this.flushFailure) return false;
    try {
      const { size, nlink, mode } = fstatSync(this.handle.fd);
      return size === this.written && nlink === 1 && (mode & 0o222) !== 0;
    } catch {
      return false;
    }
  }

  /**
   * The bytes fdatasynced, the file read-only (so no name of it is ever writable once it is a
   * blob's) and its mtime about now: what publishing needs, done concurrently, as none of it
   * depends on the rest (and fdatasync need not persist timestamps or mode anyway).
   */
  private async makeDurable(handle: FileHandle): Promise<void> {
    const now = new Date();
    const fresh = this.touchedAt !== undefined && now.getTime() - this.touchedAt <= FRESH_MTIME_MS;
    await settleAll(handle.datasync(), handle.chmod(0o444), fresh ? undefined : handle.utimes(now, now));
  }

  private async release(handle: FileHandle): Promise<void> {
    // No flush starts once the handle is gone, and the one in flight ends before the close.
    this.handle = undefined;
    while (this.flushing) await this.flushing;
    await handle.close();
  }

  private unpublished(): void {
    if (this.published) throw new RegistryError('BLOB_UPLOAD_INVALID', 'upload already published');
  }

  private unfailed(): void {
    if (this.flushFailure) throw this.flushFailure.error;
  }

  private current(): FileHandle {
    if (!this.handle) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', 'upload writer is closed');
    return this.handle;
  }

  private exclusive<T>(operation: (handle: FileHandle) => Promise<T>): Promise<T> {
    const result = this.queue.catch(() => undefined).then(() => operation(this.current()));
    result.catch(() => {
      this.faulted = true;
    });
    this.queue = result;
    return result;
  }

  /** Waits until no background flush is in flight; rejects if one failed. */
  private async settleFlush(): Promise<void> {
    while (this.flushing) await this.flushing;
    this.unfailed();
  }

  /**
   * Starts writeback of the bytes appended since the last flush once there are enough of them,
   * without waiting for it, so that the datasync of `publish` or `commit` has little left. One
   * flush at a time, started again as it ends while enough is pending; a datasync may overlap
   * writes to the same file. Its failure is kept: it fails every later write, publish and commit.
   */
  private flushAhead(): void {
    const handle = this.handle;
    if (!handle || this.flushing || this.flushFailure || this.written - this.flushMark < FLUSH_AHEAD_BYTES) return;
    this.flushMark = this.written;
    this.flushing = handle.datasync().then(
      () => {
        this.flushing = undefined;
        this.flushAhead();
      },
      (error: unknown) => {
        this.flushing = undefined;
        this.flushFailure = { error };
      },
    );
  }

  /** Writes `chunks` at the end of the upload, resuming after short writes. */
  private async writeAll(handle: FileHandle, chunks: Uint8Array[], { freeWritten }: AppendOptions): Promise<void> {
    let pending = chunks;
    while (pending.length > 0) {
      const { bytesWritten } = await handle.writev(pending, this.written);
      if (bytesWritten === 0) throw new Error('write made no progress');
      this.touchedAt = Date.now();
      this.written += bytesWritten;
      pending = dropBytes(pending, bytesWritten);
      this.flushAhead();
    }
    if (freeWritten) for (const chunk of chunks) freeChunk(chunk);
  }
}

/** `chunks` without their first `count` bytes. */
function dropBytes(chunks: Uint8Array[], count: number): Uint8Array[] {
  let remaining = count;
  let index = 0;
  while (index < chunks.length && remaining >= chunks[index]!.byteLength) {
    remaining -= chunks[index]!.byteLength;
    index += 1;
  }
  const rest = chunks.slice(index);
  if (remaining > 0 && rest.length > 0) rest[0] = rest[0]!.subarray(remaining);
  return rest;
}

async function closeQuietly(iterator: AsyncIterator<unknown>): Promise<void> {
  try {
    await iterator.return?.();
  } catch {
    // The write error is the one to report.
  }
}

/** Creates `path` empty and opens it for writing; undefined if it exists. */
async function createNewFile(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o644);
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return undefined;
    throw error;
  }
}

/** Opens an upload for writing, or read-only once published (mode 0444, see `makeDurable`). */
async function openUploadFile(path: string, flags: number): Promise<FileHandle> {
  try {
    return await open(path, flags, 0o644);
  } catch (error) {
    if (errorCode(error) !== 'EACCES') throw error;
    return await open(path, constants.O_RDONLY);
  }
}

/** Waits for every operation given and rejects with the first failure, if any. */
async function settleAll(...operations: (Promise<unknown> | undefined)[]): Promise<void> {
  const failed = (await Promise.allSettled(operations)).find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
}

function openDir(path: string): Promise<FileHandle> {
  return open(path, constants.O_RDONLY | constants.O_DIRECTORY);
}

async function fsyncDir(path: string): Promise<void> {
  const handle = await openDir(path);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function removeFile(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false;
    throw error;
  }
}

async function listNames(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return [];
    throw error;
  }
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
