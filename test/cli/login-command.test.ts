import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { imageOf, pushImage } from '../helpers/oci-http.ts';
import { run } from '../helpers/exec.ts';
import { assertCliError, startCliBerth, type CliBerth } from './cli-harness.ts';

const NULL_GUID = '00000000-0000-0000-0000-000000000000';

function decodeAuth(auth: string): [string, string] {
  const text = Buffer.from(auth, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return [text.slice(0, colon), text.slice(colon + 1)];
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

describe('berth login', () => {
  let cli: CliBerth;
  before(async () => {
    cli = await startCliBerth();
    await cli.berth(['create', '-n', 'contoso']);
    await pushImage(cli.server, 'hello-world', 'v1', imageOf(), cli.loginServer('contoso'));
  });
  after(() => cli.close());

  const pullWith = (password: string) =>
    cli.server.request('/v2/hello-world/manifests/v1', { host: cli.loginServer('contoso'), auth: { username: NULL_GUID, password }, headers: { accept: '*/*' } });

  it("writes docker's config.json and the containers auth.json with the null GUID and a refresh token", async () => {
    const { stdout } = await cli.berth(['login', '-n', 'contoso']);
    assert.equal(stdout, 'Login Succeeded\n');
    const loginServer = cli.loginServer('contoso');

    const docker = JSON.parse(await readFile(path.join(cli.home, '.docker', 'config.json'), 'utf8'));
    const dockerEntry = docker.auths[loginServer];
    assert.deepEqual(decodeAuth(dockerEntry.auth), [NULL_GUID, '']);
    assert.ok(dockerEntry.identitytoken);

    const containers = JSON.parse(await readFile(path.join(cli.home, '.config', 'containers', 'auth.json'), 'utf8'));
    const [username, refreshToken] = decodeAuth(containers.auths[loginServer].auth);
    assert.equal(username, NULL_GUID);
    assert.equal(refreshToken, dockerEntry.identitytoken);
    assert.equal((await pullWith(refreshToken)).status, 200, 'the refresh token works as a password');
  });

  it('honours DOCKER_CONFIG, XDG_RUNTIME_DIR and REGISTRY_AUTH_FILE', async () => {
    const dockerDir = path.join(cli.home, 'docker-elsewhere');
    const runtimeDir = path.join(cli.home, 'run');
    await cli.berth(['login', '-n', 'contoso'], { env: { DOCKER_CONFIG: dockerDir, XDG_RUNTIME_DIR: runtimeDir } });
    assert.ok(await exists(path.join(dockerDir, 'config.json')));
    assert.ok(await exists(path.join(runtimeDir, 'containers', 'auth.json')));
    const authFile = path.join(cli.home, 'explicit-auth.json');
    await cli.berth(['login', '-n', 'contoso'], { env: { DOCKER_CONFIG: dockerDir, XDG_RUNTIME_DIR: runtimeDir, REGISTRY_AUTH_FILE: authFile } });
    const written = JSON.parse(await readFile(authFile, 'utf8'));
    assert.ok(written.auths[cli.loginServer('contoso')]);
  });

  it('--expose-token prints {accessToken, loginServer} and writes nothing', async () => {
    const env = { DOCKER_CONFIG: path.join(cli.home, 'untouched-docker'), REGISTRY_AUTH_FILE: path.join(cli.home, 'untouched.json') };
    const exposed = await cli.json<{ accessToken: string; loginServer: string }>(['login', '-n', 'contoso', '--expose-token'], { env });
    assert.deepEqual(Object.keys(exposed), ['accessToken', 'loginServer']);
    assert.equal(exposed.loginServer, cli.loginServer('contoso'));
    assert.equal((await pullWith(exposed.accessToken)).status, 200);
    assert.ok(!(await exists(env.DOCKER_CONFIG)) && !(await exists(env.REGISTRY_AUTH_FILE)));
    const tsv = await cli.berth(['login', '-n', 'contoso', '-t', '--query', 'accessToken', '-o', 'tsv'], { env });
    assert.match(tsv.stdout, /^\S+\n$/);
  });

  it('a configured refresh-token identity (null GUID) can log in again', async () => {
    const exposed = await cli.json<{ accessToken: string }>(['login', '-n', 'contoso', '--expose-token']);
    const again = await cli.json<{ accessToken: string }>(['login', '-n', 'contoso', '--expose-token'], { env: { BERTH_USERNAME: NULL_GUID, BERTH_PASSWORD: exposed.accessToken } });
    assert.ok(again.accessToken);
  });

  it('fails with the server message for a wrong password or an unknown registry', async () => {
    assertCliError(await cli.berth(['login', '-n', 'contoso'], { env: { BERTH_PASSWORD: 'not-the-password' }, allowFailure: true }), /.+/);
    assertCliError(await cli.berth(['login', '-n', 'nosuchregistry'], { allowFailure: true }), /nosuchregistry/);
  });

  it('skopeo uses the auth file berth login wrote', async (t) => {
    const skopeo = await run('skopeo', ['--version'], { allowFailure: true }).catch(() => undefined);
    if (!skopeo || skopeo.code !== 0) return t.skip('skopeo is not installed');
    const authFile = path.join(cli.home, 'skopeo-auth.json');
    await cli.berth(['login', '-n', 'contoso'], { env: { REGISTRY_AUTH_FILE: authFile } });
    const listed = await run('skopeo', ['list-tags', '--authfile', authFile, '--tls-verify=false', `docker://${cli.loginServer('contoso')}/hello-world`]);
    assert.deepEqual(JSON.parse(listed.stdout).Tags, ['v1']);
  });
});
