import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { digestOf } from '../src/oci/digest.ts';
import { BlobNotFoundError, BlobStoreError } from '../src/store/blob-store.ts';
import { CheckedBlobStore } from '../src/store/checked-blob-store.ts';
import { FsBlobStore } from '../src/store/fs-blob-store.ts';
import { openBlobStore } from '../src/store/index.ts';
import { blobStoreContract, chunked, collect, publish } from './contract/blob-store.contract.ts';
import { readBlob, readerBytes, readerChunks } from './helpers/blob-reads.ts';

async function tempRoot(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'berth-store-'));
}

async function withRoot(test: (root: string, store: CheckedBlobStore) => Promise<void>): Promise<void> {
  const root = await tempRoot();
  try {
    await test(root, openBlobStore({ driver: 'fs', root }));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** Every file under `root`, as paths relative to it. */
async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .sort();
}

blobStoreContract('fs', async () => {
  const root = await tempRoot();
  return {
    store: openBlobStore({ driver: 'fs', root }),
    reopen: async () => openBlobStore({ driver: 'fs', root }),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

describe('FsBlobStore on disk', () => {
  it('keeps an upload under uploads/<id> and publishes it to blobs/<algorithm>/<xx>/<encoded>, read-only', () =>
    withRoot(async (root, store) => {
      const content = Buffer.from('layout');
      const digest = digestOf(content);
      const encoded = digest.slice('sha256:'.length);
      const writer = await store.openUpload('upload-1');
      await writer.append(chunked(content, [3]));
      assert.deepEqual(await filesUnder(root), ['uploads/upload-1']);

      await writer.commit(digest);
      assert.deepEqual(await filesUnder(root), [`blobs/sha256/${encoded.slice(0, 2)}/${encoded}`]);
      const info = await stat(join(root, 'blobs', 'sha256', encoded.slice(0, 2), encoded));
      assert.equal(info.size, content.length);
      assert.equal(info.mode & 0o777, 0o444);

      const sha512 = await publish(store, content, 'sha512');
      const encoded512 = sha512.slice('sha512:'.length);
      assert.ok((await filesUnder(root)).includes(`blobs/sha512/${encoded512.slice(0, 2)}/${encoded512}`));
    }));

  it('leaves no temporary or upload files behind after commits, dedupes and cancels', () =>
    withRoot(async (root, store) => {
      const contents = [randomBytes(10), randomBytes(3 * 1024 * 1024), Buffer.alloc(0)];
      const digests = await Promise.all(contents.map((content) => publish(store, content)));
      await publish(store, contents[0]!);
      const cancelled = await store.openUpload(randomUUID());
      await cancelled.append(chunked(randomBytes(100), [10]));
      await cancelled.cancel();

      const expected = digests.map((digest) => {
        const encoded = digest.slice('sha256:'.length);
        return `blobs/sha256/${encoded.slice(0, 2)}/${encoded}`;
      });
      assert.deepEqual(await filesUnder(root), expected.sort());
      assert.deepEqual(await readdir(join(root, 'uploads')), []);
    }));

  it('resumes an upload file left by a crashed process', () =>
    withRoot(async (root, store) => {
      await mkdir(join(root, 'uploads'), { recursive: true });
      await writeFile(join(root, 'uploads', 'crashed'), 'partial ');
      const writer = await store.openUpload('crashed');
      assert.equal(writer.size, 8);
      await writer.append(chunked(Buffer.from('bytes'), [5]));
      await writer.commit(digestOf('partial bytes'));
      assert.equal((await readBlob(store, digestOf('partial bytes'))).toString(), 'partial bytes');
    }));

  it('ignores stray files in blobs/ and uploads/', () =>
    withRoot(async (root, store) => {
      const digest = await publish(store, Buffer.from('real'));
      const fanOut = join(root, 'blobs', 'sha256', digest.slice(7, 9));
      await writeFile(join(fanOut, 'junk'), 'x');
      await writeFile(join(fanOut, `${'f'.repeat(64)}`), 'wrong fan-out');
      await mkdir(join(root, 'blobs', 'md5', 'ab'), { recursive: true });
      await writeFile(join(root, 'blobs', 'md5', 'ab', 'abcd'), 'x');
      await writeFile(join(root, 'blobs', 'sha256', 'loose'), 'x');
      await writeFile(join(root, 'uploads', '.hidden.tmp'), 'x');
      assert.deepEqual(await collect(store.list()), [digest]);
      assert.deepEqual(await collect(store.listUploads()), []);
    }));

  it('lets a reader that opened a blob before its deletion read all of it', () =>
    withRoot(async (_root, store) => {
      const content = randomBytes(3 * 1024 * 1024);
      const digest = await publish(store, content);
      const reader = await store.openReader(digest);
      try {
        assert.equal(await store.delete(digest), true);
        assert.equal(digestOf(await readerBytes(reader)), digest);
      } finally {
        await reader.close();
      }
    }));

  it('holds one file descriptor per open reader and releases it on close', () =>
    withRoot(async (_root, store) => {
      const digest = await publish(store, randomBytes(4 * 1024 * 1024));
      const openFiles = async () => (await readdir('/proc/self/fd')).length;
      const before = await openFiles();
      const reader = await store.openReader(digest);
      assert.equal(await openFiles(), before + 1);
      assert.equal(await reader.readInto(Buffer.alloc(65_536), 0), 65_536);
      await reader.close();
      assert.equal(await openFiles(), before);
    }));

  it('reports storage failures without paths, and counts them', () =>
    withRoot(async (root, store) => {
      const writer = await store.openUpload(randomUUID());
      await writer.append(chunked(Buffer.from('doomed'), [6]));
      // A file where the blobs directory should be makes every blob path fail with ENOTDIR.
      await writeFile(join(root, 'blobs'), 'not a directory');
      await assert.rejects(writer.commit(digestOf('doomed')), (error: unknown) => {
        assert.ok(error instanceof BlobStoreError);
        assert.equal(error.message, 'blob store commit failed (ENOTDIR)');
        assert.ok(!error.message.includes(root) && !error.stack?.split('\n')[0]?.includes(root));
        return true;
      });
      await assert.rejects(store.stat(digestOf('doomed')), (error: unknown) => {
        assert.ok(error instanceof BlobStoreError);
        assert.ok(!error.message.includes(root));
        return true;
      });
      const metrics = store.metrics();
      assert.equal(metrics.failures.commit, 1);
      assert.equal(metrics.failures.stat, 1);
    }));

  it('counts operations and bytes', () =>
    withRoot(async (_root, store) => {
      const content = randomBytes(100_000);
      const digest = await publish(store, content);
      await readBlob(store, digest);
      const reader = await store.openReader(digest);
      assert.equal(await reader.readInto(Buffer.alloc(1000), 0), 1000);
      await reader.close();
      await assert.rejects(store.openReader(digestOf('absent')), BlobNotFoundError);
      await store.stat(digest);
      const metrics = store.metrics();
      assert.equal(metrics.operations.openUpload, 1);
      assert.equal(metrics.operations.append, 1);
      assert.equal(metrics.operations.commit, 1);
      assert.equal(metrics.operations.read, 3);
      assert.equal(metrics.operations.stat, 1);
      assert.equal(metrics.bytesWritten, content.length);
      assert.equal(metrics.bytesRead, content.length + 1000);
      assert.equal(Object.values(metrics.failures).reduce((sum, count) => sum + count, 0), 0);
    }));

  it('rejects invalid keys even when used without the checked decorator', async () => {
    const root = await tempRoot();
    try {
      const raw = new FsBlobStore(root);
      await assert.rejects(raw.stat('sha256:../x'));
      await assert.rejects(raw.openUpload('../escape'));
      assert.deepEqual(await filesUnder(root), []);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('streams a 64 MiB blob through append, commit and positional reads without buffering it', { timeout: 120_000 }, () =>
    withRoot(async (_root, store) => {
      const total = 64 * 1024 * 1024;
      const sizes = [65_536, 1, 16_384, 3 * 1024 * 1024, 1000];
      const pushed = createHash('sha256');
      async function* generate(): AsyncIterable<Uint8Array> {
        let sent = 0;
        for (let index = 0; sent < total; index += 1) {
          const chunk = randomBytes(Math.min(sizes[index % sizes.length]!, total - sent));
          pushed.update(chunk);
          sent += chunk.length;
          yield chunk;
        }
      }
      const writer = await store.openUpload(randomUUID());
      assert.equal(await writer.append(generate()), total);
      const digest = `sha256:${pushed.digest('hex')}`;
      await writer.commit(digest);
      assert.equal((await store.stat(digest))?.size, total);

      const pulled = createHash('sha256');
      let received = 0;
      const reader = await store.openReader(digest);
      try {
        for await (const chunk of readerChunks(reader)) {
          pulled.update(chunk);
          received += chunk.length;
        }
      } finally {
        await reader.close();
      }
      assert.equal(received, total);
      assert.equal(`sha256:${pulled.digest('hex')}`, digest);
    }));
});
