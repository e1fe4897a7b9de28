/**
 * The `MetaStore` contract: every implementation (SQLite, PostgreSQL) runs these same tests.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  MissingReferencesError,
  RegistryExistsError,
  RegistryNotFoundError,
  type MetaStore,
  type NewManifest,
} from '../../src/meta/meta-store.ts';
import { digestOf } from '../../src/oci/digest.ts';
import { eventStoreContract } from './event-store.contract.ts';
import { gcUsageContract } from './gc-usage.contract.ts';
import { attributeStoreContract } from './attribute-store.contract.ts';
import { identityStoreContract } from './identity-store.contract.ts';

export interface MetaStoreFixture {
  store: MetaStore;
  /** Closes the current store and opens a new one on the same database. */
  reopen(): Promise<MetaStore>;
  /** Closes the current store and removes the database. */
  cleanup(): Promise<void>;
}

const imageType = 'application/vnd.oci.image.manifest.v1+json';
const indexType = 'application/vnd.oci.image.index.v1+json';
const configType = 'application/vnd.oci.image.config.v1+json';

interface TestBlob {
  digest: string;
  size: number;
}

function blob(label: string): TestBlob {
  return { digest: digestOf(`blob ${label}`), size: `blob ${label}`.length };
}

type ManifestOptions = Partial<Omit<NewManifest, 'content' | 'digest'>> & { label?: string };

/** A manifest for `registry/repository`; `blobs` must be linked first, or the put fails. */
function image(registry: string, repository: string, options: ManifestOptions = {}): NewManifest {
  const blobs = options.blobs ?? [];
  const subject = options.subject ?? null;
  const content = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: imageType,
      label: options.label ?? 'image',
      blobs,
      subject,
    }),
  );
  return {
    registry,
    repository,
    digest: digestOf(content),
    mediaType: imageType,
    artifactType: options.artifactType ?? configType,
    subject,
    annotations: options.annotations ?? null,
    content,
    blobs,
    manifests: [],
    tags: options.tags ?? [],
  };
}

function index(registry: string, repository: string, children: string[], tags: string[] = []): NewManifest {
  const content = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: indexType, manifests: children }));
  return {
    registry,
    repository,
    digest: digestOf(content),
    mediaType: indexType,
    artifactType: null,
    subject: null,
    annotations: null,
    content,
    blobs: [],
    manifests: children,
    tags,
  };
}

async function allTags(store: MetaStore, registry: string, repository: string): Promise<string[]> {
  return await store.listTags(registry, repository, {});
}

/** Names whose byte order differs from most linguistic orders. */
const byteOrderedNames = ['A', 'Z', '_', 'a', 'a-b', 'a.b', 'a/b'];

