/**
 * The contract every `BlobStore` driver must pass, used the way the server uses it: through
 * `CheckedBlobStore`. Each driver's test file calls `blobStoreContract` with a factory for fresh,
 * empty storage.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { digestOf } from '../../src/oci/digest.ts';
import { RegistryError } from '../../src/oci/errors.ts';
import { BlobNotFoundError, type BlobStore, type UploadWriter } from '../../src/store/blob-store.ts';
import { readBlob } from '../helpers/blob-reads.ts';

export interface BlobStoreFixture {
  store: BlobStore;
  /** A new store instance on the same storage, as after a process restart. */
  reopen(): Promise<BlobStore>;
  /** Removes the storage. */
  cleanup(): Promise<void>;
}

export function blobStoreContract(name: string, make: () => Promise<BlobStoreFixture>): void {
  async function withStore(test: (fixture: BlobStoreFixture) => Promise<void>): Promise<void> {
    const fixture = await make();
    try {
      await test(fixture);
    } finally {
      await fixture.cleanup();
    }
  }

  describe(`BlobStore contract: ${name}`, () => {
    describe('published blobs', () => {
      it('stats, reads and lists a committed blob', () =>
        withStore(async ({ store }) => {
          const content = randomBytes(10_000);
          const digest = await publish(store, content);
          assert.equal((await store.stat(digest))?.size, content.length);
          assert.deepEqual(await readBlob(store, digest), content);
          assert.deepEqual(await collect(store.list()), [digest]);
        }));

      it('lists sha256 and sha512 blobs', () =>
        withStore(async ({ store }) => {
          const a = await publish(store, Buffer.from('a'));
          const b = await publish(store, Buffer.from('b'));
          const c = await publish(store, Buffer.from('c'), 'sha512');
          assert.deepEqual((await collect(store.list())).sort(), [a, b, c].sort());
        }));

      it('reads an empty blob', () =>
        withStore(async ({ store }) => {
          const digest = await publish(store, Buffer.alloc(0));
          assert.equal((await store.stat(digest))?.size, 0);
          assert.equal((await readBlob(store, digest)).length, 0);
        }));

      it('reads any span at any position', () =>
        withStore(async ({ store }) => {
          const content = randomBytes(5000);
          const digest = await publish(store, content);
          const reader = await store.openReader(digest);
          try {
            for (const [position, length] of [[0, 1], [100, 1000], [4999, 1]] as const) {
              const buffer = Buffer.alloc(length);
              assert.equal(await reader.readInto(buffer, position), length);
              assert.deepEqual(buffer, content.subarray(position, position + length));
            }
          } finally {
            await reader.close();
          }
        }));

      it('rejects reading a missing blob with BlobNotFoundError', () =>
        withStore(async ({ store }) => {
          const digest = digestOf('never pushed');
          await assert.rejects(store.openReader(digest), (error: unknown) => {
            assert.ok(error instanceof BlobNotFoundError);
            assert.equal(error.digest, digest);
            return true;
          });
          assert.equal(await store.stat(digest), undefined);
        }));

      it('opens a blob for positional reads into the caller\'s buffers', () =>
        withStore(async ({ store }) => {
          const content = randomBytes(5000);
          const digest = await publish(store, content);
          const reader = await store.openReader(digest);
          try {
            assert.equal(reader.size, 5000);
            const buffer = Buffer.alloc(2048);
            assert.equal(await reader.readInto(buffer, 0), 2048);
            assert.deepEqual(buffer, content.subarray(0, 2048));
            assert.equal(await reader.readInto(buffer, 4000), 1000, 'fewer bytes only at the end');
            assert.deepEqual(buffer.subarray(0, 1000), content.subarray(4000));
            assert.equal(await reader.readInto(buffer, 5000), 0);
            await assert.rejects(reader.readInto(buffer, -1), isRegistryError('RANGE_INVALID'));
          } finally {
            await reader.close();
          }
          await assert.rejects(store.openReader(digestOf('never pushed')), BlobNotFoundError);
        }));

      it('keeps serving an open reader after the blob is deleted', () =>
        withStore(async ({ store }) => {
          const content = randomBytes(3000);
          const digest = await publish(store, content);
          const reader = await store.openReader(digest);
          try {
            await store.delete(digest);
            const buffer = Buffer.alloc(3000);
            assert.equal(await reader.readInto(buffer, 0), 3000);
            assert.deepEqual(buffer, content);
          } finally {
            await reader.close();
          }
        }));

      it('deletes a blob once', () =>
        withStore(async ({ store }) => {
          const keep = await publish(store, Buffer.from('keep'));
          const gone = await publish(store, Buffer.from('gone'));
          assert.equal(await store.delete(gone), true);
          assert.equal(await store.delete(gone), false);
          assert.equal(await store.stat(gone), undefined);
          await assert.rejects(store.openReader(gone), BlobNotFoundError);
          assert.deepEqual(await collect(store.list()), [keep]);
        }));
    });

    describe('uploads', () => {
      it('creates an empty upload on first open', () =>
        withStore(async ({ store }) => {
          const writer = await store.openUpload(randomUUID());
          assert.equal(writer.size, 0);
          assert.equal((await readAll(writer.read())).length, 0);
          assert.deepEqual((await collect(store.listUploads())).map((u) => [u.id, u.size]), [[writer.id, 0]]);
          await writer.close();
        }));

      it('does not create an upload when asked not to', () =>
        withStore(async ({ store }) => {
          const id = randomUUID();
          await assert.rejects(store.openUpload(id, { create: false }), isRegistryError('BLOB_UPLOAD_UNKNOWN'));
          assert.deepEqual(await collect(store.listUploads()), []);
          await (await store.openUpload(id)).close();
          const reopened = await store.openUpload(id, { create: false });
          assert.equal(reopened.size, 0);
          await reopened.close();
        }));

      it('appends chunks in order over several calls, skipping empty chunks', () =>
        withStore(async ({ store }) => {
          const parts = [Buffer.from('hello '), Buffer.alloc(0), Buffer.from('world'), randomBytes(3 * 1024 * 1024 + 7)];
          const writer = await store.openUpload(randomUUID());
          assert.equal(await writer.append(chunked(Buffer.concat(parts.slice(0, 3)), [1, 0, 3])), 11);
          assert.equal(writer.size, 11);
          assert.equal(await writer.append(chunked(parts[3]!, [1, 4096, 65_536, 2 * 1024 * 1024])), parts[3]!.length);
          assert.equal(await writer.append(chunked(Buffer.alloc(0), [])), 0);
          const content = Buffer.concat(parts);
          assert.equal(writer.size, content.length);
          assert.deepEqual(sha256(await readAll(writer.read())), sha256(content));
          const digest = digestOf(content);
          await writer.commit(digest);
          assert.deepEqual(sha256(await readBlob(store, digest)), sha256(content));
        }));

      it('appends many tiny chunks', () =>
        withStore(async ({ store }) => {
          const content = randomBytes(20_000);
          const writer = await store.openUpload(randomUUID());
          assert.equal(await writer.append(chunked(content, [1])), content.length);
          await writer.commit(digestOf(content));
          assert.deepEqual(await readBlob(store, digestOf(content)), content);
        }));

      it('continues an upload at the right size on a new store instance', () =>
        withStore(async ({ store, reopen }) => {
          const id = randomUUID();
          const first = randomBytes(70_000);
          const second = randomBytes(50_000);
          const before = await store.openUpload(id);
          await before.append(chunked(first, [30_000]));
          await before.close();

          const restarted = await reopen();
          const after = await restarted.openUpload(id);
          assert.equal(after.size, first.length);
          assert.deepEqual(await readAll(after.read()), first);
          await after.append(chunked(second, [8192]));
          const digest = digestOf(Buffer.concat([first, second]));
          await after.commit(digest);
          assert.deepEqual(await readBlob(restarted, digest), Buffer.concat([first, second]));
          assert.deepEqual(await collect(restarted.listUploads()), []);
        }));

      it('truncates an upload and appends from the new end', () =>
        withStore(async ({ store }) => {
          const writer = await store.openUpload(randomUUID());
          await writer.append(chunked(Buffer.from('good bytes'), [4]));
          await writer.append(chunked(Buffer.from(' rejected chunk'), [5]));
          await writer.truncate(10);
          assert.equal(writer.size, 10);
          await writer.append(chunked(Buffer.from(' more'), [5]));
          assert.equal((await readAll(writer.read())).toString(), 'good bytes more');
          await writer.truncate(0);
          assert.equal((await readAll(writer.read())).length, 0);
          await writer.cancel();
        }));

      it('refuses to truncate beyond the upload or to a negative size', () =>
        withStore(async ({ store }) => {
          const writer = await store.openUpload(randomUUID());
          await writer.append(chunked(Buffer.from('abc'), [3]));
          await assert.rejects(writer.truncate(4), isRegistryError('BLOB_UPLOAD_INVALID'));
          await assert.rejects(writer.truncate(-1), isRegistryError('BLOB_UPLOAD_INVALID'));
          assert.equal(writer.size, 3);
          await writer.close();
        }));

      it('keeps what a failing source delivered and rethrows its error unchanged', () =>
        withStore(async ({ store }) => {
          const failure = new Error('client went away');
          async function* failing(): AsyncIterable<Uint8Array> {
            yield Buffer.from('first ');
            yield Buffer.from('second');
            throw failure;
          }
          const writer = await store.openUpload(randomUUID());
          await assert.rejects(writer.append(failing()), (error) => error === failure);
          assert.equal(writer.size, 12);
          assert.equal((await readAll(writer.read())).toString(), 'first second');
          await writer.append(chunked(Buffer.from('!'), [1]));
          assert.equal((await readAll(writer.read())).toString(), 'first second!');
          await writer.close();
        }));

      it('passes a RegistryError thrown by the source through unchanged', () =>
        withStore(async ({ store }) => {
          const tooBig = new RegistryError('SIZE_INVALID');
          async function* failing(): AsyncIterable<Uint8Array> {
            yield Buffer.from('x');
            throw tooBig;
          }
          const writer = await store.openUpload(randomUUID());
          await assert.rejects(writer.append(failing()), (error) => error === tooBig);
          await writer.cancel();
        }));

      it('runs calls on one writer in call order', () =>
        withStore(async ({ store }) => {
          const writer = await store.openUpload(randomUUID());
          const first = writer.append(chunked(Buffer.from('abcdef'), [2]));
          const second = writer.append(chunked(Buffer.from('ghi'), [1]));
          assert.deepEqual(await Promise.all([first, second]), [6, 3]);
          assert.equal((await readAll(writer.read())).toString(), 'abcdefghi');
          await writer.cancel();
        }));

      it('lists uploads with id, size and modification time', () =>
        withStore(async ({ store }) => {
          const started = Date.now() - 2000;
          const a = await store.openUpload(randomUUID());
          const b = await store.openUpload('legacy_upload-1');
          await a.append(chunked(Buffer.from('12345'), [5]));
          const uploads = (await collect(store.listUploads())).sort((x, y) => x.size - y.size);
          assert.deepEqual(uploads.map((u) => [u.id, u.size]), [[b.id, 0], [a.id, 5]]);
          for (const upload of uploads) {
            assert.ok(upload.modified instanceof Date);
            assert.ok(upload.modified.getTime() >= started && upload.modified.getTime() <= Date.now() + 2000);
          }
          await a.close();
          await b.close();
        }));

      it('deletes an upload once', () =>
        withStore(async ({ store }) => {
          const writer = await store.openUpload(randomUUID());
          await writer.append(chunked(Buffer.from('abc'), [3]));
          await writer.close();
          assert.equal(await store.deleteUpload(writer.id), true);
          assert.equal(await store.deleteUpload(writer.id), false);
          assert.deepEqual(await collect(store.listUploads()), []);
          assert.equal(await store.deleteUpload(randomUUID()), false);
        }));

      it('cancels an upload: bytes discarded, nothing published, writer closed', () =>
        withStore(async ({ store }) => {
          const content = Buffer.from('cancelled');
          const writer = await store.openUpload(randomUUID());
          await writer.append(chunked(content, [3]));
          await writer.cancel();
          assert.deepEqual(await collect(store.listUploads()), []);
          assert.deepEqual(await collect(store.list()), []);
          assert.equal(await store.stat(digestOf(content)), undefined);
          await assert.rejects(writer.append(chunked(content, [3])), isRegistryError('BLOB_UPLOAD_UNKNOWN'));
        }));
    });

    describe('commit', () => {
      it('publishes atomically: nothing is visible before commit', () =>
        withStore(async ({ store }) => {
          const content = randomBytes(2 * 1024 * 1024 + 5);
          const digest = digestOf(content);
          const writer = await store.openUpload(randomUUID());
          await writer.append(chunked(content, [65_536]));
          assert.equal(await store.stat(digest), undefined);
          await assert.rejects(store.openReader(digest), BlobNotFoundError);
          assert.deepEqual(await collect(store.list()), []);

          await writer.commit(digest);
          assert.equal((await store.stat(digest))?.size, content.length);
          assert.deepEqual(sha256(await readBlob(store, digest)), sha256(content));
          assert.deepEqual(await collect(store.list()), [digest]);
          assert.deepEqual(await collect(store.listUploads()), []);
        }));

      it('closes the writer', () =>
        withStore(async ({ store }) => {
          const writer = await store.openUpload(randomUUID());
          await writer.append(chunked(Buffer.from('x'), [1]));
          await writer.commit(digestOf('x'));
          await assert.rejects(writer.append(chunked(Buffer.from('y'), [1])), isRegistryError('BLOB_UPLOAD_UNKNOWN'));
          await assert.rejects(writer.commit(digestOf('x')), isRegistryError('BLOB_UPLOAD_UNKNOWN'));
          await writer.close();
        }));

      it('discards the upload when the blob already exists', () =>
        withStore(async ({ store }) => {
          const content = randomBytes(4096);
          const digest = await publish(store, content);
          const writer = await store.openUpload(randomUUID());
          await writer.append(chunked(content, [1000]));
          await writer.commit(digest);
          assert.deepEqual(await collect(store.list()), [digest]);
          assert.deepEqual(await collect(store.listUploads()), []);
          assert.deepEqual(await readBlob(store, digest), content);
        }));

      it('lets concurrent commits of the same digest both succeed, leaving one intact blob', () =>
        withStore(async ({ store }) => {
          const content = randomBytes(1024 * 1024 + 3);
          const digest = digestOf(content);
          const writers: UploadWriter[] = [];
          for (let i = 0; i < 4; i += 1) {
            const writer = await store.openUpload(randomUUID());
            await writer.append(chunked(content, [100_000]));
            writers.push(writer);
          }
          await Promise.all(writers.map((writer) => writer.commit(digest)));
          assert.deepEqual(await collect(store.list()), [digest]);
          assert.deepEqual(await collect(store.listUploads()), []);
          assert.equal((await store.stat(digest))?.size, content.length);
          assert.deepEqual(sha256(await readBlob(store, digest)), sha256(content));
        }));

      it('commits different blobs concurrently', () =>
        withStore(async ({ store }) => {
          const contents = Array.from({ length: 6 }, () => randomBytes(50_000));
          const digests = await Promise.all(contents.map((content) => publish(store, content)));
          assert.deepEqual((await collect(store.list())).sort(), [...digests].sort());
          for (const [index, digest] of digests.entries()) {
            assert.deepEqual(await readBlob(store, digest), contents[index]);
          }
        }));
    });

    describe('publish, then commit', () => {
      it('publishes the blob and keeps the upload until commit', () =>
        withStore(async ({ store }) => {
          const content = randomBytes(300_000);
          const digest = digestOf(content);
          const id = randomUUID();
          const writer = await store.openUpload(id);
          await writer.append(chunked(content, [65_536]));
          const before = Date.now();
          await writer.publish(digest);
          const info = await store.stat(digest);
          assert.equal(info?.size, content.length);
          assert.ok(info!.modified.getTime() >= before - 1000, 'a published blob counts as new');
          assert.deepEqual(await readBlob(store, digest), content);
          assert.deepEqual((await collect(store.listUploads())).map((upload) => upload.id), [id]);
          await writer.commit(digest);
          assert.deepEqual(await collect(store.listUploads()), []);
          assert.deepEqual(await readBlob(store, digest), content);
        }));

      it('publishes again at commit when the blob was deleted in between', () =>
        withStore(async ({ store }) => {
          const content = randomBytes(70_000);
          const digest = digestOf(content);
          const writer = await store.openUpload(randomUUID());
          await writer.append(chunked(content, [10_000]));
          await writer.publish(digest);
          assert.equal(await store.delete(digest), true);
          assert.equal(await store.stat(digest), undefined);
          await writer.commit(digest);
          assert.deepEqual(await readBlob(store, digest), content);
          assert.deepEqual(await collect(store.listUploads()), []);
        }));

      it('leaves an existing blob as it is', () =>
        withStore(async ({ store }) => {
          const content = randomBytes(5000);
          const digest = await publish(store, content);
          const writer = await store.openUpload(randomUUID());
          await writer.append(chunked(content, [1000]));
          await writer.publish(digest);
          await writer.commit(digest);
          assert.deepEqual(await collect(store.list()), [digest]);
          assert.deepEqual(await readBlob(store, digest), content);
        }));

      it('refuses more bytes to a published upload opened again (as after a crash), and still commits it', () =>
        withStore(async (fixture) => {
          const content = randomBytes(3000);
          const digest = digestOf(content);
          const id = randomUUID();
          const writer = await fixture.store.openUpload(id);
          await writer.append(chunked(content, [1000]));
          await writer.publish(digest);
          await writer.close();
          const store = await fixture.reopen();
          const again = await store.openUpload(id, { create: false });
          assert.equal(again.size, content.length);
          await assert.rejects(again.append(chunked(Buffer.from('more'), [4])), isRegistryError('BLOB_UPLOAD_INVALID'));
          await assert.rejects(again.truncate(0), isRegistryError('BLOB_UPLOAD_INVALID'));
          assert.deepEqual(await readAll(again.read()), content);
          await again.commit(digest);
          assert.deepEqual(await readBlob(store, digest), content);
          assert.deepEqual(await collect(store.listUploads()), []);
        }));

      it('refuses more bytes once published', () =>
        withStore(async ({ store }) => {
          const writer = await store.openUpload(randomUUID());
          await writer.append(chunked(Buffer.from('abc'), [3]));
          await writer.publish(digestOf('abc'));
          await assert.rejects(writer.append(chunked(Buffer.from('d'), [1])), isRegistryError('BLOB_UPLOAD_INVALID'));
          await assert.rejects(writer.truncate(1), isRegistryError('BLOB_UPLOAD_INVALID'));
          await writer.cancel();
          assert.deepEqual(await readBlob(store, digestOf('abc')), Buffer.from('abc'));
          assert.deepEqual(await collect(store.listUploads()), []);
        }));
    });

    describe('keys', () => {
      const badDigests = [
        '../../etc/passwd',
        'sha256:../x',
        'sha256:../../../../etc/passwd',
        `sha256:${'A'.repeat(64)}`,
        `sha256:${'a'.repeat(63)}`,
        `sha256:${'a'.repeat(64)}/..`,
        `md5:${'a'.repeat(32)}`,
        '',
      ];
      const badIds = ['../../etc/passwd', '..', '.', 'a/b', 'a\\b', '', 'x'.repeat(65), 'with space', 'nul\0byte', '%2e%2e'];

      it('rejects invalid digests in every blob operation', () =>
        withStore(async ({ store }) => {
          for (const digest of badDigests) {
            await assert.rejects(store.stat(digest), isRegistryError('DIGEST_INVALID'), digest);
            await assert.rejects(store.openReader(digest), isRegistryError('DIGEST_INVALID'), digest);
            await assert.rejects(store.delete(digest), isRegistryError('DIGEST_INVALID'), digest);
          }
        }));

      it('rejects committing under an invalid digest and keeps the upload', () =>
        withStore(async ({ store }) => {
          const writer = await store.openUpload(randomUUID());
          await writer.append(chunked(Buffer.from('payload'), [7]));
          for (const digest of badDigests) {
            await assert.rejects(writer.commit(digest), isRegistryError('DIGEST_INVALID'), digest);
          }
          assert.equal(writer.size, 7);
          await writer.commit(digestOf('payload'));
          assert.deepEqual(await collect(store.list()), [digestOf('payload')]);
        }));

      it('rejects invalid upload ids', () =>
        withStore(async ({ store }) => {
          for (const id of badIds) {
            await assert.rejects(store.openUpload(id), isRegistryError('BLOB_UPLOAD_UNKNOWN'), JSON.stringify(id));
            await assert.rejects(store.deleteUpload(id), isRegistryError('BLOB_UPLOAD_UNKNOWN'), JSON.stringify(id));
          }
          assert.deepEqual(await collect(store.listUploads()), []);
        }));

      it('accepts UUIDs and short safe ids', () =>
        withStore(async ({ store }) => {
          for (const id of [randomUUID(), 'a', 'A_b-9', 'x'.repeat(64)]) {
            const writer = await store.openUpload(id);
            assert.equal(writer.id, id);
            await writer.cancel();
          }
        }));
    });
  });
}

/** Uploads `content` through an upload session and returns its digest. */
export async function publish(store: BlobStore, content: Buffer, algorithm: 'sha256' | 'sha512' = 'sha256'): Promise<string> {
  const digest = digestOf(content, algorithm);
  const writer = await store.openUpload(randomUUID());
  await writer.append(chunked(content, [64 * 1024]));
  await writer.commit(digest);
  return digest;
}

/** Yields `content` in chunks whose sizes cycle through `sizes` (a size of 0 yields an empty chunk). */
export async function* chunked(content: Uint8Array, sizes: number[]): AsyncIterable<Uint8Array> {
  let offset = 0;
  for (let index = 0; offset < content.length; index += 1) {
    const size = sizes[index % sizes.length]!;
    yield content.subarray(offset, offset + size);
    offset += size;
  }
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const result: T[] = [];
  for await (const item of items) result.push(item);
  return result;
}

function sha256(content: Buffer): string {
  return digestOf(content);
}

function isRegistryError(code: string): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof RegistryError, `expected RegistryError ${code}, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  };
}
