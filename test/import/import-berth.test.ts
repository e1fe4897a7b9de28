/**
 * `berth import` between Berth registries: inside one installation (by `--registry` name, or by a
 * login server of the installation) with links instead of byte copies, and from another Berth
 * installation over HTTP with the Bearer token flow. Who may import what.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OWNER, startTestBerth, type TestBerth } from '../helper.ts';
import { assignRole, createRegistry, createUser, portOf } from '../helpers/identity.ts';
import { imageOf, OCI_INDEX, pushImage, putManifest, randomBlob, sha256, type Image } from '../helpers/oci-http.ts';
import { assertFailed, assertSucceeded, blobServed, importImage, servedDigest, startImport, waitForImport } from './import-fixture.ts';

interface PushedIndex {
  digest: string;
  children: Image[];
}

/** Two images and an OCI index over them, pushed to `repository:tag` of the default registry. */
async function pushIndex(server: TestBerth, repository: string, tag: string): Promise<PushedIndex> {
  const children: Image[] = [];
  for (const tagOfChild of ['amd64', 'arm64']) children.push(await pushImage(server, repository, `${tag}-${tagOfChild}`));
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: children.map((child, position) => ({
        mediaType: child.mediaType,
        digest: child.digest,
        size: child.manifest.length,
        platform: { os: 'linux', architecture: position === 0 ? 'amd64' : 'arm64' },
      })),
    }),
  );
  const response = await putManifest(server, repository, tag, index, OCI_INDEX);
  assert.equal(response.status, 201, await response.text());
  return { digest: sha256(index), children };
}

