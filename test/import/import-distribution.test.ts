/**
 * `berth import` from Distribution 2.8 (`docker-registry`), plain and behind htpasswd Basic auth:
 * single images, a multi-arch index, skipping what is present, --force, and the bad inputs
 * (unreachable source, 401, an index whose blob is gone) ending in a clear error with nothing
 * half-imported visible.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestBerth, type TestBerth } from '../helper.ts';
import { freePort, startReferenceRegistry, type RegistryProcess } from '../helpers/berth-process.ts';
import { createRegistry } from '../helpers/identity.ts';
import { MULTI_ARCH, skopeoCopy, testImages, type TestImages } from '../helpers/images.ts';
import { assertFailed, assertSucceeded, blobServed, catalog, importImage, servedDigest, startImport } from './import-fixture.ts';

const SOURCE_USER = { username: 'importer', password: 'source-secret-91f2' };

describe('berth import from docker-registry (Distribution 2.8)', () => {
  let images: TestImages;
  let plain: RegistryProcess;
  let secured: RegistryProcess;
  let server: TestBerth;

  before(async () => {
    images = await testImages();
    [plain, secured, server] = await Promise.all([startReferenceRegistry(), startReferenceRegistry({ htpasswdUser: SOURCE_USER }), startTestBerth()]);
    await skopeoCopy(images.single.ref, `docker://${plain.host}/library/single:1`);
    await skopeoCopy(images.ociIndex.ref, `docker://${plain.host}/library/multi:1`, ['--all']);
    await skopeoCopy(images.dockerList.ref, `docker://${plain.host}/library/dockerlist:1`, ['--all']);
    await skopeoCopy(images.single.ref, `docker://${secured.host}/private/single:1`, ['--dest-creds', `${SOURCE_USER.username}:${SOURCE_USER.password}`]);
  });

  after(async () => {
    await server?.close();
    await Promise.all([plain?.stop(), secured?.stop()]);
  });

  it('az acr import --source 127.0.0.1:<port>/library/single:1 --image single:1 copies the image with its digest', async () => {
    const job = await importImage(server, 'default', { source: { sourceImage: `${plain.host}/library/single:1` }, targetTags: ['single:1'] });
    assertSucceeded(job);
    assert.equal(job.digest, images.single.digest);
    assert.equal(job.mode, 'NoForce');
    assert.deepEqual(job.targetTags, ['single:1']);
    assert.equal(job.progress.manifests.copied, 1);
    assert.equal(job.progress.blobs.copied, job.progress.blobs.total, 'config and layer transferred');
    assert.equal(job.progress.bytes.copied, job.progress.bytes.total);
    assert.ok(job.progress.bytes.total > 0);
    assert.equal(await servedDigest(server, 'single', '1'), images.single.digest);
  });

  it('copies a multi-arch OCI index with every platform image and blob, children first', async () => {
    const job = await importImage(server, 'default', { source: { registryUri: plain.host, sourceImage: 'library/multi:1' }, targetTags: ['multi:1', 'multi:latest'] });
    assertSucceeded(job);
    assert.equal(job.digest, images.ociIndex.digest);
    assert.equal(job.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.equal(job.progress.manifests.total, 1 + MULTI_ARCH.length);
    assert.equal(await servedDigest(server, 'multi', '1'), images.ociIndex.digest);
    assert.equal(await servedDigest(server, 'multi', 'latest'), images.ociIndex.digest);
    for (const child of images.ociIndex.children) {
      assert.equal(await servedDigest(server, 'multi', child.digest), child.digest, child.architecture);
      for (const layer of child.layers) assert.ok(await blobServed(server, 'multi', layer), `${child.architecture} layer ${layer}`);
    }
  });

  it('copies a Docker manifest list byte for byte', async () => {
    const job = await importImage(server, 'default', { source: { sourceImage: `${plain.host}/library/dockerlist:1` }, targetTags: ['dockerlist:1'] });
    assertSucceeded(job);
    assert.equal(await servedDigest(server, 'dockerlist', '1'), images.dockerList.digest);
    for (const child of images.dockerList.children) assert.equal(await servedDigest(server, 'dockerlist', child.digest), child.digest);
  });

  it('skips blobs already in the target repository and links those the registry holds, copying no bytes', async () => {
    const again = await importImage(server, 'default', { source: { sourceImage: `${plain.host}/library/multi:1` }, targetTags: ['multi:again'] });
    assertSucceeded(again);
    assert.equal(again.progress.blobs.skipped, again.progress.blobs.total);
    assert.equal(again.progress.bytes.total, 0);
    assert.equal(again.progress.bytes.copied, 0);

    const elsewhere = await importImage(server, 'default', { source: { sourceImage: `${plain.host}/library/multi:1` }, targetTags: ['team/multi:1'] });
    assertSucceeded(elsewhere);
    assert.equal(elsewhere.progress.blobs.linked, elsewhere.progress.blobs.total);
    assert.equal(elsewhere.progress.bytes.copied, 0);
    assert.equal(await servedDigest(server, 'team/multi', '1'), images.ociIndex.digest);
  });

  it('refuses to move an existing tag without --force (409), and moves it with mode Force', async () => {
    const refused = await startImport(server, 'default', { source: { sourceImage: `${plain.host}/library/multi:1` }, targetTags: ['single:1'] });
    assert.equal(refused.status, 409, refused.text);
    assert.match((refused.body as unknown as { detail: string }).detail, /single:1 already exists.*--force/);
    assert.equal(await servedDigest(server, 'single', '1'), images.single.digest, 'the tag did not move');

    const forced = await importImage(server, 'default', { source: { sourceImage: `${plain.host}/library/multi:1` }, targetTags: ['single:1'], mode: 'Force' });
    assertSucceeded(forced);
    assert.equal(forced.mode, 'Force');
    assert.equal(await servedDigest(server, 'single', '1'), images.ociIndex.digest);
  });

  it('imports by digest into an untagged repository', async () => {
    const child = images.ociIndex.children[0]!;
    const job = await importImage(server, 'default', { source: { sourceImage: `${plain.host}/library/multi@${child.digest}` }, untaggedTargetRepositories: ['bydigest'] });
    assertSucceeded(job);
    assert.equal(job.digest, child.digest);
    assert.equal(await servedDigest(server, 'bydigest', child.digest), child.digest);
  });

  it('with --username/--password: Basic auth against an htpasswd registry', async () => {
    const job = await importImage(server, 'default', {
      source: { sourceImage: `${secured.host}/private/single:1`, credentials: SOURCE_USER },
      targetTags: ['private/single:1'],
    });
    assertSucceeded(job);
    assert.equal(await servedDigest(server, 'private/single', '1'), images.single.digest);
  });

  it('401 without credentials or with wrong ones: a clear error, nothing visible', async () => {
    const anonymous = await importImage(server, 'default', { source: { sourceImage: `${secured.host}/private/single:1` }, targetTags: ['denied:1'] });
    assertFailed(anonymous, /requires a user name and password.*401/);
    const wrong = await importImage(server, 'default', {
      source: { sourceImage: `${secured.host}/private/single:1`, credentials: { username: SOURCE_USER.username, password: 'wrong' } },
      targetTags: ['denied:1'],
    });
    assertFailed(wrong, /refused the user name and password.*401/);
    assert.equal(await servedDigest(server, 'denied', '1'), undefined);
    assert.ok(!(await catalog(server)).includes('denied'));
  });

  it('an unreachable source fails with "cannot reach", nothing visible', async () => {
    const port = await freePort();
    const job = await importImage(server, 'default', { source: { sourceImage: `127.0.0.1:${port}/library/single:1` }, targetTags: ['unreachable:1'] });
    assertFailed(job, new RegExp(`cannot reach the source registry 127\\.0\\.0\\.1:${port}.*ECONNREFUSED`));
    assert.ok(!(await catalog(server)).includes('unreachable'));
  });

  it('a source manifest that does not exist is named in the error', async () => {
    const job = await importImage(server, 'default', { source: { sourceImage: `${plain.host}/library/single:nope` }, targetTags: ['nope:1'] });
    assertFailed(job, /manifest nope is missing at the source \(404 MANIFEST_UNKNOWN/);
  });

  it('a source index referencing a missing blob fails naming the blob and its platform; nothing half-imported is visible', async () => {
    await skopeoCopy(images.ociIndex.ref, `docker://${plain.host}/broken/multi:1`, ['--all']);
    const arm64 = images.ociIndex.children.find((child) => child.architecture === 'arm64')!;
    const missing = arm64.layers[0]!;
    const deleted = await fetch(`${plain.url}/v2/broken/multi/blobs/${missing}`, { method: 'DELETE' });
    assert.equal(deleted.status, 202, await deleted.text());

    // A registry that holds none of the blobs yet, so every one must come from the source.
    const host = await createRegistry(server, 'freshtarget');
    const job = await importImage(server, 'freshtarget', { source: { sourceImage: `${plain.host}/broken/multi:1` }, targetTags: ['broken:1'] });
    assertFailed(job, new RegExp(`blob ${missing} is missing at the source \\(404 BLOB_UNKNOWN.*linux/arm64 image ${arm64.digest}`));
    assert.equal(await servedDigest(server, 'broken', '1', host), undefined, 'no tag');
    for (const child of images.ociIndex.children) assert.equal(await servedDigest(server, 'broken', child.digest, host), undefined, `no ${child.architecture} manifest`);
    assert.deepEqual(await catalog(server, host), [], 'nothing in the catalog');
  });
});
