/**
 * The decorator every blob store driver is used through. It
 * - validates keys before a driver sees them: digests with `parseDigest`, upload ids with
 *   `isUploadId`, read positions and truncation sizes — so no key can name a path;
 * - normalises driver errors: a missing blob is `BlobNotFoundError`, a vanished upload is
 *   `BLOB_UPLOAD_UNKNOWN`, anything else a `BlobStoreError` whose message names no path;
 *   errors of the caller's own source stream pass through unchanged;
 * - counts operations, failures and bytes in memory for `/metrics`.
 */
import { Transform, type Readable } from 'node:stream';
import { parseDigest } from '../oci/digest.ts';
import { RegistryError } from '../oci/errors.ts';
import {
  BlobNotFoundError,
  BlobStoreError,
  isUploadId,
  type AppendOptions,
  type BlobInfo,
  type BlobReader,
  type BlobStore,
  type UploadInfo,
  type UploadWriter,
} from './blob-store.ts';

const operationNames = [
  'stat',
  'read',
  'delete',
  'list',
  'openUpload',
  'deleteUpload',
  'listUploads',
  'append',
  'truncate',
  'readUpload',
  'publish',
  'commit',
  'cancel',
  'close',
] as const;

export type BlobStoreOperation = (typeof operationNames)[number];

const uploadOperations: ReadonlySet<BlobStoreOperation> = new Set([
  'openUpload',
  'append',
  'truncate',
  'readUpload',
  'publish',
  'commit',
  'cancel',
]);

export interface BlobStoreMetrics {
  /** Calls per operation, whatever their outcome. */
  operations: Record<BlobStoreOperation, number>;
  /** Storage failures per operation (`BlobStoreError`s); invalid keys and absent blobs are not failures. */
  failures: Record<BlobStoreOperation, number>;
  /** Bytes streamed out of blobs and uploads. */
  bytesRead: number;
  /** Bytes appended to uploads. */
  bytesWritten: number;
}

export class CheckedBlobStore implements BlobStore {
  private readonly meter = new Meter();

  constructor(private readonly driver: BlobStore) {}

  /** A snapshot of the counters since this store was created. */
  metrics(): BlobStoreMetrics {
    return this.meter.snapshot();
  }

  stat(digest: string): Promise<BlobInfo | undefined> {
    return this.meter.run('stat', () => this.driver.stat(parseDigest(digest).digest), digest);
  }

  openReader(digest: string): Promise<BlobReader> {
    return this.meter.run(
      'read',
      async () => new CheckedBlobReader(await this.driver.openReader(parseDigest(digest).digest), this.meter, digest),
      digest,
    );
  }

  delete(digest: string): Promise<boolean> {
    return this.meter.run('delete', () => this.driver.delete(parseDigest(digest).digest), digest);
  }

  list(): AsyncIterable<string> {
    return this.meter.iterate('list', () => this.driver.list());
  }

  openUpload(id: string, options?: { create?: boolean }): Promise<UploadWriter> {
    return this.meter.run('openUpload', async () => {
      checkUploadId(id);
      return new CheckedUploadWriter(await this.driver.openUpload(id, options), this.meter);
    });
  }

  deleteUpload(id: string): Promise<boolean> {
    return this.meter.run('deleteUpload', () => {
      checkUploadId(id);
      return this.driver.deleteUpload(id);
    });
  }

  listUploads(): AsyncIterable<UploadInfo> {
    return this.meter.iterate('listUploads', () => this.driver.listUploads());
  }
}

class CheckedBlobReader implements BlobReader {
  constructor(
    private readonly reader: BlobReader,
    private readonly meter: Meter,
    private readonly digest: string,
  ) {}

  get size(): number {
    return this.reader.size;
  }

  async readInto(buffer: Buffer, position: number): Promise<number> {
    if (!Number.isSafeInteger(position) || position < 0) throw new RegistryError('RANGE_INVALID', `invalid read position ${position}`);
    try {
      const bytes = await this.reader.readInto(buffer, position);
      this.meter.addRead(bytes);
      return bytes;
    } catch (error) {
      throw this.meter.normalise('read', error, this.digest);
    }
  }

  async close(): Promise<void> {
    try {
      await this.reader.close();
    } catch (error) {
      throw this.meter.normalise('read', error, this.digest);
    }
  }
}

class CheckedUploadWriter implements UploadWriter {
  constructor(
    private readonly writer: UploadWriter,
    private readonly meter: Meter,
  ) {}

  get id(): string {
    return this.writer.id;
  }

  get size(): number {
    return this.writer.size;
  }