describe('berth import between Berth registries', () => {
  let server: TestBerth;
  let other: TestBerth;
  let contoso: string;
  let pushed: PushedIndex;
  let remote: Image;

  before(async () => {
    [server, other] = await Promise.all([startTestBerth(), startTestBerth()]);
    contoso = await createRegistry(server, 'contoso');
    pushed = await pushIndex(server, 'base/app', '1');
    const layer = randomBlob(4096);
    remote = await pushImage(other, 'remote/app', '7', imageOf({ layers: [layer, layer] }));
    await createUser(server, 'pusher', 'pusher-password-1');
    await assignRole(server, 'pusher', 'AcrPush', '/registries/contoso');
    await createUser(server, 'reader', 'reader-password-1');
    await assignRole(server, 'reader', 'AcrPull', '/registries/default');
    await createUser(server, 'both', 'both-password-1');
    await assignRole(server, 'both', 'AcrPush', '/registries/contoso');
    await assignRole(server, 'both', 'AcrPull', '/registries/default/repositories/base/app');
  });

  after(async () => {
    await Promise.all([server?.close(), other?.close()]);
  });

  it('az acr import -n contoso --registry default --source base/app:1 links every blob and copies the index, no bytes', async () => {
    const job = await importImage(server, 'contoso', { source: { resourceId: '/registries/default', sourceImage: 'base/app:1' }, targetTags: ['app:1'] });
    assertSucceeded(job);
    assert.equal(job.sourceRegistry, 'default');
    assert.equal(job.digest, pushed.digest);
    assert.equal(job.progress.manifests.copied, 3);
    assert.equal(job.progress.blobs.total, 4);
    assert.equal(job.progress.blobs.linked, 4);
    assert.equal(job.progress.bytes.copied, 0);
    assert.equal(await servedDigest(server, 'app', '1', contoso), pushed.digest);
    for (const child of pushed.children) {
      assert.equal(await servedDigest(server, 'app', child.digest, contoso), child.digest);
      for (const blob of [child.config, ...child.layers]) assert.ok(await blobServed(server, 'app', blob.digest, contoso));
    }
    const layer = pushed.children[0]!.layers[0]!;
    const pulled = await server.request(`/v2/app/blobs/${layer.digest}`, { host: contoso });
    assert.deepEqual(Buffer.from(await pulled.arrayBuffer()), layer.data, 'the linked blob serves the same bytes');
  });

  it('a login server of this installation as the source is a copy inside it too (contoso.localhost:<port>/app:1)', async () => {
    const job = await importImage(server, 'default', { source: { sourceImage: `${contoso}/app:1` }, targetTags: ['fromcontoso:1'] });
    assertSucceeded(job);
    assert.equal(job.sourceRegistry, 'contoso');
    assert.equal(job.progress.bytes.copied, 0);
    const viaAddress = await importImage(server, 'contoso', { source: { sourceImage: `127.0.0.1:${portOf(server)}/base/app:1-amd64` }, targetTags: ['amd64:1'] });
    assertSucceeded(viaAddress);
    assert.equal(viaAddress.sourceRegistry, 'default');
    assert.equal(await servedDigest(server, 'amd64', '1', contoso), pushed.children[0]!.digest);
  });

  it('needs push on the target and pull on the source: 403 naming what is missing', async () => {
    const body = { source: { resourceId: '/registries/default', sourceImage: 'base/app:1' }, targetTags: ['perm:1'] };
    const noPull = await startImport(server, 'contoso', body, { username: 'pusher', password: 'pusher-password-1' });
    assert.equal(noPull.status, 403, noPull.text);
    assert.match(noPull.text, /the caller may not pull base\/app from registry default/);
    const noPush = await startImport(server, 'contoso', body, { username: 'reader', password: 'reader-password-1' });
    assert.equal(noPush.status, 403, noPush.text);
    assert.match(noPush.text, /may not push to perm in registry contoso/);
    const started = await startImport(server, 'contoso', body, { username: 'both', password: 'both-password-1' });
    assert.equal(started.status, 202, started.text);
    assertSucceeded(await waitForImport(server, 'contoso', started.body.id));

    const hidden = await server.request(`/mgmt/v1/registries/contoso/imports/${started.body.id}`, { auth: { username: 'reader', password: 'reader-password-1' } });
    assert.equal(hidden.status, 404, 'a caller who may not push there cannot follow the job');
  });

  it('source credentials of this installation are checked: a wrong password is a 400, never a copy', async () => {
    const response = await startImport(server, 'contoso', {
      source: { resourceId: '/registries/default', sourceImage: 'base/app:1', credentials: { username: 'reader', password: 'wrong' } },
      targetTags: ['creds:1'],
    });
    assert.equal(response.status, 400, response.text);
    assert.match(response.text, /refused the user name and password/);
  });

  it('from another Berth installation with its owner credential: the Bearer token flow', async () => {
    const source = `127.0.0.1:${portOf(other)}/remote/app:7`;
    const job = await importImage(server, 'contoso', { source: { sourceImage: source, credentials: OWNER }, targetTags: ['remote:7'] });
    assertSucceeded(job);
    assert.equal(job.sourceRegistry, null);
    assert.equal(job.digest, remote.digest);
    assert.equal(job.progress.blobs.copied, 2, 'config and the one distinct layer');
    assert.equal(await servedDigest(server, 'remote', '7', contoso), remote.digest);

    const anonymous = await importImage(server, 'contoso', { source: { sourceImage: source }, targetTags: ['remote:anon'] });
    assertFailed(anonymous, /requires a user name and password \(401/);
    const wrong = await importImage(server, 'contoso', { source: { sourceImage: source, credentials: { username: OWNER.username, password: 'nope' } }, targetTags: ['remote:wrong'] });
    assertFailed(wrong, /refused the user name and password \(401/);
  });

  it('bad requests are refused before anything starts', async () => {
    const cases: [object, RegExp][] = [
      [{ source: { sourceImage: 'base/app:1' } }, /names no registry/],
      [{ source: { sourceImage: 'base/app:1', resourceId: '/registries/nosuchregistry' } }, /nosuchregistry does not exist/],
      [{ source: { sourceImage: 'Bad Name:1', registryUri: 'example.com' } }, /invalid/],
      [{ source: { sourceImage: 'example.com/a:1' }, targetTags: ['x@sha256:abc'] }, /must be repository:tag/],
      [{ source: { sourceImage: 'a:1', registryUri: 'example.com', resourceId: '/registries/default' } }, /not both/],
    ];
    for (const [body, pattern] of cases) {
      const response = await startImport(server, 'contoso', body as never);
      assert.equal(response.status, 400, `${JSON.stringify(body)}: ${response.text}`);
      assert.match(response.text, pattern);
    }
    const unknownJob = await server.request('/mgmt/v1/registries/contoso/imports/00000000-0000-0000-0000-000000000000');
    assert.equal(unknownJob.status, 404);
  });
});
