import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OWNER, startTestBerth, type TestBerth } from '../helper.ts';
import { skopeoCopy, testImages, type TestImages } from '../helpers/images.ts';
import { assignRole, createRegistry, createUser, mgmtOk, ociError } from '../helpers/identity.ts';
import { imageOf, OCI_MANIFEST, pushImage, putManifest, type Image } from '../helpers/oci-http.ts';

const PULLER = { username: 'puller', password: 'puller-Password-1' };
const READER = { username: 'qreader', password: 'qreader-Password-1' };
const SCANNER = { username: 'scanner', password: 'scanner-Password-1' };

describe('locks: changeable attributes refuse writes, deletes, reads and hide from lists', () => {
  let server: TestBerth;
  let contoso: string;
  let v1: Image;

  const request = (path: string, init: Parameters<TestBerth['request']>[1] = {}) => server.request(path, { host: contoso, ...init });
  const patch = async (path: string, body: unknown, auth?: typeof PULLER) => {
    const response = await request(path, { method: 'PATCH', body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, ...(auth && { auth }) });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, any>) : undefined, text };
  };
  const tagsOf = async (repository: string) => ((await (await request(`/v2/${repository}/tags/list`)).json()) as { tags: string[] }).tags;

  before(async () => {
    server = await startTestBerth();
    contoso = await createRegistry(server, 'contoso');
    v1 = await pushImage(server, 'app', 'v1', imageOf(), contoso);
    await pushImage(server, 'app', 'v2', imageOf(), contoso);
  });
  after(() => server.close());

  it('a write-locked tag cannot be moved, overwritten or deleted, and nothing changes', async () => {
    const locked = await patch('/acr/v1/app/_tags/v1', { writeEnabled: false });
    assert.equal(locked.status, 200, locked.text);
    assert.deepEqual(locked.body!.tag.changeableAttributes, { deleteEnabled: true, writeEnabled: false, readEnabled: true, listEnabled: true });

    const other = imageOf();
    const moved = await pushImage(server, 'app', 'elsewhere', other, contoso);
    const refused = await ociError(await putManifest(server, 'app', 'v1', moved.manifest, OCI_MANIFEST, contoso), 403, 'DENIED');
    assert.equal(refused.errors[0]!.message, 'tag app:v1 is write-locked (writeEnabled=false)');
    const deleted = await ociError(await request('/v2/app/manifests/v1', { method: 'DELETE' }), 403, 'DENIED');
    assert.match(deleted.errors[0]!.message, /tag app:v1 is write-locked/);
    await ociError(await request(`/v2/app/manifests/${v1.digest}`, { method: 'DELETE' }), 403, 'DENIED');
    await ociError(await request('/acr/v1/app/_tags/v1', { method: 'DELETE' }), 403, 'DENIED');
    const still = await request('/v2/app/manifests/v1', { headers: { accept: OCI_MANIFEST } });
    assert.equal(still.headers.get('docker-content-digest'), v1.digest, 'the tag did not move');
    assert.equal((await putManifest(server, 'app', 'v1', v1.manifest, OCI_MANIFEST, contoso)).status, 201, 're-pushing the same content is no overwrite');

    assert.equal((await patch('/acr/v1/app/_tags/v1', { writeEnabled: true })).status, 200);
  });

  it('a delete-locked manifest, tag or repository cannot be deleted', async () => {
    assert.equal((await patch(`/acr/v1/app/_manifests/${v1.digest}`, { deleteEnabled: false })).status, 200);
    const refused = await ociError(await request(`/v2/app/manifests/${v1.digest}`, { method: 'DELETE' }), 403, 'DENIED');
    assert.equal(refused.errors[0]!.message, `manifest app@${v1.digest} is delete-locked (deleteEnabled=false)`);
    const whole = await ociError(await request('/acr/v1/app', { method: 'DELETE' }), 403, 'DENIED');
    assert.match(whole.errors[0]!.message, /delete-locked/);
    assert.deepEqual(await tagsOf('app'), ['elsewhere', 'v1', 'v2'], 'nothing deleted');
    assert.equal((await patch(`/acr/v1/app/_manifests/${v1.digest}`, { deleteEnabled: true })).status, 200);

    assert.equal((await patch('/acr/v1/app', { deleteEnabled: false })).status, 200);
    const byRepository = await ociError(await request('/v2/app/manifests/v2', { method: 'DELETE' }), 403, 'DENIED');
    assert.equal(byRepository.errors[0]!.message, 'repository app is delete-locked (deleteEnabled=false)');
    assert.equal((await patch('/acr/v1/app', { deleteEnabled: true })).status, 200);
  });

  it('a read-disabled manifest cannot be pulled, by tag or digest', async () => {
    assert.equal((await patch(`/acr/v1/app/_manifests/${v1.digest}`, { readEnabled: false })).status, 200);
    const byTag = await ociError(await request('/v2/app/manifests/v1', { headers: { accept: OCI_MANIFEST } }), 403, 'DENIED');
    assert.equal(byTag.errors[0]!.message, `manifest app@${v1.digest} is read-locked (readEnabled=false)`);
    await ociError(await request(`/v2/app/manifests/${v1.digest}`, { headers: { accept: OCI_MANIFEST } }), 403, 'DENIED');
    assert.equal((await patch(`/acr/v1/app/_manifests/${v1.digest}`, { readEnabled: true })).status, 200);
    assert.equal((await request('/v2/app/manifests/v1', { headers: { accept: OCI_MANIFEST } })).status, 200);
  });

  it('list-disabled tags, manifests and repositories are hidden from /v2/ and /acr/v1 listings, but shown by name', async () => {
    assert.equal((await patch('/acr/v1/app/_tags/v2', { listEnabled: false })).status, 200);
    assert.deepEqual(await tagsOf('app'), ['elsewhere', 'v1']);
    const tags = (await (await request('/acr/v1/app/_tags')).json()) as { tags: { name: string }[] };
    assert.deepEqual(tags.tags.map((tag) => tag.name), ['elsewhere', 'v1']);
    const shown = (await (await request('/acr/v1/app/_tags/v2')).json()) as { tag: { changeableAttributes: { listEnabled: boolean } } };
    assert.equal(shown.tag.changeableAttributes.listEnabled, false);

    assert.equal((await patch(`/acr/v1/app/_manifests/${v1.digest}`, { listEnabled: false })).status, 200);
    assert.deepEqual(await tagsOf('app'), ['elsewhere'], 'tags of a list-disabled manifest are hidden too');
    const manifests = (await (await request('/acr/v1/app/_manifests')).json()) as { manifests: { digest: string }[] };
    assert.ok(!manifests.manifests.some((manifest) => manifest.digest === v1.digest));

    assert.equal((await patch('/acr/v1/app', { listEnabled: false })).status, 200);
    assert.deepEqual(((await (await request('/v2/_catalog')).json()) as { repositories: string[] }).repositories, []);
    assert.deepEqual(((await (await request('/acr/v1/_catalog')).json()) as { repositories: string[] }).repositories, []);
    assert.equal((await patch('/acr/v1/app', { listEnabled: true })).status, 200);
  });

  it('PATCH needs metadata_write; bad attributes are refused', async () => {
    await createUser(server, PULLER.username, PULLER.password);
    await assignRole(server, PULLER.username, 'AcrPull', '/registries/contoso');
    assert.equal((await patch('/acr/v1/app/_tags/v1', { writeEnabled: false }, PULLER)).status, 403);
    const bad = await patch('/acr/v1/app/_tags/v1', { writeEnabled: 'no' });
    assert.equal(bad.status, 400, bad.text);
    assert.equal((await patch('/acr/v1/app/_tags/v1', { colour: 'red' })).status, 400);
  });

  it('DELETE /acr/v1/<repo> deletes everything unlocked and answers with what it deleted', async () => {
    await pushImage(server, 'gone', 'a', imageOf(), contoso);
    await pushImage(server, 'gone', 'b', imageOf(), contoso);
    const response = await request('/acr/v1/gone', { method: 'DELETE' });
    assert.equal(response.status, 202);
    const body = (await response.json()) as { manifestsDeleted: string[]; tagsDeleted: string[] };
    assert.equal(body.manifestsDeleted.length, 2);
    assert.deepEqual(body.tagsDeleted, ['a', 'b']);
    await ociError(await request('/acr/v1/gone'), 404, 'NAME_UNKNOWN');
  });
});

