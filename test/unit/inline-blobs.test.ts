import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { MetaStore } from '../../src/meta/index.ts';
import { bufferBlobReader, readIfSmall } from '../../src/services/inline-blobs.ts';
import { UploadService } from '../../src/services/uploads.ts';
import type { BlobStore } from '../../src/store/index.ts';
import { openServiceStores, type ServiceStores } from '../helpers/service-stores.ts';
import { readBlob } from '../helpers/blob-reads.ts';

async function* chunks(...parts: Buffer[]): AsyncIterable<Uint8Array> {
  for (const part of parts) yield part;
}

async function concat(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const all: Uint8Array[] = [];
  for await (const chunk of source) all.push(chunk);
  return Buffer.concat(all);
}

function digestOf(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

describe('readIfSmall', () => {
  it('reads a source of at most the limit whole', async () => {
    const result = await readIfSmall(chunks(Buffer.from('abc'), Buffer.from('def')), 6);
    assert.deepEqual(result.content, Buffer.from('abcdef'));
    assert.deepEqual((await readIfSmall(chunks(), 6)).content, Buffer.alloc(0));
  });

  it('hands back every byte of a larger source, having read only past the limit', async () => {
    let pulled = 0;
    async function* counted(): AsyncIterable<Uint8Array> {
      for (const part of ['abc', 'def', 'ghi', 'jkl']) {
        pulled += 1;
        yield Buffer.from(part);
      }
    }
    const result = await readIfSmall(counted(), 5);
    assert.equal(result.content, undefined);
    assert.equal(pulled, 2, 'stopped as soon as the limit was passed');
    assert.deepEqual(await concat(result.rest!), Buffer.from('abcdefghijkl'));
  });
});

describe('bufferBlobReader', () => {
  it('reads positionally, short at the end and nothing past it', async () => {
    const reader = bufferBlobReader(Buffer.from('0123456789'));
    assert.equal(reader.size, 10);
    const buffer = Buffer.alloc(4);
    assert.equal(await reader.readInto(buffer, 2), 4);
    assert.deepEqual(buffer, Buffer.from('2345'));
    assert.equal(await reader.readInto(buffer, 8), 2);
    assert.deepEqual(buffer.subarray(0, 2), Buffer.from('89'));
    assert.equal(await reader.readInto(buffer, 10), 0);
  });
});

describe('uploads and the inline limit', () => {
  let stores: ServiceStores;
  let meta: MetaStore;
  let store: BlobStore;
  let uploads: UploadService;

  before(async () => {
    stores = await openServiceStores('berth-inline-');
    ({ meta, store } = stores);
    uploads = new UploadService(meta, store, { ttlMs: 3600_000, sessionKey: randomBytes(32), inlineMaxBytes: 100 });
  });
  after(() => stores.close());

  it('a body that passes the limit part-way streams on to the blob store, every byte included', async () => {
    const data = randomBytes(250);
    const parts = [data.subarray(0, 60), data.subarray(60, 120), data.subarray(120)];
    const digest = await uploads.putMonolithic('contoso', 'app', digestOf(data), chunks(...parts));
    assert.deepEqual(await readBlob(store, digest), data);
    assert.equal(await meta.getBlobContent(digest), undefined);

    const session = uploads.start('contoso', 'app');
    const other = randomBytes(250);
    await uploads.complete('contoso', 'app', session.id, digestOf(other), chunks(other.subarray(0, 90), other.subarray(90)));
    assert.deepEqual(await readBlob(store, digestOf(other)), other);
  });

  it('a body within the limit goes to the metadata database, whatever its chunks', async () => {
    const data = randomBytes(100);
    const digest = await uploads.putMonolithic('contoso', 'app', digestOf(data), chunks(data.subarray(0, 50), data.subarray(50)));
    assert.deepEqual(await meta.getBlobContent(digest), data);
    assert.equal(await store.stat(digest), undefined);
  });

  it('a wrong digest stores nothing, on either side of the limit', async () => {
    for (const size of [50, 500]) {
      const data = randomBytes(size);
      const wrong = digestOf(randomBytes(8));
      await assert.rejects(uploads.putMonolithic('contoso', 'app', wrong, chunks(data)), { code: 'DIGEST_INVALID' });
      assert.equal(await meta.getRepositoryBlob('contoso', 'app', wrong), undefined);
      assert.equal(await meta.getRepositoryBlob('contoso', 'app', digestOf(data)), undefined);
    }
  });
});
