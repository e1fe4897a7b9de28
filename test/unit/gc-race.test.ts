/**
 * The races of services/gc.ts, forced step by step: a collection commits exactly between the
 * steps of an upload or a mount that need the same blob.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { MetaStore } from '../../src/meta/index.ts';
import { GarbageCollector, type GcReport } from '../../src/services/gc.ts';
import { UploadService } from '../../src/services/uploads.ts';
import type { BlobStore } from '../../src/store/index.ts';
import { openServiceStores, type ServiceStores } from '../helpers/service-stores.ts';
import { readBlob } from '../helpers/blob-reads.ts';

function digestOf(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

async function* bytes(data: Buffer): AsyncIterable<Uint8Array> {
  yield data;
}

describe('garbage collection racing uploads and mounts', () => {
  let stores: ServiceStores;
  let meta: MetaStore;
  let store: BlobStore;
  /** Runs once, just before the next call of the named metadata method. */
  let beforeNext: { method: 'linkBlob' | 'mountBlob'; run: () => Promise<unknown> } | undefined;
  let uploads: UploadService;
  let gc: GarbageCollector;

  beforeEach(async () => {
    stores = await openServiceStores('berth-gc-race-');
    ({ meta, store } = stores);
    const hooked = new Proxy(meta, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          if (beforeNext && beforeNext.method === property) {
            const { run } = beforeNext;
            beforeNext = undefined;
            await run();
          }
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    uploads = new UploadService(hooked, store, { ttlMs: 24 * 3600_000, sessionKey: randomBytes(32) });
    // A grace period of zero makes everything unreferenced collectable at once.
    gc = new GarbageCollector(meta, store, uploads, { gracePeriodMs: 0 });
  });

  afterEach(() => stores.close());

  /** Blobs of both kinds: bytes in the blob store, and bytes kept in the metadata row (small blobs). */
  const kinds = [
    { kind: 'a blob in the blob store', size: 100_000, stored: (digest: string) => readBlob(store, digest) },
    { kind: 'a small blob kept in the metadata database', size: 1000, stored: (digest: string) => meta.getBlobContent(digest) },
  ];

  for (const { kind, size, stored } of kinds) {
    describe(kind, () => {
      /** A blob stored once and then left unreferenced: garbage for the next collection. */
      async function garbage(): Promise<{ data: Buffer; digest: string }> {
        const data = randomBytes(size);
        const digest = await uploads.putMonolithic('contoso', 'old', digestOf(data), bytes(data));
        await new Promise((resolve) => setTimeout(resolve, 5));
        return { data, digest };
      }

      it('an upload of a blob collected just before its link still ends with the blob stored', async () => {
        const { data, digest } = await garbage();
        let report: GcReport | undefined;
        beforeNext = { method: 'linkBlob', run: async () => (report = await gc.run()) };
        const started = uploads.start('contoso', 'app');
        await uploads.complete('contoso', 'app', started.id, digest, bytes(data));
        assert.deepEqual(report!.deletedBlobs.map((blob) => blob.digest), [digest], 'the collection took the old copy');
        assert.ok(await meta.getRepositoryBlob('contoso', 'app', digest));
        assert.deepEqual(await stored(digest), data);
        const graced = new GarbageCollector(meta, store, uploads, { gracePeriodMs: 3600_000 });
        assert.deepEqual((await graced.run({ dryRun: true })).deletedBlobs, [], 'and the blob is freshly linked, so it stays');
      });

      it('a monolithic push of a blob collected just before its link still ends with the blob stored', async () => {
        const { data, digest } = await garbage();
        beforeNext = { method: 'linkBlob', run: () => gc.run() };
        await uploads.putMonolithic('contoso', 'app', digest, bytes(data));
        assert.deepEqual(await stored(digest), data);
      });

      it('a mount whose source is collected first fails, so the client uploads instead', async () => {
        const { digest } = await garbage();
        beforeNext = { method: 'mountBlob', run: () => gc.run() };
        assert.equal(await uploads.mount('contoso', 'app', digest, 'old'), false);
        assert.equal(await meta.getRepositoryBlob('contoso', 'app', digest), undefined);
        assert.equal(await store.stat(digest), undefined);
        assert.equal(await meta.getBlobContent(digest), undefined);
      });

      it('a collection after the mount keeps the blob', async () => {
        const data = randomBytes(size);
        const digest = await uploads.putMonolithic('contoso', 'old', digestOf(data), bytes(data));
        assert.equal(await uploads.mount('contoso', 'app', digest, 'old'), true);
        await meta.unlinkBlob('contoso', 'old', digest);
        const report = await new GarbageCollector(meta, store, uploads, { gracePeriodMs: 3600_000 }).run();
        assert.deepEqual(report.deletedBlobs, []);
        assert.deepEqual(await stored(digest), data);
      });
    });
  }
});
