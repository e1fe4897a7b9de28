/**
 * An upload given a request body frees each chunk once it is written; one given any other source
 * leaves its chunks alone. Either way the blob is the bytes sent.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { RequestBody } from '../../src/services/request-body.ts';
import { UploadService } from '../../src/services/uploads.ts';
import type { BlobStore } from '../../src/store/index.ts';
import { readBlob } from '../helpers/blob-reads.ts';
import { blobOf } from '../helpers/oci-http.ts';
import { requestChunks, yieldAll } from '../helpers/request-chunks.ts';
import { openServiceStores, type ServiceStores } from '../helpers/service-stores.ts';

const allFreed = (chunks: Buffer[]) => chunks.every((chunk) => chunk.length === 0);

describe('uploads of request bodies', () => {
  let stores: ServiceStores;
  let store: BlobStore;
  let uploads: UploadService;

  before(async () => {
    stores = await openServiceStores('berth-upload-body-');
    store = stores.store;
    uploads = new UploadService(stores.meta, store, { ttlMs: 3600_000, sessionKey: randomBytes(32) });
  });
  after(() => stores.close());

  it('frees the chunks of a PATCH and of the final PUT, and stores the bytes sent', async () => {
    const blob = blobOf(randomBytes(3 * 1024 * 1024 + 17));
    const first = requestChunks(blob.data.subarray(0, 2 * 1024 * 1024));
    const last = requestChunks(blob.data.subarray(2 * 1024 * 1024));
    const { id } = uploads.start('contoso', 'app');
    await uploads.append('contoso', 'app', id, new RequestBody(yieldAll(first)));
    assert.ok(allFreed(first));
    await uploads.complete('contoso', 'app', id, blob.digest, new RequestBody(yieldAll(last)));
    assert.ok(allFreed(last));
    assert.deepEqual(await readBlob(store, blob.digest), blob.data);
  });

  it('frees the chunks of a monolithic push', async () => {
    const blob = blobOf(randomBytes(1024 * 1024 + 5));
    const chunks = requestChunks(blob.data);
    await uploads.putMonolithic('contoso', 'app', blob.digest, new RequestBody(yieldAll(chunks)));
    assert.ok(allFreed(chunks));
    assert.deepEqual(await readBlob(store, blob.digest), blob.data);
  });

  it('leaves alone the chunks of any other source', async () => {
    const blob = blobOf(randomBytes(1024 * 1024 + 9));
    const chunks = requestChunks(blob.data);
    await uploads.putMonolithic('contoso', 'app', blob.digest, yieldAll(chunks));
    assert.deepEqual(Buffer.concat(chunks), blob.data);
    assert.deepEqual(await readBlob(store, blob.digest), blob.data);
  });
});
