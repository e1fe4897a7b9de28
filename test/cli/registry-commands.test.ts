import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertCliError, startCliBerth, type CliBerth } from './cli-harness.ts';

interface Registry {
  id: string;
  name: string;
  loginServer: string;
  location: string | null;
  resourceGroup: string | null;
  sku: { name: string; tier: string };
  adminUserEnabled: boolean;
  anonymousPullEnabled: boolean;
  creationDate: string;
}

describe('berth create|list|show|update|delete and credential', () => {
  let cli: CliBerth;
  before(async () => {
    cli = await startCliBerth();
  });
  after(() => cli.close());

  it('create takes az acr create flags and prints the registry', async () => {
    const created = await cli.json<Registry>(['create', '-n', 'contoso', '--sku', 'Premium', '--admin-enabled', '-g', 'platform', '-l', 'westeurope']);
    assert.equal(created.id, '/registries/contoso');
    assert.equal(created.name, 'contoso');
    assert.equal(created.loginServer, cli.loginServer('contoso'));
    assert.deepEqual(created.sku, { name: 'Premium', tier: 'Premium' });
    assert.equal(created.adminUserEnabled, true);
    assert.equal(created.anonymousPullEnabled, false);
    assert.equal(created.resourceGroup, 'platform');
    assert.equal(created.location, 'westeurope');
    const plain = await cli.json<Registry>(['create', '--name', 'baseartifacts', '--admin-enabled', 'false']);
    assert.deepEqual(plain.sku, { name: 'Standard', tier: 'Standard' });
    assert.equal(plain.adminUserEnabled, false);
  });

  it('list filters by resource group and prints az-like tables and tsv', async () => {
    const all = await cli.json<Registry[]>(['list']);
    assert.deepEqual(all.map((registry) => registry.name).sort(), ['baseartifacts', 'contoso', 'default']);
    assert.deepEqual(await cli.json(['list', '-g', 'platform', '--query', '[].name']), ['contoso']);
    const table = (await cli.berth(['list', '-g', 'platform', '-o', 'table'])).stdout.split('\n');
    assert.match(table[0]!, /^NAME\s+RESOURCE GROUP\s+LOCATION\s+SKU\s+LOGIN SERVER\s+CREATION DATE\s+ADMIN ENABLED$/);
    assert.match(table[1]!, /^-+( +-+){6}$/);
    assert.match(table[2]!, new RegExp(`^contoso\\s+platform\\s+westeurope\\s+Premium\\s+${cli.loginServer('contoso')}\\s+\\d{4}-\\S+\\s+true$`));
    assert.equal(table.length, 4);
    const tsv = (await cli.berth(['list', '-g', 'platform', '-o', 'tsv'])).stdout;
    assert.match(tsv, new RegExp(`^/registries/contoso\tcontoso\t${cli.loginServer('contoso')}\twesteurope\tplatform\t`));
  });

  it('show prints the registry; --query id -o tsv gives the scope of role assignments', async () => {
    const shown = await cli.json<Registry>(['show', '-n', 'contoso']);
    assert.equal(shown.loginServer, cli.loginServer('contoso'));
    assert.equal((await cli.berth(['show', '-n', 'contoso', '--query', 'id', '-o', 'tsv'])).stdout, '/registries/contoso\n');
    assert.equal((await cli.berth(['show', '-n', 'contoso', '-o', 'none'])).stdout, '');
  });

  it('update changes admin user, anonymous pull and sku', async () => {
    const updated = await cli.json<Registry>(['update', '-n', 'baseartifacts', '--admin-enabled', 'true', '--anonymous-pull-enabled', '--sku', 'Basic']);
    assert.equal(updated.adminUserEnabled, true);
    assert.equal(updated.anonymousPullEnabled, true);
    assert.deepEqual(updated.sku, { name: 'Basic', tier: 'Basic' });
    const back = await cli.json<Registry>(['update', '-n', 'baseartifacts', '--anonymous-pull-enabled', 'false']);
    assert.equal(back.anonymousPullEnabled, false);
    assert.equal(back.adminUserEnabled, true);
  });

  it('credential renew prints a new admin password once; show lists the passwords without values', async () => {
    const renewed = await cli.json<{ username: string; passwords: { name: string; value?: string }[] }>(['credential', 'renew', '-n', 'contoso', '--password-name', 'password']);
    assert.equal(renewed.username, 'contoso');
    assert.ok(renewed.passwords.find((password) => password.name === 'password')?.value);
    const password2 = (await cli.berth(['credential', 'renew', '-n', 'contoso', '--password-name', 'password2', '--query', "passwords[?name=='password2'].value | [0]", '-o', 'tsv'])).stdout.trim();
    assert.ok(password2.length >= 20, 'a generated password');
    const response = await cli.server.request('/v2/', { host: cli.loginServer('contoso'), auth: { username: 'contoso', password: password2 } });
    assert.equal(response.status, 200, 'the admin user logs in with the renewed password');

    const shown = await cli.json<{ username: string; passwords: { name: string; creationTime: string; value?: string }[] }>(['credential', 'show', '-n', 'contoso']);
    assert.equal(shown.username, 'contoso');
    assert.deepEqual(
      shown.passwords.map((password) => password.name),
      ['password', 'password2'],
    );
    assert.ok(shown.passwords.every((password) => password.value === undefined && /^\d{4}-/.test(password.creationTime)));
    const table = (await cli.berth(['credential', 'show', '-n', 'contoso', '-o', 'table'])).stdout.split('\n');
    assert.match(table[0]!, /^USERNAME\s+PASSWORD\s+PASSWORD2$/);
    assert.match(table[2]!, /^contoso\s+\(created \d{4}-\S+\)\s+\(created \d{4}-\S+\)$/);
    assert.ok(!table.join('\n').includes(password2), 'show never prints a secret');
    assertCliError(await cli.berth(['credential', 'renew', '-n', 'contoso', '--password-name', 'password3'], { allowFailure: true }), /password3/);
    assertCliError(await cli.berth(['credential', 'show', '-n', 'default'], { allowFailure: true }), /admin/i);
  });

  it('a default registry comes from BERTH_REGISTRY or berth configure --defaults', async () => {
    assertCliError(await cli.berth(['show'], { allowFailure: true }), /registry is required.*-n\/--name.*BERTH_REGISTRY/);
    assert.equal((await cli.json<Registry>(['show'], { env: { BERTH_REGISTRY: 'contoso' } })).name, 'contoso');
    await cli.berth(['configure', '--defaults', 'registry=baseartifacts']);
    assert.equal((await cli.json<Registry>(['show'])).name, 'baseartifacts');
    assert.equal((await cli.json<Registry>(['show'], { env: { BERTH_REGISTRY: 'contoso' } })).name, 'contoso', 'the environment wins over the file');
    assert.equal((await cli.json<Registry>(['show', '-n', 'default'])).name, 'default', 'the flag wins');
    await cli.berth(['configure', '--defaults', 'registry=']);
    assertCliError(await cli.berth(['show'], { allowFailure: true }), /registry is required/);
  });

  it('errors are ERROR: <message> with exit code 1', async () => {
    assertCliError(await cli.berth(['show', '-n', 'nosuchregistry'], { allowFailure: true }), /nosuchregistry/);
    assertCliError(await cli.berth(['create', '-n', 'Bad_Name'], { allowFailure: true }), /5.*50/);
    assertCliError(await cli.berth(['create', '-n', 'contoso'], { allowFailure: true }), /exists/);
    assertCliError(await cli.berth(['create', '-n', 'x', '--sku', 'Gold'], { allowFailure: true }), /Gold/);
    assertCliError(await cli.berth(['create'], { allowFailure: true }), /--name/);
    assertCliError(await cli.berth(['list', '--query', '[?'], { allowFailure: true }), /--query/);
    assertCliError(await cli.berth(['list'], { env: { BERTH_SERVER: 'http://127.0.0.1:9' }, allowFailure: true }), /cannot reach the Berth server at http:\/\/127\.0\.0\.1:9/);
  });

  it('without a credential, or with a wrong one, the server refuses and the CLI says why', async () => {
    assertCliError(await cli.berth(['list'], { env: { BERTH_USERNAME: undefined, BERTH_PASSWORD: undefined }, allowFailure: true }), /no Berth credential/);
    assertCliError(await cli.berth(['list'], { env: { BERTH_PASSWORD: 'wrong-password' }, allowFailure: true }), /.+/);
    assertCliError(await cli.berth(['list'], { env: { BERTH_PASSWORD: undefined }, allowFailure: true }), /no password for owner/);
  });

  it('delete asks for confirmation, which needs a terminal or --yes', async () => {
    await cli.berth(['create', '-n', 'doomed1']);
    assertCliError(await cli.berth(['delete', '-n', 'doomed1'], { allowFailure: true }), /Use --yes/);
    assert.equal((await cli.json<Registry>(['show', '-n', 'doomed1'])).name, 'doomed1');
    assert.equal((await cli.berth(['delete', '-n', 'doomed1', '--yes'])).stdout, '');
    assertCliError(await cli.berth(['show', '-n', 'doomed1'], { allowFailure: true }), /doomed1/);
  });
});