export function metaStoreContract(name: string, make: () => Promise<MetaStoreFixture>): void {
  describe(`MetaStore contract: ${name}`, () => {
    let fixture: MetaStoreFixture;
    let store: MetaStore;

    /** A repository holding one image manifest built on `label`'s blob. */
    async function pushImage(registry: string, repository: string, label: string, tags: string[] = []) {
      const layer = blob(label);
      await store.linkBlob(registry, repository, layer.digest, layer.size);
      const manifest = image(registry, repository, { label, blobs: [layer.digest], tags });
      await store.putManifest(manifest);
      return manifest;
    }

    beforeEach(async () => {
      fixture = await make();
      store = fixture.store;
      await store.createRegistry('contoso');
      await store.createRegistry('fabrikam');
    });

    afterEach(async () => {
      await fixture.cleanup();
    });

    describe('registries', () => {
      it('creates, reads and lists registries in name order', async () => {
        const created = await store.createRegistry('baseartifacts');
        assert.equal(created.name, 'baseartifacts');
        assert.match(created.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        assert.deepEqual(await store.getRegistry('baseartifacts'), created);
        assert.deepEqual(
          (await store.listRegistries()).map((r) => r.name),
          ['baseartifacts', 'contoso', 'fabrikam'],
        );
        assert.equal(await store.getRegistry('nosuchregistry'), undefined);
      });

      it('refuses to create a registry twice', async () => {
        await assert.rejects(store.createRegistry('contoso'), RegistryExistsError);
      });

      it('reports whether deleteRegistry removed anything', async () => {
        assert.equal(await store.deleteRegistry('nosuchregistry'), false);
        assert.equal(await store.deleteRegistry('fabrikam'), true);
        assert.equal(await store.getRegistry('fabrikam'), undefined);
        assert.equal(await store.deleteRegistry('fabrikam'), false);
      });
    });

    describe('blobs', () => {
      it('links a blob into one repository only', async () => {
        const layer = blob('layer');
        await store.linkBlob('contoso', 'app', layer.digest, layer.size);
        assert.equal((await store.getRepositoryBlob('contoso', 'app', layer.digest))?.size, layer.size);
        assert.equal(await store.getRepositoryBlob('contoso', 'other', layer.digest), undefined);
        assert.equal(await store.getRepositoryBlob('contoso', 'app', blob('unknown').digest), undefined);
      });

      it('finds a blob linked anywhere in the registry, and only there', async () => {
        const layer = blob('layer');
        await store.linkBlob('contoso', 'team/app', layer.digest, layer.size);
        assert.deepEqual(await store.findRegistryBlob('contoso', layer.digest), { size: layer.size });
        assert.equal(await store.findRegistryBlob('fabrikam', layer.digest), undefined);
      });

      it('links idempotently and unlinks', async () => {
        const layer = blob('layer');
        await store.linkBlob('contoso', 'app', layer.digest, layer.size);
        await store.linkBlob('contoso', 'app', layer.digest, layer.size);
        assert.equal(await store.unlinkBlob('contoso', 'app', layer.digest), true);
        assert.equal(await store.getRepositoryBlob('contoso', 'app', layer.digest), undefined);
        assert.equal(await store.unlinkBlob('contoso', 'app', layer.digest), false);
        assert.equal(await store.unlinkBlob('contoso', 'nosuchrepo', layer.digest), false);
      });

      it('keeps a blob linked elsewhere when one repository unlinks it', async () => {
        const layer = blob('shared');
        await store.linkBlob('contoso', 'one', layer.digest, layer.size);
        await store.linkBlob('contoso', 'two', layer.digest, layer.size);
        await store.unlinkBlob('contoso', 'one', layer.digest);
        assert.equal((await store.getRepositoryBlob('contoso', 'two', layer.digest))?.size, layer.size);
        assert.deepEqual(await store.findRegistryBlob('contoso', layer.digest), { size: layer.size });
      });

      it('survives concurrent links of the same digest', async () => {
        const layer = blob('raced');
        const repositories = ['app', 'app', 'app', 'app', 'app', 'other', 'other', 'third', 'fourth', 'fifth'];
        await Promise.all(
          [...repositories, ...repositories].map((repository) =>
            store.linkBlob('contoso', repository, layer.digest, layer.size),
          ),
        );
        for (const repository of new Set(repositories)) {
          assert.equal((await store.getRepositoryBlob('contoso', repository, layer.digest))?.size, layer.size);
        }
      });

      it('keeps the bytes of a small blob in its row, written with its link', async () => {
        const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
        const inline = blob('inline');
        await store.linkBlob('contoso', 'app', inline.digest, config.length, config);
        assert.deepEqual(await store.getRepositoryBlob('contoso', 'app', inline.digest).then((found) => found?.content), config);
        assert.deepEqual(await store.getBlobContent(inline.digest), config);
        const empty = blob('empty');
        await store.linkBlob('contoso', 'app', empty.digest, 0, Buffer.alloc(0));
        assert.deepEqual(await store.getBlobContent(empty.digest), Buffer.alloc(0), 'an empty blob has bytes too');
        const stored = blob('stored');
        await store.linkBlob('contoso', 'app', stored.digest, stored.size);
        assert.equal((await store.getRepositoryBlob('contoso', 'app', stored.digest))?.content, undefined);
        assert.equal(await store.getBlobContent(stored.digest), undefined);
        assert.equal(await store.getBlobContent(blob('unknown').digest), undefined);
      });

      it('gives a row its bytes once and never takes them away', async () => {
        const bytes = Buffer.from('small');
        const first = blob('first');
        await store.linkBlob('contoso', 'app', first.digest, bytes.length);
        await store.linkBlob('contoso', 'other', first.digest, bytes.length, bytes);
        assert.deepEqual(await store.getBlobContent(first.digest), bytes, 'a row without bytes gets them');
        await store.linkBlob('contoso', 'third', first.digest, bytes.length);
        assert.deepEqual(await store.getBlobContent(first.digest), bytes, 'a link without bytes keeps them');
        assert.deepEqual((await store.getRepositoryBlob('contoso', 'third', first.digest))?.content, bytes);
      });

      it('mounts a blob whose bytes are in its row only when asked to require them', async () => {
        const inline = blob('inline-mount');
        const stored = blob('stored-mount');
        await store.linkBlob('contoso', 'app', inline.digest, 3, Buffer.from('abc'));
        await store.linkBlob('contoso', 'app', stored.digest, stored.size);
        assert.deepEqual(await store.mountBlob('contoso', 'copy', inline.digest, 'app', { requireContent: true }), { size: 3 });
        assert.equal(await store.mountBlob('contoso', 'copy', stored.digest, 'app', { requireContent: true }), undefined);
        assert.equal(await store.getRepositoryBlob('contoso', 'copy', stored.digest), undefined);
        assert.deepEqual(await store.mountBlob('contoso', 'copy', stored.digest, 'app'), { size: stored.size });
      });
    });

    describe('ended upload sessions', () => {
      it('remembers an ended session until its time is over, recording it twice changing nothing', async () => {
        const until = new Date('2030-01-02T00:00:00.000Z');
        assert.equal(await store.isUploadEnded('session-a'), false);
        await store.endUpload({ id: 'session-a', until });
        await store.endUpload({ id: 'session-a', until });
        await store.endUpload({ id: 'session-b', until: new Date('2030-01-01T00:00:00.000Z') });
        assert.equal(await store.isUploadEnded('session-a'), true);
        assert.equal(await store.forgetEndedUploads(new Date('2030-01-01T12:00:00.000Z')), 1);
        assert.equal(await store.isUploadEnded('session-b'), false);
        assert.equal(await store.isUploadEnded('session-a'), true);
        assert.equal(await store.forgetEndedUploads(new Date('2030-01-03T00:00:00.000Z')), 1);
        assert.equal(await store.isUploadEnded('session-a'), false);
      });

      it('ends the session that delivered a blob in the transaction that links it', async () => {
        const linked = blob('ended-link');
        const until = new Date(Date.now() + 3600_000);
        await store.linkBlob('contoso', 'app', linked.digest, 3, Buffer.from('abc'), { id: 'session-c', until });
        assert.equal(await store.isUploadEnded('session-c'), true);
        await assert.rejects(store.linkBlob('nowhere', 'app', linked.digest, 3, undefined, { id: 'session-d', until }), RegistryNotFoundError);
        assert.equal(await store.isUploadEnded('session-d'), false, 'a link that failed ends nothing');
      });
    });

    describe('repositories without manifests', () => {
      it('are not listed while they hold only blobs', async () => {
        await store.linkBlob('contoso', 'blobs-only', blob('b').digest, 1);
        assert.deepEqual(await store.listRepositories('contoso', {}), []);
        assert.equal(await store.repositoryExists('contoso', 'blobs-only'), false);
      });
    });

    describe('a registry that does not exist', () => {
      it('reads as empty', async () => {
        const digest = blob('x').digest;
        assert.equal(await store.getRepositoryBlob('nosuchregistry', 'app', digest), undefined);
        assert.equal(await store.findRegistryBlob('nosuchregistry', digest), undefined);
        assert.equal(await store.getManifestByDigest('nosuchregistry', 'app', digest), undefined);
        assert.equal(await store.getManifestByTag('nosuchregistry', 'app', 'latest'), undefined);
        assert.equal(await store.repositoryExists('nosuchregistry', 'app'), false);
        assert.deepEqual(await store.listTags('nosuchregistry', 'app', {}), []);
        assert.deepEqual(await store.listRepositories('nosuchregistry', {}), []);
        assert.deepEqual(await store.listReferrers('nosuchregistry', 'app', digest), []);
        assert.deepEqual(await store.deleteManifest('nosuchregistry', 'app', digest), { status: 'not-found' });
        assert.equal(await store.deleteTag('nosuchregistry', 'app', 'latest'), false);
      });

      it('refuses writes', async () => {
        const layer = blob('x');
        await assert.rejects(store.linkBlob('nosuchregistry', 'app', layer.digest, layer.size), RegistryNotFoundError);
        await assert.rejects(
          store.putManifest(image('nosuchregistry', 'app', { tags: ['latest'] })),
          RegistryNotFoundError,
        );
        assert.deepEqual(await store.listRegistries().then((all) => all.map((r) => r.name)), ['contoso', 'fabrikam']);
      });
    });

    describe('manifests', () => {
      it('stores a manifest and reads it by digest and by tag', async () => {
        const manifest = await pushImage('contoso', 'team/app', 'one', ['latest', 'v1']);
        const byDigest = await store.getManifestByDigest('contoso', 'team/app', manifest.digest);
        assert.ok(byDigest);
        assert.equal(byDigest.digest, manifest.digest);
        assert.equal(byDigest.mediaType, imageType);
        assert.equal(byDigest.artifactType, configType);
        assert.equal(byDigest.subject, null);
        assert.equal(byDigest.size, manifest.content.length);
        assert.ok(Buffer.isBuffer(byDigest.content));
        assert.ok(byDigest.content.equals(manifest.content));
        assert.match(byDigest.createdAt, /Z$/);
        assert.deepEqual(await store.getManifestByTag('contoso', 'team/app', 'latest'), byDigest);
        assert.deepEqual(await store.getManifestByTag('contoso', 'team/app', 'v1'), byDigest);
        assert.equal(await store.getManifestByTag('contoso', 'team/app', 'v2'), undefined);
        assert.equal(await store.getManifestByDigest('contoso', 'other', manifest.digest), undefined);
        assert.deepEqual(await allTags(store, 'contoso', 'team/app'), ['latest', 'v1']);
      });

      it('keeps bytes that are not UTF-8 intact', async () => {
        const content = Buffer.from([0x7b, 0x00, 0xff, 0xfe, 0x80, 0x7d]);
        await store.putManifest({ ...image('contoso', 'app'), content, digest: digestOf(content) });
        const stored = await store.getManifestByDigest('contoso', 'app', digestOf(content));
        assert.ok(stored);
        assert.ok(stored.content.equals(content));
        assert.equal(stored.size, content.length);
      });

      it('refuses a manifest whose blobs are not linked, leaving nothing behind', async () => {
        const present = blob('present');
        const absent = blob('absent');
        await store.linkBlob('contoso', 'app', present.digest, present.size);
        const manifest = image('contoso', 'app', { blobs: [present.digest, absent.digest], tags: ['latest'] });
        await assert.rejects(store.putManifest(manifest), (error: unknown) => {
          assert.ok(error instanceof MissingReferencesError);
          assert.deepEqual(error.blobs, [absent.digest]);
          assert.deepEqual(error.manifests, []);
          return true;
        });
        assert.equal(await store.getManifestByDigest('contoso', 'app', manifest.digest), undefined);
        assert.equal(await store.getManifestByTag('contoso', 'app', 'latest'), undefined);
        assert.deepEqual(await allTags(store, 'contoso', 'app'), []);
        assert.equal(await store.repositoryExists('contoso', 'app'), false);
      });

      it('refuses a manifest in a new repository without creating the repository', async () => {
        const manifest = image('contoso', 'fresh', { blobs: [blob('absent').digest], tags: ['latest'] });
        await assert.rejects(store.putManifest(manifest), MissingReferencesError);
        assert.deepEqual(await store.listRepositories('contoso', {}), []);
        // A manifest that needs nothing creates its repository.
        await store.putManifest(image('contoso', 'fresh', { tags: ['latest'] }));
        assert.deepEqual(await store.listRepositories('contoso', {}), ['fresh']);
      });

      it('requires blobs to be linked in the same repository', async () => {
        const layer = blob('elsewhere');
        await store.linkBlob('contoso', 'other', layer.digest, layer.size);
        await store.linkBlob('fabrikam', 'app', layer.digest, layer.size);
        await assert.rejects(
          store.putManifest(image('contoso', 'app', { blobs: [layer.digest] })),
          MissingReferencesError,
        );
      });

      it('puts the same digest idempotently, still applying its tags', async () => {
        const manifest = await pushImage('contoso', 'app', 'one', ['v1']);
        const first = await store.getManifestByDigest('contoso', 'app', manifest.digest);
        await store.putManifest({ ...manifest, tags: ['v1', 'stable'] });
        assert.deepEqual(await store.getManifestByDigest('contoso', 'app', manifest.digest), first);
        assert.deepEqual(await allTags(store, 'contoso', 'app'), ['stable', 'v1']);
        assert.equal((await store.getManifestByTag('contoso', 'app', 'stable'))?.digest, manifest.digest);
      });

      it('moves a tag to another manifest, leaving the old manifest in place', async () => {
        const one = await pushImage('contoso', 'app', 'one', ['latest']);
        const two = await pushImage('contoso', 'app', 'two', ['latest']);
        assert.equal((await store.getManifestByTag('contoso', 'app', 'latest'))?.digest, two.digest);
        assert.ok(await store.getManifestByDigest('contoso', 'app', one.digest));
        assert.deepEqual(await allTags(store, 'contoso', 'app'), ['latest']);
      });

      it('reads a manifest for a pull with the read locks and quarantine state that apply to it', async () => {
        const one = await pushImage('contoso', 'app', 'one', ['latest']);
        const open = { digest: one.digest, mediaType: imageType, size: one.content.length, readEnabled: true, quarantineState: null, repositoryReadEnabled: true };
        assert.deepEqual(await store.getPullableManifest('contoso', 'app', { kind: 'tag', tag: 'latest' }), { ...open, tagReadEnabled: true });
        assert.deepEqual(await store.getPullableManifest('contoso', 'app', { kind: 'digest', digest: one.digest }), { ...open, tagReadEnabled: null });
        assert.equal(await store.getPullableManifest('contoso', 'app', { kind: 'tag', tag: 'other' }), undefined);
        assert.equal(await store.getPullableManifest('fabrikam', 'app', { kind: 'digest', digest: one.digest }), undefined);

        await store.attributes.updateRepository('contoso', 'app', { readEnabled: false });
        await store.attributes.updateTag('contoso', 'app', 'latest', { readEnabled: false });
        await store.attributes.updateManifest('contoso', 'app', one.digest, { readEnabled: false, quarantineState: 'Pending' });
        assert.deepEqual(await store.getPullableManifest('contoso', 'app', { kind: 'tag', tag: 'latest' }), {
          ...open,
          readEnabled: false,
          quarantineState: 'Pending',
          repositoryReadEnabled: false,
          tagReadEnabled: false,
        });

        const two = await pushImage('contoso', 'app', 'two', ['latest']);
        assert.equal((await store.getPullableManifest('contoso', 'app', { kind: 'tag', tag: 'latest' }))?.digest, two.digest);
        await store.deleteManifest('contoso', 'app', two.digest);
        assert.equal(await store.getPullableManifest('contoso', 'app', { kind: 'tag', tag: 'latest' }), undefined);
        assert.equal(await store.getPullableManifest('contoso', 'app', { kind: 'digest', digest: two.digest }), undefined);
      });

      it('deletes a manifest with its tags', async () => {
        const one = await pushImage('contoso', 'app', 'one', ['v1', 'latest']);
        const two = await pushImage('contoso', 'app', 'two', ['v2']);
        assert.deepEqual(await store.deleteManifest('contoso', 'app', one.digest), { status: 'deleted' });
        assert.equal(await store.getManifestByDigest('contoso', 'app', one.digest), undefined);
        assert.equal(await store.getManifestByTag('contoso', 'app', 'v1'), undefined);
        assert.deepEqual(await allTags(store, 'contoso', 'app'), ['v2']);
        assert.ok(await store.getManifestByDigest('contoso', 'app', two.digest));
        assert.deepEqual(await store.deleteManifest('contoso', 'app', one.digest), { status: 'not-found' });
        assert.deepEqual(await store.deleteManifest('contoso', 'other', two.digest), { status: 'not-found' });
      });

      it('stores a deleted digest again', async () => {
        const one = await pushImage('contoso', 'app', 'one', ['v1']);
        await store.deleteManifest('contoso', 'app', one.digest);
        await store.putManifest({ ...one, tags: ['again'] });
        assert.equal((await store.getManifestByTag('contoso', 'app', 'again'))?.digest, one.digest);
        assert.deepEqual(await allTags(store, 'contoso', 'app'), ['again']);
      });

      it('stores an index only when its child manifests are in the repository', async () => {
        const amd64 = await pushImage('contoso', 'app', 'amd64');
        const arm64 = image('contoso', 'app', { label: 'arm64' });
        const list = index('contoso', 'app', [amd64.digest, arm64.digest], ['latest']);
        await assert.rejects(store.putManifest(list), (error: unknown) => {
          assert.ok(error instanceof MissingReferencesError);
          assert.deepEqual(error.blobs, []);
          assert.deepEqual(error.manifests, [arm64.digest]);
          return true;
        });
        assert.equal(await store.getManifestByTag('contoso', 'app', 'latest'), undefined);

        await store.putManifest(arm64);
        await store.putManifest(list);
        assert.equal((await store.getManifestByTag('contoso', 'app', 'latest'))?.mediaType, indexType);
      });

      it('refuses to delete a manifest an index references, until the index is gone', async () => {
        const child = await pushImage('contoso', 'app', 'child', ['child']);
        const list = index('contoso', 'app', [child.digest], ['latest']);
        await store.putManifest(list);

        assert.deepEqual(await store.deleteManifest('contoso', 'app', child.digest), {
          status: 'referenced',
          by: list.digest,
        });
        assert.ok(await store.getManifestByTag('contoso', 'app', 'child'));

        assert.deepEqual(await store.deleteManifest('contoso', 'app', list.digest), { status: 'deleted' });
        assert.deepEqual(await store.deleteManifest('contoso', 'app', child.digest), { status: 'deleted' });
        assert.equal(await store.repositoryExists('contoso', 'app'), false);
      });

      it('does not let an index in one repository pin a manifest in another', async () => {
        const child = await pushImage('contoso', 'one', 'child');
        const copy = await pushImage('contoso', 'two', 'child');
        assert.equal(copy.digest, child.digest);
        await store.putManifest(index('contoso', 'one', [child.digest]));
        assert.deepEqual(await store.deleteManifest('contoso', 'two', child.digest), { status: 'deleted' });
      });

      it('deletes a tag alone', async () => {
        const one = await pushImage('contoso', 'app', 'one', ['v1', 'latest']);
        assert.equal(await store.deleteTag('contoso', 'app', 'latest'), true);
        assert.equal(await store.deleteTag('contoso', 'app', 'latest'), false);
        assert.equal(await store.getManifestByTag('contoso', 'app', 'latest'), undefined);
        assert.equal((await store.getManifestByTag('contoso', 'app', 'v1'))?.digest, one.digest);
        assert.ok(await store.getManifestByDigest('contoso', 'app', one.digest));
      });

      it('knows a repository exists while it holds a manifest', async () => {
        assert.equal(await store.repositoryExists('contoso', 'app'), false);
        const one = await pushImage('contoso', 'app', 'one');
        assert.equal(await store.repositoryExists('contoso', 'app'), true);
        assert.equal(await store.repositoryExists('contoso', 'ap'), false);
        await store.deleteManifest('contoso', 'app', one.digest);
        assert.equal(await store.repositoryExists('contoso', 'app'), false);
      });
    });

    describe('listing', () => {
      it('lists tags in byte order, page by page', async () => {
        await pushImage('contoso', 'app', 'one', byteOrderedNames.filter((n) => !n.includes('/')).reverse());
        const expected = ['A', 'Z', '_', 'a', 'a-b', 'a.b'];
        assert.deepEqual(await allTags(store, 'contoso', 'app'), expected);

        const pages: string[][] = [];
        let last: string | undefined;
        for (let i = 0; i < 10; i++) {
          const page = await store.listTags('contoso', 'app', { n: 4, last });
          if (page.length === 0) break;
          pages.push(page);
          last = page[page.length - 1];
        }
        assert.deepEqual(pages, [
          ['A', 'Z', '_', 'a'],
          ['a-b', 'a.b'],
        ]);
        assert.deepEqual(await store.listTags('contoso', 'app', { last: '_' }), ['a', 'a-b', 'a.b']);
        assert.deepEqual(await store.listTags('contoso', 'app', { last: 'B' }), ['Z', '_', 'a', 'a-b', 'a.b']);
        assert.deepEqual(await store.listTags('contoso', 'app', { n: 2 }), ['A', 'Z']);
        assert.deepEqual(await store.listTags('contoso', 'app', { n: 0 }), []);
        assert.deepEqual(await store.listTags('contoso', 'app', { last: 'a.b' }), []);
        assert.deepEqual(await store.listTags('contoso', 'app', { last: 'zzz' }), []);
      });

      it('lists repositories holding manifests in byte order, page by page', async () => {
        for (const repository of [...byteOrderedNames].reverse()) await pushImage('contoso', repository, repository);
        await store.linkBlob('contoso', 'B-blobs-only', blob('b').digest, 1);
        assert.deepEqual(await store.listRepositories('contoso', {}), byteOrderedNames);

        const pages: string[][] = [];
        let last: string | undefined;
        for (let i = 0; i < 10; i++) {
          const page = await store.listRepositories('contoso', { n: 3, last });
          if (page.length === 0) break;
          pages.push(page);
          last = page[page.length - 1];
        }
        assert.deepEqual(pages, [
          ['A', 'Z', '_'],
          ['a', 'a-b', 'a.b'],
          ['a/b'],
        ]);
        assert.deepEqual(await store.listRepositories('contoso', { last: 'a', n: 2 }), ['a-b', 'a.b']);
        assert.deepEqual(await store.listRepositories('contoso', { last: 'a/b' }), []);
      });

      it('drops a repository from the catalog when its last manifest goes', async () => {
        const one = await pushImage('contoso', 'app', 'one');
        await pushImage('contoso', 'kept', 'kept');
        await store.deleteManifest('contoso', 'app', one.digest);
        assert.deepEqual(await store.listRepositories('contoso', {}), ['kept']);
      });
    });

    describe('referrers', () => {
      it('lists manifests by subject, optionally by artifact type', async () => {
        const subject = await pushImage('contoso', 'app', 'subject', ['latest']);
        const signature = image('contoso', 'app', {
          label: 'signature',
          subject: subject.digest,
          artifactType: 'application/vnd.example.signature',
          annotations: { 'org.example.signed-by': 'ci' },
        });
        const sbom = image('contoso', 'app', {
          label: 'sbom',
          subject: subject.digest,
          artifactType: 'application/spdx+json',
        });
        const unrelated = image('contoso', 'app', { label: 'unrelated', subject: digestOf('another subject') });
        for (const manifest of [signature, sbom, unrelated]) await store.putManifest(manifest);
        // Same subject, other repository: not a referrer here.
        await store.putManifest(image('contoso', 'other', { label: 'elsewhere', subject: subject.digest }));

        const all = await store.listReferrers('contoso', 'app', subject.digest);
        assert.deepEqual(
          all.map((r) => r.digest).sort(),
          [signature.digest, sbom.digest].sort(),
        );
        const signed = all.find((r) => r.digest === signature.digest);
        assert.deepEqual(signed, {
          digest: signature.digest,
          mediaType: imageType,
          artifactType: 'application/vnd.example.signature',
          size: signature.content.length,
          annotations: { 'org.example.signed-by': 'ci' },
        });
        assert.equal(all.find((r) => r.digest === sbom.digest)?.annotations, null);

        const sboms = await store.listReferrers('contoso', 'app', subject.digest, 'application/spdx+json');
        assert.deepEqual(sboms.map((r) => r.digest), [sbom.digest]);
        assert.deepEqual(await store.listReferrers('contoso', 'app', subject.digest, 'application/none'), []);
      });

      it('lists referrers of a subject that is not stored', async () => {
        const missing = digestOf('not pushed yet');
        const attestation = image('contoso', 'app', { label: 'attestation', subject: missing });
        await store.putManifest(attestation);
        assert.deepEqual(
          (await store.listReferrers('contoso', 'app', missing)).map((r) => r.digest),
          [attestation.digest],
        );
      });
    });

    describe('registry isolation', () => {
      it('never shows one registry the content of another', async () => {
        const mine = await pushImage('contoso', 'app', 'mine', ['latest', 'only-contoso']);
        const theirs = await pushImage('fabrikam', 'app', 'theirs', ['latest']);
        const referrer = image('fabrikam', 'app', { label: 'ref', subject: mine.digest });
        await store.putManifest(referrer);

        assert.equal((await store.getManifestByTag('contoso', 'app', 'latest'))?.digest, mine.digest);
        assert.equal((await store.getManifestByTag('fabrikam', 'app', 'latest'))?.digest, theirs.digest);
        assert.equal(await store.getManifestByTag('fabrikam', 'app', 'only-contoso'), undefined);
        assert.equal(await store.getManifestByDigest('fabrikam', 'app', mine.digest), undefined);
        assert.equal(await store.getManifestByDigest('contoso', 'app', theirs.digest), undefined);
        assert.deepEqual(await allTags(store, 'contoso', 'app'), ['latest', 'only-contoso']);
        assert.deepEqual(await allTags(store, 'fabrikam', 'app'), ['latest']);
        assert.equal(await store.getRepositoryBlob('fabrikam', 'app', mine.blobs[0]!), undefined);
        assert.equal(await store.findRegistryBlob('contoso', theirs.blobs[0]!), undefined);
        assert.deepEqual(await store.listReferrers('contoso', 'app', mine.digest), []);

        await pushImage('fabrikam', 'fabrikam-only', 'x');
        assert.deepEqual(await store.listRepositories('contoso', {}), ['app']);
        assert.deepEqual(await store.listRepositories('fabrikam', {}), ['app', 'fabrikam-only']);

        assert.equal(await store.deleteTag('fabrikam', 'app', 'only-contoso'), false);
        assert.deepEqual(await store.deleteManifest('fabrikam', 'app', mine.digest), { status: 'not-found' });
        assert.ok(await store.getManifestByDigest('contoso', 'app', mine.digest));
      });

      it('deleting a registry removes its content and nothing else', async () => {
        const shared = blob('shared');
        for (const registry of ['contoso', 'fabrikam']) {
          await store.linkBlob(registry, 'app', shared.digest, shared.size);
          await store.putManifest(image(registry, 'app', { blobs: [shared.digest], tags: ['latest'] }));
        }
        const child = await pushImage('fabrikam', 'multi', 'child');
        await store.putManifest(index('fabrikam', 'multi', [child.digest], ['latest']));
        await store.putManifest(image('fabrikam', 'multi', { label: 'ref', subject: child.digest }));

        assert.equal(await store.deleteRegistry('fabrikam'), true);

        assert.equal(await store.getRegistry('fabrikam'), undefined);
        assert.deepEqual(await store.listRepositories('fabrikam', {}), []);
        assert.equal(await store.getManifestByTag('fabrikam', 'app', 'latest'), undefined);
        assert.ok(await store.getManifestByTag('contoso', 'app', 'latest'));
        assert.equal((await store.getRepositoryBlob('contoso', 'app', shared.digest))?.size, shared.size);

        // A registry created again under the same name starts empty.
        await store.createRegistry('fabrikam');
        assert.deepEqual(await store.listRepositories('fabrikam', {}), []);
        assert.equal(await store.findRegistryBlob('fabrikam', shared.digest), undefined);
        assert.deepEqual(await allTags(store, 'fabrikam', 'app'), []);
        assert.equal(await store.getManifestByDigest('fabrikam', 'multi', child.digest), undefined);
        assert.deepEqual(await store.listReferrers('fabrikam', 'multi', child.digest), []);
      });
    });

    describe('concurrency', () => {
      it('moves one tag under 50 concurrent puts, keeping every manifest', async () => {
        const manifests: NewManifest[] = [];
        for (const label of ['one', 'two', 'three', 'four', 'five']) {
          manifests.push(await pushImage('contoso', 'app', label, [`only-${label}`]));
        }
        await Promise.all(
          Array.from({ length: 50 }, (_, i) => {
            const manifest = manifests[i % manifests.length]!;
            return store.putManifest({ ...manifest, tags: ['latest'] });
          }),
        );
        const latest = await store.getManifestByTag('contoso', 'app', 'latest');
        assert.ok(latest);
        assert.ok(manifests.some((m) => m.digest === latest.digest));
        for (const [i, label] of ['one', 'two', 'three', 'four', 'five'].entries()) {
          const stored = await store.getManifestByTag('contoso', 'app', `only-${label}`);
          assert.equal(stored?.digest, manifests[i]!.digest);
          assert.ok(stored.content.equals(manifests[i]!.content));
        }
        assert.equal((await allTags(store, 'contoso', 'app')).length, 6);
      });

      it('stores one manifest under concurrent puts of the same digest into a new repository', async () => {
        const manifest = image('contoso', 'raced', { tags: ['latest'] });
        await Promise.all(Array.from({ length: 20 }, (_, i) => store.putManifest({ ...manifest, tags: ['latest', `t${i}`] })));
        assert.equal((await store.getManifestByTag('contoso', 'raced', 'latest'))?.digest, manifest.digest);
        assert.equal((await allTags(store, 'contoso', 'raced')).length, 21);
        assert.deepEqual(await store.listRepositories('contoso', {}), ['raced']);
      });

      it('never stores an index over a child being deleted at the same time', async () => {
        for (let i = 0; i < 20; i++) {
          const child = await pushImage('contoso', 'app', `child ${i}`);
          const list = index('contoso', 'app', [child.digest]);
          const [put, deleted] = await Promise.allSettled([
            store.putManifest(list),
            store.deleteManifest('contoso', 'app', child.digest),
          ]);
          assert.ok(put.status === 'fulfilled' || put.reason instanceof MissingReferencesError);
          assert.equal(deleted.status, 'fulfilled');
          if (await store.getManifestByDigest('contoso', 'app', list.digest)) {
            assert.ok(await store.getManifestByDigest('contoso', 'app', child.digest), 'an index never outlives its child');
          }
        }
      });
    });

    describe('ACR listings', () => {
      /** Timestamps have millisecond resolution: wait for the next one so time order is certain. */
      const tick = () => new Promise((resolve) => setTimeout(resolve, 3));

      it('summarises a repository', async () => {
        assert.equal(await store.getRepositoryInfo('contoso', 'app'), undefined);
        const one = await pushImage('contoso', 'app', 'one', ['v1', 'latest']);
        await tick();
        await pushImage('contoso', 'app', 'two', ['v2']);
        await store.linkBlob('contoso', 'blobs-only', blob('b').digest, 1);
        const info = await store.getRepositoryInfo('contoso', 'app');
        assert.ok(info);
        assert.equal(info.manifestCount, 2);
        assert.equal(info.tagCount, 3);
        assert.match(info.createdTime, /Z$/);
        assert.ok(info.lastUpdateTime > info.createdTime);
        assert.equal(await store.getRepositoryInfo('contoso', 'blobs-only'), undefined);
        assert.equal(await store.getRepositoryInfo('fabrikam', 'app'), undefined);
        await tick();
        await store.putManifest({ ...one, tags: ['moved'] });
        assert.ok((await store.getRepositoryInfo('contoso', 'app'))!.lastUpdateTime > info.lastUpdateTime);
      });

      it('lists tags with their manifests, in name or time order, page by page', async () => {
        const one = await pushImage('contoso', 'app', 'one', ['b-tag']);
        await tick();
        const two = await pushImage('contoso', 'app', 'two', ['a-tag', 'c-tag']);
        await tick();
        await store.putManifest({ ...one, tags: ['d-tag'] });
        await pushImage('fabrikam', 'app', 'elsewhere', ['z-tag']);

        const all = await store.listTagDetails('contoso', 'app', {});
        assert.deepEqual(all.map((t) => [t.name, t.digest]), [
          ['a-tag', two.digest],
          ['b-tag', one.digest],
          ['c-tag', two.digest],
          ['d-tag', one.digest],
        ]);
        assert.ok(all.every((t) => /Z$/.test(t.createdTime) && t.lastUpdateTime >= t.createdTime));
        assert.deepEqual((await store.listTagDetails('contoso', 'app', { n: 2, last: 'a-tag' })).map((t) => t.name), ['b-tag', 'c-tag']);
        assert.deepEqual((await store.listTagDetails('contoso', 'app', { digest: one.digest })).map((t) => t.name), ['b-tag', 'd-tag']);
        assert.deepEqual(await store.listTagDetails('contoso', 'app', { n: 0 }), []);

        const newestFirst = await store.listTagDetails('contoso', 'app', { orderby: 'timedesc' });
        assert.deepEqual(newestFirst.map((t) => t.name), ['d-tag', 'c-tag', 'a-tag', 'b-tag']);
        const oldestFirst = await store.listTagDetails('contoso', 'app', { orderby: 'timeasc' });
        assert.deepEqual(oldestFirst.map((t) => t.name), ['b-tag', 'a-tag', 'c-tag', 'd-tag']);
        const pages: string[][] = [];
        let last: string | undefined;
        for (let i = 0; i < 10; i++) {
          const page = await store.listTagDetails('contoso', 'app', { orderby: 'timedesc', n: 3, last });
          if (page.length === 0) break;
          pages.push(page.map((t) => t.name));
          last = page.at(-1)!.name;
        }
        assert.deepEqual(pages, [['d-tag', 'c-tag', 'a-tag'], ['b-tag']]);
        assert.deepEqual(await store.listTagDetails('contoso', 'app', { orderby: 'timeasc', last: 'gone' }), []);
        assert.deepEqual(await store.listTagDetails('contoso', 'nosuchrepo', {}), []);
      });

      it('lists manifests with their tags and image details, in digest or time order', async () => {
        const layer = blob('layer');
        await store.linkBlob('contoso', 'app', layer.digest, layer.size);
        const detailed = {
          ...image('contoso', 'app', { label: 'detailed', blobs: [layer.digest], tags: ['v1', 'latest'] }),
          configMediaType: configType,
          architecture: 'amd64',
          os: 'linux',
          imageSize: 12345,
        };
        await store.putManifest(detailed);
        await tick();
        const plain = image('contoso', 'app', { label: 'plain' });
        await store.putManifest(plain);
        await tick();
        const child = await pushImage('contoso', 'app', 'child');
        await tick();
        const list = index('contoso', 'app', [child.digest], ['multi']);
        await store.putManifest(list);

        const all = await store.listManifestDetails('contoso', 'app', {});
        assert.deepEqual(all.map((m) => m.digest), [detailed.digest, plain.digest, child.digest, list.digest].sort());
        const found = all.find((m) => m.digest === detailed.digest);
        assert.deepEqual({ ...found, createdTime: 'x', lastUpdateTime: 'x' }, {
          digest: detailed.digest,
          mediaType: imageType,
          configMediaType: configType,
          architecture: 'amd64',
          os: 'linux',
          imageSize: 12345,
          createdTime: 'x',
          lastUpdateTime: 'x',
          tags: ['latest', 'v1'],
          changeableAttributes: { deleteEnabled: true, writeEnabled: true, readEnabled: true, listEnabled: true, quarantineState: null, quarantineDetails: null },
        });
        const bare = all.find((m) => m.digest === plain.digest);
        assert.equal(bare?.imageSize, plain.content.length);
        assert.equal(bare?.architecture, null);
        assert.deepEqual(bare?.tags, []);
        assert.deepEqual(all.find((m) => m.digest === list.digest)?.tags, ['multi']);

        const newestFirst = await store.listManifestDetails('contoso', 'app', { orderby: 'timedesc' });
        assert.deepEqual(newestFirst.map((m) => m.digest), [list.digest, child.digest, plain.digest, detailed.digest]);
        const second = await store.listManifestDetails('contoso', 'app', { orderby: 'timedesc', n: 2, last: child.digest });
        assert.deepEqual(second.map((m) => m.digest), [plain.digest, detailed.digest]);
        const oldest = await store.listManifestDetails('contoso', 'app', { orderby: 'timeasc', n: 1 });
        assert.deepEqual(oldest.map((m) => m.digest), [detailed.digest]);
        const byDigest = await store.listManifestDetails('contoso', 'app', { n: 2, last: all[1]!.digest });
        assert.deepEqual(byDigest.map((m) => m.digest), all.slice(2).map((m) => m.digest));
        assert.deepEqual(await store.listManifestDetails('fabrikam', 'app', {}), []);
      });
    });

    identityStoreContract(
      () => store,
      async () => {
        store = await fixture.reopen();
        return store;
      },
    );

    eventStoreContract(
      () => store,
      async () => {
        store = await fixture.reopen();
        return store;
      },
    );

    gcUsageContract(() => store);

    attributeStoreContract(() => store);

    describe('persistence', () => {
      it('keeps its data when closed and opened again', async () => {
        const one = await pushImage('contoso', 'app', 'one', ['latest']);
        store = await fixture.reopen();
        store = await fixture.reopen();
        assert.deepEqual((await store.listRegistries()).map((r) => r.name), ['contoso', 'fabrikam']);
        const stored = await store.getManifestByTag('contoso', 'app', 'latest');
        assert.ok(stored?.content.equals(one.content));
        await pushImage('contoso', 'app', 'two', ['latest']);
        assert.deepEqual(await store.listRepositories('contoso', {}), ['app']);
      });
    });
  });
}
