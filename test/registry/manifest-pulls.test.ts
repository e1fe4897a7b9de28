/**
 * A pull decides afresh on every request: after a manifest was served (and its bytes kept in
 * memory), tag moves, read locks, quarantine and deletes apply to the very next request.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestBerth, type TestAuth, type TestBerth } from '../helper.ts';
import { accessToken, assignRole, createRegistry, createUser, ociError } from '../helpers/identity.ts';
import { imageOf, OCI_MANIFEST, pushImage, type Image } from '../helpers/oci-http.ts';

const PULLER = { username: 'pull-only', password: 'pull-only-Password-1' };

describe('manifest pulls follow every change on the next request', () => {
  let server: TestBerth;
  let contoso: string;

  const request = (path: string, init: Parameters<TestBerth['request']>[1] = {}) => server.request(path, { host: contoso, ...init });
  const pull = (reference: string, auth?: TestAuth, method = 'GET') =>
    request(`/v2/app/manifests/${reference}`, { method, headers: { accept: OCI_MANIFEST }, ...(auth && { auth }) });
  const patch = async (path: string, body: unknown) => {
    const response = await request(path, { method: 'PATCH', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    assert.equal(response.status, 200, await response.text());
  };
  const assertServes = async (reference: string, image: Image, auth?: TestAuth) => {
    const get = await pull(reference, auth);
    assert.equal(get.status, 200);
    assert.equal(get.headers.get('docker-content-digest'), image.digest);
    assert.deepEqual(Buffer.from(await get.arrayBuffer()), image.manifest);
    const head = await pull(reference, auth, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('docker-content-digest'), image.digest);
    assert.equal(head.headers.get('content-length'), String(image.manifest.length));
  };
  const assertRefused = async (reference: string, status: number, code: string, message?: RegExp, auth?: TestAuth) => {
    const body = await ociError(await pull(reference, auth), status, code);
    if (message) assert.match(body.errors[0]!.message, message);
    assert.equal((await pull(reference, auth, 'HEAD')).status, status);
  };

  before(async () => {
    server = await startTestBerth();
    contoso = await createRegistry(server, 'contoso');
    await createUser(server, PULLER.username, PULLER.password);
    await assignRole(server, PULLER.username, 'AcrPull', '/registries/contoso');
  });
  after(() => server.close());

  it('a tag move, read locks on the tag, repository and manifest, and deletes', async () => {
    const one = await pushImage(server, 'app', 'latest', imageOf(), contoso);
    await assertServes('latest', one);
    await assertServes(one.digest, one);

    const two = await pushImage(server, 'app', 'latest', imageOf(), contoso);
    await assertServes('latest', two);
    await assertServes(one.digest, one);

    await patch('/acr/v1/app/_tags/latest', { readEnabled: false });
    await assertRefused('latest', 403, 'DENIED', /^tag app:latest is read-locked \(readEnabled=false\)$/);
    await assertServes(two.digest, two);
    await patch('/acr/v1/app/_tags/latest', { readEnabled: true });
    await assertServes('latest', two);

    await patch('/acr/v1/app', { readEnabled: false });
    await assertRefused('latest', 403, 'DENIED', /^repository app is read-locked/);
    await assertRefused(one.digest, 403, 'DENIED', /^repository app is read-locked/);
    await patch('/acr/v1/app', { readEnabled: true });

    await patch(`/acr/v1/app/_manifests/${two.digest}`, { readEnabled: false });
    await assertRefused('latest', 403, 'DENIED', new RegExp(`^manifest app@${two.digest} is read-locked`));
    await assertRefused(two.digest, 403, 'DENIED');
    await patch(`/acr/v1/app/_manifests/${two.digest}`, { readEnabled: true });
    await assertServes('latest', two);

    assert.equal((await request(`/v2/app/manifests/${two.digest}`, { method: 'DELETE' })).status, 202);
    await assertRefused('latest', 404, 'MANIFEST_UNKNOWN');
    await assertRefused(two.digest, 404, 'MANIFEST_UNKNOWN');
    await assertServes(one.digest, one);

    await pushImage(server, 'app', 'latest', two, contoso);
    await assertServes('latest', two);
    assert.equal((await request('/v2/app/manifests/latest', { method: 'DELETE' })).status, 202);
    await assertRefused('latest', 404, 'MANIFEST_UNKNOWN');
    await assertServes(two.digest, two);
  });

  it('quarantine, for Basic and bearer callers alike', async () => {
    const image = await pushImage(server, 'app', 'held', imageOf(), contoso);
    const token = await accessToken(server, contoso, ['repository:app:pull'], PULLER);
    const callers: TestAuth[] = [PULLER, { bearer: token.token }];
    for (const caller of callers) await assertServes('held', image, caller);

    await patch(`/acr/v1/app/_manifests/${image.digest}`, { quarantineState: 'Pending' });
    for (const caller of callers) {
      await assertRefused('held', 403, 'DENIED', /is quarantined \(quarantineState=Pending\)/, caller);
      await assertRefused(image.digest, 403, 'DENIED', /is quarantined/, caller);
    }
    // The owner may read quarantined content.
    await assertServes('held', image);

    await patch(`/acr/v1/app/_manifests/${image.digest}`, { quarantineState: 'Passed' });
    for (const caller of callers) await assertServes('held', image, caller);
  });
});
