/**
 * Scenario S2 end to end with unmodified clients: skopeo and buildah log in to Berth's registries
 * as each kind of principal (the owner, a user with AcrPush, a service principal, a registry's
 * admin user, a token with a scope map, the null GUID with a refresh token) and get exactly the
 * access those principals have; the docker token flow is replayed step by step over HTTP.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { OWNER, startTestBerth, type TestBerth } from '../helper.ts';
import { CommandError, makeTempDir, removeTempDir, run, type CommandResult } from '../helpers/exec.ts';
import { assignRole, createRegistry, createUser, jwtClaims, mgmtOk, postForm, type TokenResponse } from '../helpers/identity.ts';
import { blobOf, OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, sha256 } from '../helpers/oci-http.ts';
import { buildahStorageArgs } from '../helpers/images.ts';

const NULL_GUID = '00000000-0000-0000-0000-000000000000';
const NO_PROXY = '127.0.0.1,localhost,.localhost';

interface Principal {
  username: string;
  password: string;
}

/** A one-layer OCI image layout written by hand, tagged `v1`; returns its manifest digest. */
async function writeOciLayout(dir: string): Promise<string> {
  // Gzip-compressed, as the media type says, so that skopeo copies the layer (and the digest) unchanged.
  const layer = blobOf(gzipSync(`a layer made for the S2 journey ${Date.now()}`));
  const config = blobOf(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] } }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.size },
      layers: [{ mediaType: OCI_LAYER, digest: layer.digest, size: layer.size }],
    }),
  );
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const blob of [layer, config, blobOf(manifest)]) await writeFile(join(dir, 'blobs', 'sha256', blob.digest.slice(7)), blob.data);
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: OCI_MANIFEST, digest: sha256(manifest), size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }] }),
  );
  return sha256(manifest);
}

/** The failing command's stderr; fails the test if the command succeeded. */
async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CommandError) return error.result.stderr;
    throw error;
  }
  assert.fail('the command succeeded but should have failed');
}

const DENIED = /denied|unauthorized|403/i;

