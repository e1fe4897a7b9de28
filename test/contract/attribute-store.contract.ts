/**
 * The locks and quarantine part of the `MetaStore` contract, run inside `metaStoreContract` on
 * every database: registries `contoso` and `fabrikam` exist.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MetaStore, NewManifest } from '../../src/meta/meta-store.ts';
import { digestOf } from '../../src/oci/digest.ts';

const imageType = 'application/vnd.oci.image.manifest.v1+json';
const open = { deleteEnabled: true, writeEnabled: true, readEnabled: true, listEnabled: true };

async function putImage(store: MetaStore, repository: string, label: string, tags: string[], quarantined = false): Promise<NewManifest> {
  const layer = Buffer.from(`locks layer ${label}`);
  await store.linkBlob('contoso', repository, digestOf(layer), layer.length);
  const content = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: imageType, label, layers: [digestOf(layer)] }));
  const manifest: NewManifest = {
    registry: 'contoso',
    repository,
    digest: digestOf(content),
    mediaType: imageType,
    artifactType: null,
    subject: null,
    annotations: null,
    content,
    blobs: [digestOf(layer)],
    manifests: [],
    tags,
    quarantined,
  };
  await store.putManifest(manifest);
  return manifest;
}

export function attributeStoreContract(current: () => MetaStore): void {
  describe('changeable attributes and quarantine', () => {
    it('everything starts enabled; changes are stored per repository, tag and manifest', async () => {
      const store = current();
      const image = await putImage(store, 'locks/app', 'a', ['v1', 'v2']);
      assert.deepEqual(await store.attributes.repository('contoso', 'locks/app'), open);
      assert.equal(await store.attributes.repository('contoso', 'locks/none'), undefined);

      assert.deepEqual(await store.attributes.updateRepository('contoso', 'locks/app', { deleteEnabled: false }), { ...open, deleteEnabled: false });
      const tag = await store.attributes.updateTag('contoso', 'locks/app', 'v1', { writeEnabled: false, listEnabled: false });
      assert.deepEqual(tag?.attributes, { ...open, writeEnabled: false, listEnabled: false });
      assert.equal(tag?.digest, image.digest);
      assert.deepEqual((await store.attributes.tag('contoso', 'locks/app', 'v2'))?.attributes, open, 'other tags untouched');

      const manifest = await store.attributes.updateManifest('contoso', 'locks/app', image.digest, { readEnabled: false });
      assert.deepEqual(manifest, { ...open, readEnabled: false, quarantineState: null, quarantineDetails: null });
      const locks = await store.attributes.manifest('contoso', 'locks/app', image.digest);
      assert.deepEqual(locks?.tags.map((t) => t.name), ['v1', 'v2']);
      assert.deepEqual(await store.attributes.firstLocked('contoso', 'locks/app', ['deleteEnabled', 'writeEnabled']), { kind: 'tag', name: 'v1', lock: 'writeEnabled' });
      assert.deepEqual(await store.attributes.contents('contoso', 'locks/app'), { manifests: [image.digest], tags: ['v1', 'v2'] });
    });

    it('list-disabled tags, manifests and repositories are left out of the listings', async () => {
      const store = current();
      const image = await putImage(store, 'locks/list', 'b', ['shown', 'hidden']);
      await store.attributes.updateTag('contoso', 'locks/list', 'hidden', { listEnabled: false });
      assert.deepEqual(await store.listTags('contoso', 'locks/list', {}), ['shown']);
      assert.deepEqual((await store.listTagDetails('contoso', 'locks/list', {})).map((t) => t.name), ['shown']);
      assert.deepEqual((await store.listTagDetails('contoso', 'locks/list', { name: 'hidden', includeHidden: true })).map((t) => t.name), ['hidden']);
      await store.attributes.updateManifest('contoso', 'locks/list', image.digest, { listEnabled: false });
      assert.deepEqual(await store.listTags('contoso', 'locks/list', {}), []);
      assert.deepEqual(await store.listManifestDetails('contoso', 'locks/list', {}), []);
      assert.equal((await store.listManifestDetails('contoso', 'locks/list', { digest: image.digest, includeHidden: true })).length, 1);
      await store.attributes.updateRepository('contoso', 'locks/list', { listEnabled: false });
      assert.ok(!(await store.listRepositories('contoso', {})).includes('locks/list'));
    });

    it('the quarantine policy, Pending on push, a quarantine event, and a push event on release', async () => {
      const store = current();
      assert.equal(await store.attributes.quarantineEnabled('contoso'), false);
      assert.equal(await store.attributes.setQuarantineEnabled('contoso', true), true);
      assert.equal(await store.attributes.quarantineEnabled('contoso'), true);
      assert.equal(await store.attributes.quarantineEnabled('nosuch'), undefined);
      await store.attributes.setQuarantineEnabled('contoso', false);

      const before = (await store.events.readAfter(0, 100_000)).at(-1)?.sequence ?? 0;
      const image = await putImage(store, 'locks/held', 'c', ['v1'], true);
      assert.equal((await store.attributes.manifest('contoso', 'locks/held', image.digest))?.attributes.quarantineState, 'Pending');
      await store.attributes.updateManifest('contoso', 'locks/held', image.digest, { quarantineState: 'Failed', quarantineDetails: 'bad' });
      await putImage(store, 'locks/held', 'c', ['v1'], false);
      assert.equal((await store.attributes.manifest('contoso', 'locks/held', image.digest))?.attributes.quarantineState, 'Failed', 'a re-push keeps it held');
      const released = await store.attributes.updateManifest('contoso', 'locks/held', image.digest, { quarantineState: 'Passed', quarantineDetails: 'clean' });
      assert.equal(released?.quarantineState, 'Passed');
      assert.equal(released?.quarantineDetails, 'clean');
      const events = (await store.events.readAfter(before, 100)).filter((event) => event.repository === 'locks/held');
      assert.deepEqual(events.map((event) => [event.action, event.tags]), [
        ['quarantine', ['v1']],
        ['quarantine', ['v1']],
        ['push', ['v1']],
      ]);
    });
  });
}
