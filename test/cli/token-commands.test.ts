import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { imageOf, pushImage } from '../helpers/oci-http.ts';
import { assertCliError, startCliBerth, type CliBerth } from './cli-harness.ts';

interface ScopeMap {
  id: string;
  name: string;
  description: string;
  type: string;
  actions: string[];
}

interface Token {
  id: string;
  name: string;
  scopeMapId: string;
  status: string;
  credentials: { username: string; passwords: { name: string; expiry: string | null; value?: string }[] };
}

describe('berth scope-map and token', () => {
  let cli: CliBerth;
  before(async () => {
    cli = await startCliBerth();
    await cli.berth(['create', '-n', 'contoso']);
    await pushImage(cli.server, 'hello-world', 'v1', imageOf(), cli.loginServer('contoso'));
    await pushImage(cli.server, 'other', 'v1', imageOf(), cli.loginServer('contoso'));
  });
  after(() => cli.close());

  const pull = (repository: string, username: string, password: string) =>
    cli.server.request(`/v2/${repository}/manifests/v1`, { host: cli.loginServer('contoso'), auth: { username, password }, headers: { accept: '*/*' } });

  it('scope-map create expands REPO ACTION... groups; update adds and removes; show, list, delete', async () => {
    const created = await cli.json<ScopeMap>([
      'scope-map',
      'create',
      '-n',
      'teama',
      '-r',
      'contoso',
      '--repository',
      'hello-world',
      'content/read',
      'content/write',
      '--repository',
      'samples/*',
      'metadata/read',
      '--description',
      'team A',
    ]);
    assert.equal(created.id, '/registries/contoso/scopeMaps/teama');
    assert.equal(created.type, 'UserDefined');
    assert.equal(created.description, 'team A');
    assert.deepEqual([...created.actions].sort(), ['repositories/hello-world/content/read', 'repositories/hello-world/content/write', 'repositories/samples/*/metadata/read']);

    const updated = await cli.json<ScopeMap>([
      'scope-map',
      'update',
      '-n',
      'teama',
      '-r',
      'contoso',
      '--add-repository',
      'hello-world',
      'content/delete',
      '--remove-repository',
      'hello-world',
      'content/write',
      '--description',
      'team A, no writes',
    ]);
    assert.deepEqual([...updated.actions].sort(), ['repositories/hello-world/content/delete', 'repositories/hello-world/content/read', 'repositories/samples/*/metadata/read']);
    assert.equal(updated.description, 'team A, no writes');
    assert.deepEqual((await cli.json<ScopeMap>(['scope-map', 'show', '-n', 'teama', '-r', 'contoso'])).actions.sort(), [...updated.actions].sort());

    const names = await cli.json<string[]>(['scope-map', 'list', '-r', 'contoso', '--query', '[].name']);
    for (const name of ['_repositories_admin', '_repositories_pull', '_repositories_pull_metadata_read', '_repositories_push', '_repositories_push_metadata_write', 'teama']) {
      assert.ok(names.includes(name), `${name} listed`);
    }
    const system = await cli.json<ScopeMap>(['scope-map', 'show', '-n', '_repositories_pull', '-r', 'contoso']);
    assert.equal(system.type, 'SystemDefined');
    assert.deepEqual(system.actions, ['repositories/*/content/read']);
    assert.match((await cli.berth(['scope-map', 'list', '-r', 'contoso', '-o', 'table'])).stdout, /^NAME\s+TYPE\s+CREATION DATE\s+DESCRIPTION\n/);

    assertCliError(await cli.berth(['scope-map', 'create', '-n', 'bad', '-r', 'contoso', '--repository', 'x'], { allowFailure: true }), /no actions/);
    assertCliError(await cli.berth(['scope-map', 'create', '-n', 'bad', '-r', 'contoso'], { allowFailure: true }), /--repository/);
    assertCliError(await cli.berth(['scope-map', 'update', '-n', 'teama', '-r', 'contoso'], { allowFailure: true }), /nothing to update/);

    await cli.berth(['scope-map', 'create', '-n', 'doomed', '-r', 'contoso', '--repository', 'x', 'content/read']);
    await cli.berth(['scope-map', 'delete', '-n', 'doomed', '-r', 'contoso', '--yes']);
    assertCliError(await cli.berth(['scope-map', 'show', '-n', 'doomed', '-r', 'contoso'], { allowFailure: true }), /doomed/);
  });

  it('token create --scope-map -o tsv --query credentials.passwords[0].value prints a password that pulls', async () => {
    const { stdout } = await cli.berth(['token', 'create', '--name', 'puller', '--registry', 'contoso', '--scope-map', '_repositories_pull', '-o', 'tsv', '--query', 'credentials.passwords[0].value']);
    const password = stdout.trim();
    assert.match(stdout, /^\S{20,}\n$/);
    assert.equal((await pull('hello-world', 'puller', password)).status, 200);
    assert.equal((await pull('other', 'puller', password)).status, 200);
  });

  it('token create --repository makes <name>-scope-map and limits the token to it', async () => {
    const token = await cli.json<Token>(['token', 'create', '-n', 'hello-reader', '-r', 'contoso', '--repository', 'hello-world', 'content/read', 'metadata/read', '--expiration-in-days', '30']);
    assert.equal(token.id, '/registries/contoso/tokens/hello-reader');
    assert.equal(token.scopeMapId, '/registries/contoso/scopeMaps/hello-reader-scope-map');
    assert.equal(token.status, 'enabled');
    assert.equal(token.credentials.username, 'hello-reader');
    const [password1, password2] = token.credentials.passwords;
    assert.equal(password1?.name, 'password1');
    assert.equal(password2?.name, 'password2');
    const days = (Date.parse(password1!.expiry!) - Date.now()) / 86_400_000;
    assert.ok(days > 29.9 && days <= 30, `expires in 30 days, not ${days}`);
    assert.equal((await pull('hello-world', 'hello-reader', password1!.value!)).status, 200);
    assert.equal((await pull('hello-world', 'hello-reader', password2!.value!)).status, 200);
    assert.equal((await pull('other', 'hello-reader', password1!.value!)).status, 403);

    const reader = { env: { BERTH_USERNAME: 'hello-reader', BERTH_PASSWORD: password1!.value! } };
    assert.deepEqual(await cli.json(['repository', 'show-tags', '-n', 'contoso', '--repository', 'hello-world'], reader), ['v1'], 'metadata/read lets the token list tags');
    assert.deepEqual(await cli.json(['repository', 'show-tags', '-n', cli.loginServer('contoso'), '--repository', 'hello-world'], reader), ['v1'], '-n takes a login server too');
    assertCliError(await cli.berth(['repository', 'show-tags', '-n', 'contoso', '--repository', 'other'], { ...reader, allowFailure: true }), /denied/i);

    const shown = await cli.json<Token>(['token', 'show', '-n', 'hello-reader', '-r', 'contoso']);
    assert.ok(shown.credentials.passwords.every((password) => password.value === undefined), 'show prints no secrets');
    const table = (await cli.berth(['token', 'list', '-r', 'contoso', '-o', 'table'])).stdout;
    assert.match(table, /^NAME\s+SCOPE MAP\s+PASSWORD1 EXPIRY\s+PASSWORD2 EXPIRY\s+STATUS\s+CREATION DATE\n/);
    assert.match(table, /\nhello-reader\s+hello-reader-scope-map\s+\d{4}-/);
  });

  it('token update disables and re-enables; credential generate replaces one password', async () => {
    const password = (await cli.berth(['token', 'create', '-n', 'flipper', '-r', 'contoso', '--scope-map', '_repositories_pull', '--query', 'credentials.passwords[0].value', '-o', 'tsv'])).stdout.trim();
    assert.equal((await cli.json<Token>(['token', 'update', '-n', 'flipper', '-r', 'contoso', '--status', 'disabled'])).status, 'disabled');
    assert.equal((await pull('hello-world', 'flipper', password)).status, 401);
    await cli.berth(['token', 'update', '-n', 'flipper', '-r', 'contoso', '--status', 'enabled']);
    assert.equal((await pull('hello-world', 'flipper', password)).status, 200);

    const regenerated = await cli.json<Token>(['token', 'credential', 'generate', '-n', 'flipper', '-r', 'contoso', '--password1', '--expiration', '2099-12-31T12:59:59Z']);
    const fresh = regenerated.credentials.passwords.find((entry) => entry.name === 'password1');
    assert.ok(fresh?.value);
    assert.equal(fresh.expiry, '2099-12-31T12:59:59.000Z');
    assert.equal(regenerated.credentials.passwords.find((entry) => entry.name === 'password2')?.value, undefined, 'password2 is kept, not shown');
    assert.equal((await pull('hello-world', 'flipper', password)).status, 401, 'the old password1 no longer works');
    assert.equal((await pull('hello-world', 'flipper', fresh.value)).status, 200);

    const updated = await cli.json<Token>(['token', 'update', '-n', 'flipper', '-r', 'contoso', '--scope-map', '_repositories_admin']);
    assert.equal(updated.scopeMapId, '/registries/contoso/scopeMaps/_repositories_admin');
    assertCliError(await cli.berth(['token', 'update', '-n', 'flipper', '-r', 'contoso'], { allowFailure: true }), /nothing to update/);
  });

  it('token create --no-passwords, then token credential generate of both; delete', async () => {
    const bare = await cli.json<Token>(['token', 'create', '-n', 'barebones', '-r', 'contoso', '--scope-map', '_repositories_pull', '--no-passwords', '--status', 'disabled']);
    assert.equal(bare.status, 'disabled');
    assert.ok(bare.credentials.passwords.every((password) => password.value === undefined));
    const generated = await cli.json<Token>(['token', 'credential', 'generate', '-n', 'barebones', '-r', 'contoso']);
    assert.deepEqual(
      generated.credentials.passwords.filter((password) => password.value).map((password) => password.name),
      ['password1', 'password2'],
    );
    assert.deepEqual((await cli.json<string[]>(['token', 'list', '-r', 'contoso', '--query', '[].name'])).sort(), ['barebones', 'flipper', 'hello-reader', 'puller']);
    await cli.berth(['token', 'delete', '-n', 'barebones', '-r', 'contoso', '--yes']);
    assertCliError(await cli.berth(['token', 'show', '-n', 'barebones', '-r', 'contoso'], { allowFailure: true }), /barebones/);
    assertCliError(await cli.berth(['token', 'create', '-n', 'x', '-r', 'contoso'], { allowFailure: true }), /--scope-map or --repository/);
    assertCliError(
      await cli.berth(['token', 'create', '-n', 'x', '-r', 'contoso', '--scope-map', 'm', '--expiration-in-days', '1', '--expiration', '2099-01-01T00:00:00Z'], { allowFailure: true }),
      /not both/,
    );
  });
});
