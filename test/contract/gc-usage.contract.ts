/**
 * The garbage-collection and usage part of the `MetaStore` contract, run inside
 * `metaStoreContract` on every database: registries `contoso` and `fabrikam` exist.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import type { MetaStore, NewManifest } from '../../src/meta/meta-store.ts';
import { digestOf } from '../../src/oci/digest.ts';

const imageType = 'application/vnd.oci.image.manifest.v1+json';

interface TestBlob {
  digest: string;
  size: number;
}

function blob(label: string): TestBlob {
  const content = `gc blob ${label}`;
  return { digest: digestOf(content), size: content.length };
}

function manifest(registry: string, repository: string, label: string, blobs: TestBlob[], tags: string[] = []): NewManifest {
  const content = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: imageType, label, blobs: blobs.map((b) => b.digest) }));
  return {
    registry,
    repository,
    digest: digestOf(content),
    mediaType: imageType,
    artifactType: null,
    subject: null,
    annotations: null,
    content,
    blobs: blobs.map((b) => b.digest),
    manifests: [],
    tags,
  };
}

/** An hour from now: everything made so far is older than this cutoff. */
function later(): string {
  return new Date(Date.now() + 3600_000).toISOString();
}

/** An hour ago: nothing made so far is older than this cutoff. */
function earlier(): string {
  return new Date(Date.now() - 3600_000).toISOString();
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

export function gcUsageContract(current: () => MetaStore): void {
  async function pushImage(registry: string, repository: string, label: string, blobs: TestBlob[], tags: string[] = []): Promise<NewManifest> {
    const store = current();
    for (const b of blobs) await store.linkBlob(registry, repository, b.digest, b.size);
    const put = manifest(registry, repository, label, blobs, tags);
    await store.putManifest(put);
    return put;
  }

  async function allCollectable(before: string): Promise<string[]> {
    return (await current().collection.listCollectableBlobs(before, { limit: 1000 })).map((b) => b.digest);
  }

  describe('garbage collection: stale links', () => {
    it('lists links no manifest of their repository references, once older than the cutoff, in key order', async () => {
      const store = current();
      const [loose, used, elsewhere] = [blob('loose'), blob('used'), blob('elsewhere')];
      await store.linkBlob('contoso', 'app', loose.digest, loose.size);
      await pushImage('contoso', 'app', 'one', [used]);
      // Referenced in "other", but not in "app": the link in "app" is stale.
      await pushImage('contoso', 'other', 'two', [elsewhere]);
      await store.linkBlob('contoso', 'app', elsewhere.digest, elsewhere.size);

      const stale = await store.collection.listStaleLinks(later(), { limit: 100 });
      assert.deepEqual(
        stale.map((link) => `${link.registry}/${link.repository}@${link.digest}:${link.size}`).sort(),
        [loose, elsewhere].map((b) => `contoso/app@${b.digest}:${b.size}`).sort(),
      );
      assert.deepEqual(await store.collection.listStaleLinks(earlier(), { limit: 100 }), []);

      const first = await store.collection.listStaleLinks(later(), { limit: 1 });
      const rest = await store.collection.listStaleLinks(later(), { limit: 100, after: first[0] });
      assert.deepEqual([...first, ...rest], stale);
    });

    it('unlinks only links that are still stale: a manifest or a confirmation since keeps them', async () => {
      const store = current();
      const [referenced, confirmed, abandoned] = [blob('referenced'), blob('confirmed'), blob('abandoned')];
      for (const b of [referenced, confirmed, abandoned]) await store.linkBlob('contoso', 'app', b.digest, b.size);
      await tick();
      const before = new Date().toISOString();
      const listed = await store.collection.listStaleLinks(before, { limit: 100 });
      assert.equal(listed.length, 3);

      await tick();
      await store.putManifest(manifest('contoso', 'app', 'late', [referenced]));
      assert.equal(await store.refreshBlobLink('contoso', 'app', confirmed.digest), true);

      const removed = await store.collection.unlinkStale(listed, before);
      assert.deepEqual(removed.map((link) => link.digest), [abandoned.digest]);
      assert.equal(await store.getRepositoryBlob('contoso', 'app', abandoned.digest), undefined);
      assert.ok(await store.getRepositoryBlob('contoso', 'app', referenced.digest));
      assert.ok(await store.getRepositoryBlob('contoso', 'app', confirmed.digest));
      assert.deepEqual(await store.collection.unlinkStale(listed, before), []);
    });

    it('restarts a link grace period when the blob is linked or confirmed again', async () => {
      const store = current();
      const layer = blob('regraced');
      await store.linkBlob('contoso', 'app', layer.digest, layer.size);
      const first = (await store.getRepositoryBlob('contoso', 'app', layer.digest))!.linkedAt;
      await tick();
      await store.linkBlob('contoso', 'app', layer.digest, layer.size);
      const second = (await store.getRepositoryBlob('contoso', 'app', layer.digest))!.linkedAt;
      assert.ok(second > first, `${second} > ${first}`);
      await tick();
      assert.equal(await store.refreshBlobLink('contoso', 'app', layer.digest), true);
      assert.ok((await store.getRepositoryBlob('contoso', 'app', layer.digest))!.linkedAt > second);
      assert.equal(await store.refreshBlobLink('contoso', 'nosuchrepo', layer.digest), false);
    });
  });

  describe('garbage collection: blobs', () => {
    it('lists blobs no manifest references and only stale links hold, once older than the cutoff', async () => {
      const store = current();
      const [loose, used, unlinked, fresh] = [blob('loose'), blob('used'), blob('unlinked'), blob('fresh')];
      await store.linkBlob('contoso', 'app', loose.digest, loose.size);
      await pushImage('fabrikam', 'app', 'one', [used]);
      await store.linkBlob('contoso', 'app', unlinked.digest, unlinked.size);
      await store.unlinkBlob('contoso', 'app', unlinked.digest);
      await tick();
      const before = new Date().toISOString();
      await tick();
      await store.linkBlob('contoso', 'app', fresh.digest, fresh.size);

      assert.deepEqual(await allCollectable(before), [loose.digest, unlinked.digest].sort());
      assert.deepEqual(await allCollectable(earlier()), []);
      // A blob referenced anywhere is kept, even where its link is stale.
      await store.linkBlob('contoso', 'other', used.digest, used.size);
      assert.ok(!(await allCollectable(later())).includes(used.digest));
    });

    it('collects rows linked nowhere and referenced by nothing, deleting the bytes inside the transaction', async () => {
      const store = current();
      const [loose, used, gone] = [blob('loose'), blob('used'), blob('gone')];
      await store.linkBlob('contoso', 'app', loose.digest, loose.size);
      await pushImage('contoso', 'app', 'one', [used]);
      await store.linkBlob('contoso', 'app', gone.digest, gone.size);
      await store.unlinkBlob('contoso', 'app', gone.digest);

      const deleted: string[] = [];
      const removed = await store.collection.collectBlobs([loose.digest, used.digest, gone.digest], later(), async (digest) => {
        deleted.push(digest);
      });
      assert.deepEqual(removed, [{ digest: gone.digest, size: gone.size }]);
      assert.deepEqual(deleted, [gone.digest]);
      assert.deepEqual(await store.collection.collectBlobs([gone.digest], later(), async () => assert.fail('no bytes to delete')), []);

      // Once its stale link is gone, the loose blob goes too.
      const stale = await store.collection.listStaleLinks(later(), { limit: 100 });
      await store.collection.unlinkStale(stale, later());
      const second = await store.collection.collectBlobs([loose.digest, used.digest], later(), async () => {});
      assert.deepEqual(second.map((b) => b.digest), [loose.digest]);
      assert.ok(await store.getRepositoryBlob('contoso', 'app', used.digest));
    });

    it('collects a small blob kept in its row with the row, and keeps a referenced one', async () => {
      const store = current();
      const [gone, used] = [blob('inline-gone'), blob('inline-used')];
      await store.linkBlob('contoso', 'app', gone.digest, gone.size, Buffer.from('gone'));
      await store.unlinkBlob('contoso', 'app', gone.digest);
      await store.linkBlob('contoso', 'app', used.digest, used.size, Buffer.from('used'));
      await pushImage('contoso', 'app', 'one', [used]);
      const removed = await store.collection.collectBlobs([gone.digest, used.digest], later(), async () => {});
      assert.deepEqual(removed, [{ digest: gone.digest, size: gone.size }]);
      assert.equal(await store.getBlobContent(gone.digest), undefined);
      assert.deepEqual(await store.getBlobContent(used.digest), Buffer.from('used'));
    });

    it('keeps the rows when deleting the bytes fails', async () => {
      const store = current();
      const layer = blob('kept');
      await store.linkBlob('contoso', 'app', layer.digest, layer.size);
      await store.unlinkBlob('contoso', 'app', layer.digest);
      await assert.rejects(
        store.collection.collectBlobs([layer.digest], later(), async () => {
          throw new Error('disk on fire');
        }),
        /disk on fire/,
      );
      assert.deepEqual(await allCollectable(later()), [layer.digest]);
    });

    it('makes the blobs of a deleted manifest or registry collectable, keeping shared ones', async () => {
      const store = current();
      const [shared, mine, theirs] = [blob('shared'), blob('mine'), blob('theirs')];
      const one = await pushImage('contoso', 'app', 'one', [shared, mine]);
      await pushImage('contoso', 'app', 'two', [shared]);
      await pushImage('fabrikam', 'app', 'three', [theirs]);
      assert.deepEqual(await allCollectable(later()), []);

      await store.deleteManifest('contoso', 'app', one.digest);
      assert.deepEqual(await allCollectable(later()), [mine.digest]);
      await store.deleteRegistry('fabrikam');
      assert.deepEqual(await allCollectable(later()), [mine.digest, theirs.digest].sort());
    });

    it('lists stored files without a row and adopts them, linked at their modification time', async () => {
      const store = current();
      const [known, referenced, orphan] = [blob('known'), blob('referenced'), blob('orphan')];
      await store.linkBlob('contoso', 'app', known.digest, known.size);
      await pushImage('contoso', 'app', 'one', [referenced]);
      assert.deepEqual(await store.collection.listOrphans([known.digest, referenced.digest, orphan.digest]), [orphan.digest]);

      const modified = new Date(Date.now() - 7200_000).toISOString();
      await store.collection.adoptOrphans([{ digest: orphan.digest, size: orphan.size, modified }]);
      assert.deepEqual(await store.collection.listOrphans([orphan.digest]), []);
      assert.deepEqual(await allCollectable(earlier()), [orphan.digest]);
      // Adopting again, or adopting a known blob, changes nothing.
      await store.collection.adoptOrphans([
        { digest: orphan.digest, size: orphan.size, modified: later() },
        { digest: known.digest, size: 1, modified },
      ]);
      assert.deepEqual(await allCollectable(earlier()), [orphan.digest]);
    });
  });

  describe('garbage collection: mounts', () => {
    it('mounts only from an existing link of the same registry, in one transaction with the check', async () => {
      const store = current();
      const layer = blob('mounted');
      assert.equal(await store.mountBlob('contoso', 'target', layer.digest, 'source'), undefined);
      await store.linkBlob('contoso', 'source', layer.digest, layer.size);
      assert.equal(await store.mountBlob('fabrikam', 'target', layer.digest, 'source'), undefined);
      assert.equal(await store.mountBlob('contoso', 'target', layer.digest, 'elsewhere'), undefined);
      assert.deepEqual(await store.mountBlob('contoso', 'target', layer.digest, 'source'), { size: layer.size });
      assert.deepEqual(await store.mountBlob('contoso', 'third', layer.digest), { size: layer.size });
      assert.equal((await store.getRepositoryBlob('contoso', 'third', layer.digest))?.size, layer.size);
      assert.equal(await store.getRepositoryBlob('contoso', 'elsewhere', layer.digest), undefined);
    });
  });

  describe('garbage collection: races', () => {
    const rounds = 30;

    it('a link racing a collection either keeps the blob or comes after its bytes were deleted', async () => {
      const store = current();
      const layers = Array.from({ length: rounds }, (_, i) => blob(`race-link-${i}`));
      for (const layer of layers) {
        await store.linkBlob('contoso', 'old', layer.digest, layer.size);
        await store.unlinkBlob('contoso', 'old', layer.digest);
      }
      const cutoff = later();
      await Promise.all(
        layers.map(async (layer) => {
          const events: string[] = [];
          const [collected] = await Promise.all([
            store.collection.collectBlobs([layer.digest], cutoff, async () => {
              events.push('bytes deleted');
            }),
            store.linkBlob('contoso', 'app', layer.digest, layer.size).then(() => events.push('linked')),
          ]);
          if (collected.length > 0) assert.deepEqual(events, ['bytes deleted', 'linked']);
          assert.equal((await store.getRepositoryBlob('contoso', 'app', layer.digest))?.size, layer.size);
        }),
      );
      // Every blob is linked now, whichever won, so none can be collected.
      assert.deepEqual(await store.collection.collectBlobs(layers.map((layer) => layer.digest), cutoff, async () => {}), []);
    });

    it('a mount racing the collection of its source never succeeds without the blob row', async () => {
      const store = current();
      const layers = Array.from({ length: rounds }, (_, i) => blob(`race-mount-${i}`));
      for (const layer of layers) await store.linkBlob('contoso', 'source', layer.digest, layer.size);
      const cutoff = later();
      await Promise.all(
        layers.map(async (layer) => {
          const stale = await linkKeys(store, 'source', layer.digest, cutoff);
          const [mounted, collected] = await Promise.all([
            store.mountBlob('contoso', 'target', layer.digest, 'source'),
            (async () => {
              await store.collection.unlinkStale(stale, cutoff);
              return await store.collection.collectBlobs([layer.digest], cutoff, async () => {});
            })(),
          ]);
          assert.ok(!(mounted && collected.length > 0), `${layer.digest} both mounted and collected`);
          if (mounted) assert.ok(await store.getRepositoryBlob('contoso', 'target', layer.digest));
        }),
      );
    });

    it('a manifest put racing the unlinking of its blobs is either refused or keeps them', async () => {
      const store = current();
      const layers = Array.from({ length: rounds }, (_, i) => blob(`race-manifest-${i}`));
      for (const layer of layers) await store.linkBlob('contoso', 'app', layer.digest, layer.size);
      const cutoff = later();
      await Promise.all(
        layers.map(async (layer, i) => {
          const put = manifest('contoso', 'app', `race-${i}`, [layer]);
          const stale = await linkKeys(store, 'app', layer.digest, cutoff);
          assert.equal(stale.length, 1);
          const [stored, unlinked] = await Promise.all([
            store.putManifest(put).then(
              () => true,
              () => false,
            ),
            store.collection.unlinkStale(stale, cutoff),
          ]);
          assert.ok(!(stored && unlinked.length > 0), `${layer.digest}: manifest stored and its link removed`);
          if (stored) assert.ok(await store.getManifestByDigest('contoso', 'app', put.digest));
        }),
      );
    });
  });

  describe('usage', () => {
    it('counts each referenced blob once per registry, plus the manifests, and shrinks at once on delete', async () => {
      const store = current();
      const [base, appLayer, toolLayer, loose] = [blob('base'), blob('app layer'), blob('tool layer'), blob('loose')];
      assert.equal(await store.usage.storageBytes('contoso'), 0);
      const app = await pushImage('contoso', 'app', 'app', [base, appLayer], ['latest']);
      const tool = await pushImage('contoso', 'tools/tool', 'tool', [base, toolLayer], ['v1', 'v2']);
      const copy = await pushImage('fabrikam', 'app', 'app', [base, appLayer]);
      await store.linkBlob('contoso', 'app', loose.digest, loose.size);

      const manifests = app.content.length + tool.content.length;
      assert.equal(await store.usage.storageBytes('contoso'), base.size + appLayer.size + toolLayer.size + manifests);
      assert.equal(await store.usage.storageBytes('fabrikam'), base.size + appLayer.size + copy.content.length);

      await store.deleteManifest('contoso', 'tools/tool', tool.digest);
      assert.equal(await store.usage.storageBytes('contoso'), base.size + appLayer.size + app.content.length);
      await store.deleteRegistry('fabrikam');
      assert.equal(await store.usage.storageBytes('fabrikam'), 0);
    });

    it('counts a manifest held by two repositories of a registry once', async () => {
      const store = current();
      const layer = blob('twice');
      const one = await pushImage('contoso', 'one', 'same', [layer]);
      await pushImage('contoso', 'two', 'same', [layer]);
      assert.equal(await store.usage.storageBytes('contoso'), layer.size + one.content.length);
    });

    it('reports counts of repositories, manifests, tags, scope maps and tokens', async () => {
      const store = current();
      await pushImage('contoso', 'app', 'one', [blob('a')], ['latest', 'v1']);
      await pushImage('contoso', 'app', 'two', [blob('b')], ['v2']);
      await pushImage('contoso', 'web', 'three', [blob('c')]);
      await store.linkBlob('contoso', 'blobs-only', blob('d').digest, 1);
      await store.createScopeMap({ registry: 'contoso', name: 'readers', description: '', actions: ['repositories/app/content/read'] });
      await store.createToken({
        id: randomUUID(),
        registry: 'contoso',
        name: 'ci',
        scopeMap: 'readers',
        status: 'enabled',
        password1: null,
        password2: null,
      });
      const usage = await store.usage.registryUsage('contoso');
      assert.deepEqual({ ...usage, storageBytes: undefined }, {
        storageBytes: undefined,
        repositories: 2,
        manifests: 3,
        tags: 3,
        scopeMaps: 1,
        tokens: 1,
      });
      assert.equal(usage?.storageBytes, await store.usage.storageBytes('contoso'));
      assert.equal(await store.usage.registryUsage('nosuchregistry'), undefined);
    });

    it('tells what a push would add: blobs the registry does not reference yet, and a manifest it lacks', async () => {
      const store = current();
      const [held, linked, unknown] = [blob('held'), blob('linked'), blob('unknown')];
      const image = await pushImage('contoso', 'app', 'held', [held]);
      await store.linkBlob('fabrikam', 'app', linked.digest, linked.size);
      const added = (content: Parameters<MetaStore['usage']['storageAddedBy']>[1]) => store.usage.storageAddedBy('contoso', content);

      assert.equal(await added({ blobs: [{ digest: held.digest, size: 999 }] }), 0);
      // The recorded size wins over the one given; unknown blobs count at the size given.
      assert.equal(await added({ blobs: [{ digest: linked.digest, size: 1 }] }), linked.size);
      assert.equal(await added({ blobs: [{ digest: unknown.digest, size: 7 }] }), 7);
      assert.equal(await added({ blobs: [{ digest: unknown.digest, size: 7 }, { digest: unknown.digest, size: 7 }] }), 7);
      assert.equal(await added({ blobs: [], manifest: { digest: image.digest, size: image.content.length } }), 0);
      assert.equal(await added({ blobs: [{ digest: held.digest, size: held.size }], manifest: { digest: digestOf('new'), size: 100 } }), 100);
      assert.equal(await store.usage.storageAddedBy('fabrikam', { blobs: [{ digest: held.digest, size: held.size }] }), held.size);
    });

    it('sets the storage quota until the SKU changes', async () => {
      const store = current();
      assert.equal(await store.usage.setStorageQuota('contoso', 50 * 1024 ** 3), true);
      assert.equal((await store.getRegistry('contoso'))?.quotaBytes, 50 * 1024 ** 3);
      assert.equal(await store.usage.setStorageQuota('nosuchregistry', 1), false);
      await store.updateRegistry('contoso', { sku: 'Basic' });
      assert.equal((await store.getRegistry('contoso'))?.quotaBytes, 10 * 1024 ** 3);
    });
  });
}

/** The link of `digest` in `contoso/<repository>` as `unlinkStale` takes it, if it is stale at `before`. */
async function linkKeys(store: MetaStore, repository: string, digest: string, before: string) {
  const links = await store.collection.listStaleLinks(before, { limit: 1000 });
  return links.filter((link) => link.digest === digest && link.registry === 'contoso' && link.repository === repository);
}
