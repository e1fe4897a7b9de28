/**
 * How the filesystem store creates and publishes uploads: a new upload is created without asking
 * the file, an existing one is reopened as it is, and a published blob is read-only from the
 * moment it has a name, with the time of publishing as its mtime (set again only when the
 * upload's own mtime is stale). `FileHandle.prototype.utimes` is observed.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, open, rm, stat, utimes, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { digestOf } from '../src/oci/digest.ts';
import { FsBlobStore } from '../src/store/fs-blob-store.ts';
import { chunked } from './contract/blob-store.contract.ts';

type Utimes = FileHandle['utimes'];

describe('FsBlobStore publishing', () => {
  let root: string;
  let prototype: { utimes: Utimes };
  let originalUtimes: Utimes;
  let utimesCalls: number;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'berth-publish-'));
    const probe = await open(join(root, 'probe'), 'w');
    prototype = Object.getPrototypeOf(probe) as { utimes: Utimes };
    await probe.close();
    originalUtimes = prototype.utimes;
    utimesCalls = 0;
    prototype.utimes = function (this: FileHandle, ...args: Parameters<Utimes>) {
      utimesCalls += 1;
      return originalUtimes.apply(this, args);
    };
  });

  afterEach(async () => {
    prototype.utimes = originalUtimes;
    await rm(root, { recursive: true, force: true });
  });

  const blobPath = (digest: string): string => {
    const encoded = digest.slice('sha256:'.length);
    return join(root, 'blobs', 'sha256', encoded.slice(0, 2), encoded);
  };

  it('creates a new upload empty and writable, and reopens an existing one as it is', async () => {
    const id = randomUUID();
    const created = await new FsBlobStore(root).openUpload(id);
    assert.equal(created.size, 0);
    await created.append(chunked(Buffer.from('hello'), [5]));
    await created.close();
    const info = await stat(join(root, 'uploads', id));
    assert.equal(info.mode & 0o777, 0o644);
    // Another store has nothing parked: it opens the file that is there, without truncating it.
    const reopened = await new FsBlobStore(root).openUpload(id);
    assert.equal(reopened.size, 5);
    await reopened.append(chunked(Buffer.from('!'), [1]));
    assert.equal(reopened.size, 6);
    await reopened.cancel();
  });

  it('publishes a freshly written upload read-only, keeping the mtime its writes gave it', async () => {
    const store = new FsBlobStore(root);
    const content = randomBytes(1000);
    const digest = digestOf(content);
    const writer = await store.openUpload(randomUUID());
    await writer.append(chunked(content, [300]));
    const before = Date.now();
    await writer.publish(digest);
    assert.equal(utimesCalls, 0, 'no utimes for a file written a moment ago');
    const blob = await stat(blobPath(digest));
    assert.equal(blob.mode & 0o777, 0o444);
    assert.ok(Math.abs(blob.mtimeMs - before) < 1000, 'the blob is about as recent as its publishing');
    await writer.commit(digest);
    await writer.close();
    assert.equal((await stat(blobPath(digest))).nlink, 1, 'the upload name is gone');
  });

  it('sets the mtime of an upload written long ago to the time of publishing', async () => {
    const content = randomBytes(100);
    const digest = digestOf(content);
    const id = randomUUID();
    const first = await new FsBlobStore(root).openUpload(id);
    await first.append(chunked(content, [100]));
    await first.close();
    const old = new Date(Date.now() - 3600_000);
    await utimes(join(root, 'uploads', id), old, old);
    // A new store does not know when the file was written: it sets the mtime.
    const writer = await new FsBlobStore(root).openUpload(id, { create: false });
    const before = Date.now();
    await writer.commit(digest);
    assert.equal(utimesCalls, 1);
    const blob = await stat(blobPath(digest));
    assert.equal(blob.mode & 0o777, 0o444);
    assert.ok(blob.mtimeMs >= before - 1000, 'the blob counts as new');
  });
});
