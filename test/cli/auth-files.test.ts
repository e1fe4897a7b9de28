import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { containersAuthPath, dockerConfigPath, writeContainersAuth, writeDockerAuth } from '../../src/cli/auth-files.ts';

const NULL_GUID = '00000000-0000-0000-0000-000000000000';

describe('container tool auth files', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'berth-cli-auth-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('are found where docker and containers/image look', () => {
    assert.equal(dockerConfigPath({ HOME: '/home/a' }), '/home/a/.docker/config.json');
    assert.equal(dockerConfigPath({ HOME: '/home/a', DOCKER_CONFIG: '/d' }), '/d/config.json');
    assert.equal(containersAuthPath({ HOME: '/home/a' }), '/home/a/.config/containers/auth.json');
    assert.equal(containersAuthPath({ HOME: '/home/a', XDG_RUNTIME_DIR: '/run/user/0' }), '/run/user/0/containers/auth.json');
    assert.equal(containersAuthPath({ HOME: '/home/a', XDG_RUNTIME_DIR: '/run/user/0', REGISTRY_AUTH_FILE: '/r/auth.json' }), '/r/auth.json');
  });

  it("docker gets an identity token; other registries' entries and settings are kept", async () => {
    const file = path.join(dir, 'docker', 'config.json');
    await writeDockerAuth(file, 'other.localhost:5000', 'someone', 'x');
    const existing = JSON.parse(await readFile(file, 'utf8'));
    existing.credHelpers = { 'gcr.io': 'gcloud' };
    await writeFile(file, JSON.stringify(existing));
    await writeDockerAuth(file, 'contoso.localhost:5000', NULL_GUID, 'refresh-token');
    const config = JSON.parse(await readFile(file, 'utf8'));
    assert.deepEqual(config.credHelpers, { 'gcr.io': 'gcloud' });
    assert.ok(config.auths['other.localhost:5000']);
    assert.deepEqual(config.auths['contoso.localhost:5000'], { auth: Buffer.from(`${NULL_GUID}:`).toString('base64'), identitytoken: 'refresh-token' });
    assert.equal((await stat(file)).mode & 0o777, 0o600);
  });

  it('containers auth.json gets the null GUID with the refresh token as password', async () => {
    const file = path.join(dir, 'containers', 'auth.json');
    await writeContainersAuth(file, 'contoso.localhost:5000', NULL_GUID, 'refresh-token');
    await writeContainersAuth(file, 'contoso.localhost:5000', NULL_GUID, 'newer-token');
    const config = JSON.parse(await readFile(file, 'utf8'));
    assert.deepEqual(config, { auths: { 'contoso.localhost:5000': { auth: Buffer.from(`${NULL_GUID}:newer-token`).toString('base64') } } });
  });
});