  async append(source: AsyncIterable<Uint8Array>, options?: AppendOptions): Promise<number> {
    let sourceFailure: { error: unknown } | undefined;
    async function* tracked(): AsyncIterable<Uint8Array> {
      try {
        yield* source;
      } catch (error) {
        sourceFailure = { error };
        throw error;
      }
    }
    const before = this.writer.size;
    this.meter.count('append');
    try {
      return await this.writer.append(tracked(), options);
    } catch (error) {
      if (sourceFailure && error === sourceFailure.error) throw error;
      throw this.meter.normalise('append', error);
    } finally {
      this.meter.addWritten(Math.max(0, this.writer.size - before));
    }
  }

  truncate(size: number): Promise<void> {
    return this.meter.run('truncate', () => {
      if (!Number.isSafeInteger(size) || size < 0 || size > this.writer.size) {
        throw new RegistryError('BLOB_UPLOAD_INVALID', `cannot truncate an upload of ${this.writer.size} bytes to ${size}`);
      }
      return this.writer.truncate(size);
    });
  }

  read(): Readable {
    return this.meter.runSync('readUpload', () => this.meter.countBytes('readUpload', this.writer.read()));
  }

  publish(digest: string): Promise<void> {
    return this.meter.run('publish', () => this.writer.publish(parseDigest(digest).digest));
  }

  commit(digest: string): Promise<void> {
    return this.meter.run('commit', () => this.writer.commit(parseDigest(digest).digest));
  }

  cancel(): Promise<void> {
    return this.meter.run('cancel', () => this.writer.cancel());
  }

  close(): Promise<void> {
    return this.meter.run('close', () => this.writer.close());
  }
}

/** Counters plus the error normalisation shared by the store and its writers. */
class Meter {
  private readonly operations = counters();
  private readonly failures = counters();
  private bytesRead = 0;
  private bytesWritten = 0;

  snapshot(): BlobStoreMetrics {
    return {
      operations: { ...this.operations },
      failures: { ...this.failures },
      bytesRead: this.bytesRead,
      bytesWritten: this.bytesWritten,
    };
  }

  addWritten(bytes: number): void {
    this.bytesWritten += bytes;
  }

  addRead(bytes: number): void {
    this.bytesRead += bytes;
  }

  count(operation: BlobStoreOperation): void {
    this.operations[operation] += 1;
  }

  async run<T>(operation: BlobStoreOperation, action: () => Promise<T>, digest?: string): Promise<T> {
    this.count(operation);
    try {
      return await action();
    } catch (error) {
      throw this.normalise(operation, error, digest);
    }
  }

  runSync<T>(operation: BlobStoreOperation, action: () => T): T {
    this.count(operation);
    try {
      return action();
    } catch (error) {
      throw this.normalise(operation, error);
    }
  }

  async *iterate<T>(operation: BlobStoreOperation, source: () => AsyncIterable<T>): AsyncIterable<T> {
    this.count(operation);
    try {
      yield* source();
    } catch (error) {
      throw this.normalise(operation, error);
    }
  }

  /** Passes `stream` through, counting its bytes and normalising its errors. */
  countBytes(operation: BlobStoreOperation, stream: Readable): Readable {
    const counted = new Transform({
      highWaterMark: stream.readableHighWaterMark,
      transform: (chunk: Buffer, _encoding, done) => {
        this.bytesRead += chunk.length;
        done(null, chunk);
      },
    });
    stream.on('error', (error) => counted.destroy(this.normalise(operation, error)));
    // A consumer that stops early (a client hanging up) releases the driver's stream too.
    counted.on('close', () => stream.destroy());
    return stream.pipe(counted);
  }

  normalise(operation: BlobStoreOperation, error: unknown, digest?: string): Error {
    if (error instanceof RegistryError || error instanceof BlobNotFoundError) return error;
    if (error instanceof BlobStoreError) {
      this.failures[operation] += 1;
      return error;
    }
    const code = safeCode(error);
    if (code === 'ENOENT' && operation === 'read' && digest) return new BlobNotFoundError(digest);
    if (code === 'ENOENT' && uploadOperations.has(operation)) return new RegistryError('BLOB_UPLOAD_UNKNOWN');
    this.failures[operation] += 1;
    return new BlobStoreError(operation, code, { cause: error });
  }
}

function counters(): Record<BlobStoreOperation, number> {
  return Object.fromEntries(operationNames.map((name) => [name, 0])) as Record<BlobStoreOperation, number>;
}

/** A driver's error code when it is a plain identifier (`ENOSPC`, `SlowDown`), never free text. */
function safeCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[A-Za-z][A-Za-z0-9_]{0,39}$/.test(code) ? code : undefined;
}

function checkUploadId(id: string): void {
  if (typeof id !== 'string' || !isUploadId(id)) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', 'invalid upload id');
}