describe('S2: teams share an installation (skopeo, buildah and the docker token flow)', () => {
  let server: TestBerth;
  let work: string;
  let layout: string;
  let layoutDigest: string;
  let contoso: string;
  let base: string;
  let publicRegistry: string;
  let authFiles = 0;

  /** A fresh auth file per login, so no test leans on another's credentials. */
  const newAuthFile = () => join(work, `auth-${++authFiles}.json`);

  const skopeo = (args: string[], input?: string) => run('skopeo', args, { input, env: { NO_PROXY, no_proxy: NO_PROXY }, timeoutMs: 60_000 });
  const buildah = (args: string[], authFile: string, input?: string) =>
    run('buildah', [...buildahStorageArgs(join(work, 'buildah')), ...args], {
      input,
      env: { TMPDIR: work, REGISTRY_AUTH_FILE: authFile, NO_PROXY, no_proxy: NO_PROXY },
      timeoutMs: 120_000,
    });

  /** `skopeo login -u <user> --password-stdin <host>` into a new auth file; returns the file. */
  async function skopeoLogin(host: string, principal: Principal): Promise<string> {
    const authFile = newAuthFile();
    const { stdout } = await skopeo(['login', '--tls-verify=false', '--authfile', authFile, '-u', principal.username, '--password-stdin', host], principal.password);
    assert.match(stdout, /Login Succeeded/);
    return authFile;
  }

  const push = (authFile: string, destination: string) =>
    skopeo(['copy', '--quiet', '--dest-tls-verify=false', '--authfile', authFile, `oci:${layout}:v1`, `docker://${destination}`]);
  const inspectDigest = async (authFile: string, reference: string) =>
    sha256((await skopeo(['inspect', '--raw', '--tls-verify=false', '--authfile', authFile, `docker://${reference}`])).stdout);

  before(async () => {
    work = await makeTempDir('berth-s2');
    layout = join(work, 'layout');
    layoutDigest = await writeOciLayout(layout);
    server = await startTestBerth();
    publicRegistry = await createRegistry(server, 'publicregistry');
    base = await createRegistry(server, 'baseartifacts');
    contoso = await createRegistry(server, 'contoso');
  });
  after(async () => {
    await server?.close();
    if (work) await removeTempDir(work);
  });

  test('the owner: skopeo login, push hello-world to contoso and other repositories, inspect', async () => {
    const authFile = await skopeoLogin(contoso, OWNER);
    await push(authFile, `${contoso}/hello-world:v1`);
    await push(authFile, `${contoso}/other/app:v1`);
    assert.equal(await inspectDigest(authFile, `${contoso}/hello-world:v1`), layoutDigest);
    const baseAuth = await skopeoLogin(base, OWNER);
    await push(baseAuth, `${base}/hello-world:v1`);
    assert.ok(publicRegistry);
  });

  test('a token scoped to hello-world with content/read pulls contoso/hello-world and nothing else', async () => {
    await mgmtOk(server, 201, 'POST', '/registries/contoso/scope-maps', { name: 'hello-pull', actions: ['repositories/hello-world/content/read'] });
    const created = await mgmtOk<{ credentials: { passwords: { value: string }[] } }>(server, 201, 'POST', '/registries/contoso/tokens', { name: 'hello-token', scopeMapName: 'hello-pull' });
    const token = { username: 'hello-token', password: created.credentials.passwords[0]!.value };
    const authFile = await skopeoLogin(contoso, token);
    assert.equal(await inspectDigest(authFile, `${contoso}/hello-world:v1`), layoutDigest);
    await skopeo(['copy', '--quiet', '--src-tls-verify=false', '--authfile', authFile, `docker://${contoso}/hello-world:v1`, `oci:${join(work, 'pulled-by-token')}:v1`]);
    assert.match(await failure(inspectDigest(authFile, `${contoso}/other/app:v1`)), DENIED);
    assert.match(await failure(push(authFile, `${contoso}/hello-world:v2`)), DENIED);
    assert.match(await failure(skopeoLogin(base, token)), /unauthorized|invalid username\/password|401/i, 'a token of contoso is unknown elsewhere');
  });

  test('a user with AcrPush on contoso pushes there and is DENIED on baseartifacts; a role removed applies at the next token', async () => {
    await createUser(server, 'pusher', 'pusher-password-1');
    const assignment = await assignRole(server, 'pusher', 'AcrPush', '/registries/contoso');
    const pusher = { username: 'pusher', password: 'pusher-password-1' };
    const authFile = await skopeoLogin(contoso, pusher);
    await push(authFile, `${contoso}/team/app:v1`);
    assert.equal(await inspectDigest(authFile, `${contoso}/team/app:v1`), layoutDigest);

    const baseAuth = await skopeoLogin(base, pusher);
    assert.match(await failure(push(baseAuth, `${base}/team/app:v1`)), DENIED);
    assert.match(await failure(inspectDigest(baseAuth, `${base}/hello-world:v1`)), DENIED);

    await mgmtOk(server, 204, 'DELETE', `/role-assignments/${assignment.id}`);
    assert.match(await failure(push(authFile, `${contoso}/team/app:v2`)), DENIED);
  });

  test('buildah login as a service principal with AcrPush, buildah push; with AcrPull only, buildah pull', async () => {
    const pushSp = await mgmtOk<{ appId: string; password: string }>(server, 201, 'POST', '/service-principals', { name: 'builder', role: 'AcrPush', scopes: ['/registries/contoso/repositories/built/*'] });
    const authFile = newAuthFile();
    const login = await buildah(['login', '--tls-verify=false', '-u', pushSp.appId, '--password-stdin', contoso], authFile, pushSp.password);
    assert.match(login.stdout, /Login Succeeded/);
    const container = (await buildah(['from', 'scratch'], authFile)).stdout.trim();
    const file = join(work, 'built.txt');
    await writeFile(file, 'built by a service principal\n');
    await buildah(['copy', '--quiet', container, file, '/built.txt'], authFile);
    await buildah(['commit', '--quiet', '--rm', container, 'localhost/built:1'], authFile);
    const digestFile = join(work, 'built.digest');
    await buildah(['push', '--quiet', '--tls-verify=false', '--digestfile', digestFile, 'localhost/built:1', `docker://${contoso}/built/app:1`], authFile);
    assert.match(await failure(buildah(['push', '--quiet', '--tls-verify=false', 'localhost/built:1', `docker://${contoso}/elsewhere:1`], authFile)), DENIED);

    const pullSp = await mgmtOk<{ appId: string; password: string }>(server, 201, 'POST', '/service-principals', { name: 'reader-sp', role: 'AcrPull', scopes: ['/registries/contoso'] });
    const pullAuth = newAuthFile();
    await buildah(['login', '--tls-verify=false', '-u', pullSp.appId, '--password-stdin', contoso], pullAuth, pullSp.password);
    await buildah(['rmi', '--all', '--force'], pullAuth);
    await buildah(['pull', '--quiet', '--tls-verify=false', `docker://${contoso}/built/app:1`], pullAuth);
    assert.match(await failure(buildah(['push', '--quiet', '--tls-verify=false', `${contoso}/built/app:1`, `docker://${contoso}/built/app:2`], pullAuth)), DENIED);
  });

  test('the admin user: login with a renewed password, push; disabled → refused; renewed → the old password fails', async () => {
    await mgmtOk(server, 200, 'PATCH', '/registries/baseartifacts', { adminUserEnabled: true });
    const renew = async (name: string) =>
      (await mgmtOk<{ passwords: { name: string; value?: string }[] }>(server, 200, 'POST', '/registries/baseartifacts/credentials/renew', { name })).passwords.find(
        (entry) => entry.name === name,
      )!.value!;
    const first = await renew('password');
    const admin = { username: 'baseartifacts', password: first };
    const authFile = newAuthFile();
    await buildah(['login', '--tls-verify=false', '-u', admin.username, '--password-stdin', base], authFile, admin.password);
    const skopeoAuth = await skopeoLogin(base, admin);
    await push(skopeoAuth, `${base}/node:15-alpine`);

    await mgmtOk(server, 200, 'PATCH', '/registries/baseartifacts', { adminUserEnabled: false });
    assert.match(await failure(skopeoLogin(base, admin)), /unauthorized|invalid username\/password|401/i);
    assert.match(await failure(push(skopeoAuth, `${base}/node:again`)), /unauthorized|authentication required|401/i);

    await mgmtOk(server, 200, 'PATCH', '/registries/baseartifacts', { adminUserEnabled: true });
    const second = await renew('password');
    assert.match(await failure(skopeoLogin(base, admin)), /unauthorized|invalid username\/password|401/i);
    await skopeoLogin(base, { username: 'baseartifacts', password: second });
  });

  test('berth login style: /oauth2/exchange, then skopeo login -u 00000000-0000-0000-0000-000000000000 -p <refresh token>', async () => {
    await createUser(server, 'auditor', 'auditor-password-1');
    await assignRole(server, 'auditor', 'Reader', '/registries/contoso');
    const exchanged = await postForm(server, '/oauth2/exchange', { grant_type: 'password', username: 'auditor', password: 'auditor-password-1', service: contoso });
    assert.equal(exchanged.status, 200);
    const { refresh_token: refresh } = (await exchanged.json()) as { refresh_token: string };
    const authFile = await skopeoLogin(contoso, { username: NULL_GUID, password: refresh });
    assert.equal(await inspectDigest(authFile, `${contoso}/hello-world:v1`), layoutDigest);
    const tags = JSON.parse((await skopeo(['list-tags', '--tls-verify=false', '--authfile', authFile, `docker://${contoso}/hello-world`])).stdout) as { Tags: string[] };
    assert.deepEqual(tags.Tags, ['v1']);
    assert.match(await failure(push(authFile, `${contoso}/hello-world:v9`)), DENIED);
  });

  test('docker token flow, step by step: challenge, POST grant_type=password (offline), refresh grant, pull', async () => {
    const challenge = await server.request('/v2/', { auth: 'none', host: contoso });
    assert.equal(challenge.status, 401);
    const header = challenge.headers.get('www-authenticate') ?? '';
    const realm = /realm="([^"]+)"/.exec(header)?.[1];
    const service = /service="([^"]+)"/.exec(header)?.[1];
    assert.equal(realm, `http://${contoso}/oauth2/token`);
    assert.equal(service, contoso);

    const realmPath = new URL(realm!).pathname;
    const login = await postForm(server, realmPath, { grant_type: 'password', username: OWNER.username, password: OWNER.password, service: service!, client_id: 'docker', access_type: 'offline' }, contoso);
    assert.equal(login.status, 200);
    const identity = (await login.json()) as TokenResponse;
    assert.ok(identity.refresh_token, 'docker stores the refresh token as its identity token');
    assert.equal((await server.request('/v2/', { auth: { bearer: identity.access_token }, host: contoso })).status, 200);

    const pullChallenge = await server.request('/v2/hello-world/manifests/v1', { auth: 'none', host: contoso });
    const scope = /scope="([^"]+)"/.exec(pullChallenge.headers.get('www-authenticate') ?? '')?.[1];
    assert.equal(scope, 'repository:hello-world:pull');
    const refreshed = await postForm(server, realmPath, { grant_type: 'refresh_token', refresh_token: identity.refresh_token, service: service!, scope: scope!, client_id: 'docker' }, contoso);
    const access = (await refreshed.json()) as TokenResponse;
    assert.deepEqual(jwtClaims(access.access_token).access, [{ type: 'repository', name: 'hello-world', actions: ['pull'] }]);
    const manifest = await server.request('/v2/hello-world/manifests/v1', { auth: { bearer: access.access_token }, host: contoso, headers: { accept: OCI_MANIFEST } });
    assert.equal(manifest.status, 200);
    assert.equal(manifest.headers.get('docker-content-digest'), layoutDigest);
  });
});