describe('quarantine (S4): pushed images wait for a scanner', () => {
  let server: TestBerth;
  let contoso: string;
  let images: TestImages;
  let work: string;

  const manifestPath = (digest: string) => `/acr/v1/quarantined/_manifests/${digest}`;

  before(async () => {
    images = await testImages();
    work = await mkdtemp(join(tmpdir(), 'berth-quarantine-'));
    server = await startTestBerth();
    contoso = await createRegistry(server, 'contoso');
    for (const user of [PULLER, READER, SCANNER]) await createUser(server, user.username, user.password);
    await assignRole(server, PULLER.username, 'AcrPull', '/registries/contoso');
    await assignRole(server, READER.username, 'AcrPull', '/registries/contoso');
    await assignRole(server, READER.username, 'AcrQuarantineReader', '/registries/contoso');
    await assignRole(server, SCANNER.username, 'AcrQuarantineWriter', '/registries/contoso');
  });
  after(async () => {
    await server.close();
    await rm(work, { recursive: true, force: true });
  });

  const pull = (user: typeof PULLER, reference: string) =>
    skopeoCopy(`docker://${contoso}/quarantined${reference}`, `dir:${join(work, `${user.username}-${Date.now()}`)}`, ['--src-creds', `${user.username}:${user.password}`]);

  const decide = async (digest: string, auth: typeof PULLER, body: unknown) =>
    server.request(manifestPath(digest), { host: contoso, auth, method: 'PATCH', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

  it('the policy is shown and set through the management API', async () => {
    assert.deepEqual(await mgmtOk(server, 200, 'GET', '/registries/contoso/policies/quarantine'), { status: 'disabled' });
    assert.deepEqual(await mgmtOk(server, 200, 'PUT', '/registries/contoso/policies/quarantine', { status: 'enabled' }), { status: 'enabled' });
  });

  it('a pushed image is Pending: AcrPull cannot pull it, AcrQuarantineReader can; Passed releases it, Failed keeps it blocked', async () => {
    await skopeoCopy(images.single.ref, `docker://${contoso}/quarantined:v1`, ['--dest-creds', `${OWNER.username}:${OWNER.password}`]);
    const digest = images.single.digest;
    const shown = (await (await server.request(manifestPath(digest), { host: contoso })).json()) as { manifest: { changeableAttributes: { quarantineState: string } } };
    assert.equal(shown.manifest.changeableAttributes.quarantineState, 'Pending');

    await assert.rejects(pull(PULLER, ':v1'), /quarantined/);
    await assert.rejects(pull(PULLER, `@${digest}`), /quarantined/);
    const denied = await ociError(
      await server.request('/v2/quarantined/manifests/v1', { host: contoso, auth: PULLER, headers: { accept: images.single.mediaType } }),
      403,
      'DENIED',
    );
    assert.match(denied.errors[0]!.message, /is quarantined \(quarantineState=Pending\)/);
    await pull(READER, ':v1');

    assert.equal((await decide(digest, PULLER, { quarantineState: 'Passed' })).status, 403, 'AcrPull cannot decide');
    const failed = await decide(digest, SCANNER, { quarantineState: 'Failed', quarantineDetails: '{"scanner":"test","result":"vulnerable"}' });
    assert.equal(failed.status, 200, await failed.text());
    await assert.rejects(pull(PULLER, ':v1'), /quarantineState=Failed/);

    const passed = await decide(digest, SCANNER, { quarantineState: 'Passed', quarantineDetails: '{"scanner":"test","result":"clean"}' });
    assert.equal(passed.status, 200);
    const body = (await passed.json()) as { manifest: { changeableAttributes: { quarantineState: string; quarantineDetails: string } } };
    assert.equal(body.manifest.changeableAttributes.quarantineState, 'Passed');
    await pull(PULLER, ':v1');
    await pull(PULLER, `@${digest}`);
  });
});
