/**
 * When upload sessions expire, on a clock the test moves: a session without bytes is open for the
 * TTL after it was opened, one with bytes until it has been untouched for the TTL, and the record
 * of an ended session is kept exactly as long as its id could otherwise still open a session.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { MetaStore } from '../../src/meta/index.ts';
import { UploadService } from '../../src/services/uploads.ts';
import type { BlobStore } from '../../src/store/index.ts';
import { openServiceStores, type ServiceStores } from '../helpers/service-stores.ts';
import { blobOf } from '../helpers/oci-http.ts';

const TTL_MS = 3600_000;
const SKEW_MS = 5 * 60_000;

async function* bytes(data: string): AsyncIterable<Uint8Array> {
  yield Buffer.from(data);
}

async function rejectsUnknown(operation: Promise<unknown>): Promise<void> {
  await assert.rejects(operation, (error: { code?: string }) => error.code === 'BLOB_UPLOAD_UNKNOWN');
}

describe('upload session expiry', () => {
  let stores: ServiceStores;
  let meta: MetaStore;
  let store: BlobStore;
  let clock = Date.parse('2030-06-01T00:00:00Z');
  let uploads: UploadService;

  before(async () => {
    stores = await openServiceStores('berth-upload-expiry-');
    ({ meta, store } = stores);
    uploads = new UploadService(meta, store, { ttlMs: TTL_MS, sessionKey: randomBytes(32), now: () => clock });
  });
  after(() => stores.close());

  it('a session without bytes is open for the TTL after it was opened, then unknown', async () => {
    const { id } = uploads.start('contoso', 'app');
    clock += TTL_MS - 1;
    assert.deepEqual(await uploads.status('contoso', 'app', id), { id, size: 0 });
    clock += 1;
    await rejectsUnknown(uploads.status('contoso', 'app', id));
    await rejectsUnknown(uploads.append('contoso', 'app', id, bytes('late')));
    await rejectsUnknown(uploads.complete('contoso', 'app', id, blobOf('late').digest, bytes('late')));
  });

  it('a session with bytes lives while it is written to, and is reclaimed once untouched for the TTL', async () => {
    const { id } = uploads.start('contoso', 'app');
    await uploads.append('contoso', 'app', id, bytes('some bytes'));
    // Its file's time is the real clock's: move the test clock well past it.
    clock = Date.now() + TTL_MS / 2;
    assert.deepEqual(await uploads.expireAbandonedUploads(), []);
    assert.equal((await uploads.status('contoso', 'app', id)).size, 10, 'bytes keep a session open past its TTL without bytes');
    clock = Date.now() + TTL_MS + 1000;
    assert.deepEqual((await uploads.expireAbandonedUploads()).map((upload) => upload.id), [id]);
    await rejectsUnknown(uploads.status('contoso', 'app', id));
  });

  it('an ended session is remembered while its id could still open a session, and forgotten after', async () => {
    clock = Date.parse('2030-07-01T00:00:00Z');
    const { id } = uploads.start('contoso', 'app');
    const blob = blobOf('finished');
    await uploads.complete('contoso', 'app', id, blob.digest, bytes('finished'));
    assert.equal(await meta.isUploadEnded(id), true);
    await rejectsUnknown(uploads.status('contoso', 'app', id));

    clock += TTL_MS + SKEW_MS - 1;
    await uploads.expireAbandonedUploads();
    assert.equal(await meta.isUploadEnded(id), true, 'kept until the TTL and the allowed clock skew are over');
    clock += 2;
    await uploads.expireAbandonedUploads();
    assert.equal(await meta.isUploadEnded(id), false);
    await rejectsUnknown(uploads.status('contoso', 'app', id));
  });

  it('a session opened on a clock ahead of this one is accepted within the allowed skew only', async () => {
    const sessionKey = randomBytes(32);
    const here = new UploadService(meta, store, { ttlMs: TTL_MS, sessionKey, now: () => clock });
    const near = new UploadService(meta, store, { ttlMs: TTL_MS, sessionKey, now: () => clock + SKEW_MS - 1000 });
    const far = new UploadService(meta, store, { ttlMs: TTL_MS, sessionKey, now: () => clock + SKEW_MS + 1000 });
    const nearId = near.start('contoso', 'app').id;
    assert.deepEqual(await here.status('contoso', 'app', nearId), { id: nearId, size: 0 });
    await rejectsUnknown(here.status('contoso', 'app', far.start('contoso', 'app').id));
  });
});
