/**
 * The filesystem upload writer's background flushing and its files kept open between requests.
 * Datasync calls are observed (and failures injected) on `FileHandle.prototype`. The driver itself
 * is used, so a missing upload is a plain ENOENT here (the checked store names it BLOB_UPLOAD_UNKNOWN).
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { appendFile, mkdtemp, open, readdir, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { digestOf } from '../src/oci/digest.ts';
import { FsBlobStore } from '../src/store/fs-blob-store.ts';
import { chunked, readAll } from './contract/blob-store.contract.ts';
import { readBlob } from './helpers/blob-reads.ts';
import { requestChunks, yieldAll } from './helpers/request-chunks.ts';

const MiB = 1024 * 1024;

type Datasync = FileHandle['datasync'];

describe('FsBlobStore upload writers', () => {
  let root: string;
  let store: FsBlobStore;
  let prototype: { datasync: Datasync };
  let originalDatasync: Datasync;
  /** Every datasync of an upload file, in call order. */
  let datasyncs: number;
  /** When set, the next datasync fails with this error instead of running, a little later. */
  let failNextDatasync: Error | undefined;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'berth-uploads-'));
    store = new FsBlobStore(root);
    const probe = await open(join(root, 'probe'), 'w');
    prototype = Object.getPrototypeOf(probe) as { datasync: Datasync };
    await probe.close();
    originalDatasync = prototype.datasync;
    datasyncs = 0;
    failNextDatasync = undefined;
    prototype.datasync = function (this: FileHandle) {
      datasyncs += 1;
      const failure = failNextDatasync;
      failNextDatasync = undefined;
      if (!failure) return originalDatasync.call(this);
      return new Promise((_resolve, reject) => setTimeout(() => reject(failure), 50));
    };
  });

  afterEach(async () => {
    prototype.datasync = originalDatasync;
    await rm(root, { recursive: true, force: true });
  });

  const openFiles = async (): Promise<number> => (await readdir('/proc/self/fd')).length;

  it('flushes appended bytes in the background while they are written', async () => {
    const content = randomBytes(40 * MiB);
    const writer = await store.openUpload(randomUUID());
    await writer.append(chunked(content, [MiB]));
    assert.ok(datasyncs >= 1, 'a flush started during the append');
    const before = datasyncs;
    const digest = digestOf(content);
    await writer.publish(digest);
    await writer.commit(digest);
    assert.ok(datasyncs - before <= 2, 'publish waits for the flush in flight, then syncs once; commit adds none');
    assert.deepEqual(await readBlob(store, digest), content);
  });

  it('frees each chunk once written when asked to, and writes the same bytes', async () => {
    const content = randomBytes(5 * MiB + 123);
    const chunks = requestChunks(content);
    const writer = await store.openUpload(randomUUID());
    assert.equal(await writer.append(yieldAll(chunks), { freeWritten: true }), content.length);
    assert.ok(chunks.every((chunk) => chunk.length === 0), 'every chunk was freed');
    const digest = digestOf(content);
    await writer.commit(digest);
    assert.deepEqual(await readBlob(store, digest), content);

    const kept = [Buffer.allocUnsafeSlow(10).fill(3)];
    const other = await store.openUpload(randomUUID());
    await other.append(yieldAll(kept));
    assert.deepEqual(kept[0], Buffer.alloc(10, 3), 'without the option a chunk stays as it was');
    await other.cancel();
  });

  it('syncs a small upload once, in publish, and not again in commit, which closes its file', async () => {
    const content = Buffer.from('small layer');
    const digest = digestOf(content);
    const id = randomUUID();
    const before = await openFiles();
    const writer = await store.openUpload(id);
    await writer.append(chunked(content, [4]));
    await writer.close();
    const again = await store.openUpload(id, { create: false });
    assert.equal(datasyncs, 0);
    await again.publish(digest);
    assert.equal(datasyncs, 1);
    await again.commit(digest);
    await again.close();
    assert.equal(datasyncs, 1);
    assert.equal(await openFiles(), before);
  });

  it('keeps a closed upload open for its next request, and closes it on delete', async () => {
    const id = randomUUID();
    const before = await openFiles();
    const first = await store.openUpload(id);
    await first.append(chunked(Buffer.from('first '), [6]));
    await first.close();
    assert.equal(await openFiles(), before + 1, 'the file stays open after close');

    const second = await store.openUpload(id, { create: false });
    assert.equal(second, first, 'the same writer serves the next request');
    await second.append(chunked(Buffer.from('second'), [6]));
    await second.close();
    assert.equal(await openFiles(), before + 1);

    assert.equal(await store.deleteUpload(id), true);
    assert.equal(await openFiles(), before);
    await assert.rejects(store.openUpload(id, { create: false }), { code: 'ENOENT' });
  });

  it('reopens an upload whose file changed while its writer was parked', async () => {
    const id = randomUUID();
    const writer = await store.openUpload(id);
    await writer.append(chunked(Buffer.from('mine '), [5]));
    await writer.close();
    await appendFile(join(root, 'uploads', id), 'theirs');

    const reopened = await store.openUpload(id, { create: false });
    assert.notEqual(reopened, writer);
    assert.equal(reopened.size, 'mine theirs'.length);
    assert.equal((await readAll(reopened.read())).toString(), 'mine theirs');
    await reopened.close();
    await store.deleteUpload(id);
  });

  it('does not reuse a writer whose operation failed', async () => {
    const id = randomUUID();
    const writer = await store.openUpload(id);
    async function* failing(): AsyncIterable<Uint8Array> {
      yield Buffer.from('partial');
      throw new Error('client went away');
    }
    await assert.rejects(writer.append(failing()), /client went away/);
    await writer.close();
    const reopened = await store.openUpload(id, { create: false });
    assert.notEqual(reopened, writer);
    assert.equal(reopened.size, 'partial'.length);
    await reopened.close();
    await store.deleteUpload(id);
  });

  it('fails the publish of an upload whose background flush failed, and discards the upload', async () => {
    const id = randomUUID();
    const content = randomBytes(20 * MiB);
    const failure = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    failNextDatasync = failure;
    const writer = await store.openUpload(id);
    await writer.append(chunked(content, [MiB]));
    assert.ok(datasyncs >= 1);
    // A later datasync would succeed: the kernel reports a writeback error once.
    await assert.rejects(writer.publish(digestOf(content)), failure);
    await assert.rejects(writer.append(chunked(Buffer.from('more'), [4])), failure);
    await writer.close();
    await assert.rejects(store.openUpload(id, { create: false }), { code: 'ENOENT' });
    assert.equal(await store.stat(digestOf(content)), undefined);
  });

  it('discards a parked upload whose background flush failed once it is asked for again', async () => {
    const id = randomUUID();
    const failure = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    failNextDatasync = failure;
    const writer = await store.openUpload(id);
    await writer.append(chunked(randomBytes(9 * MiB), [MiB]));
    await writer.close();
    // The failing flush may end after the close that parked the writer.
    const deadline = Date.now() + 5000;
    let outcome: unknown;
    while (Date.now() < deadline) {
      try {
        const again = await store.openUpload(id, { create: false });
        assert.equal(again, writer, 'until the flush fails, the parked writer serves');
        await again.close();
        await new Promise((resolve) => setTimeout(resolve, 10));
      } catch (error) {
        outcome = error;
        break;
      }
    }
    assert.equal((outcome as { code?: string } | undefined)?.code, 'ENOENT');
  });
});
