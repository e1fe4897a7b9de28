import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { imageOf, pushImage } from '../helpers/oci-http.ts';
import { assertCliError, OWNER, startCliBerth, type CliBerth } from './cli-harness.ts';

interface User {
  principalId: string;
  username: string;
  type: string;
  owner: boolean;
  createdAt: string;
  password?: string;
}

interface Assignment {
  id: string;
  principalId: string;
  principalName: string;
  principalType: string;
  roleDefinitionName: string;
  scope: string;
}

describe('berth user, sp and role assignment', () => {
  let cli: CliBerth;
  before(async () => {
    cli = await startCliBerth();
    await cli.berth(['create', '-n', 'contoso']);
    await cli.berth(['create', '-n', 'baseartifacts']);
    await pushImage(cli.server, 'hello-world', 'v1', imageOf(), cli.loginServer('contoso'));
  });
  after(() => cli.close());

  const as = (username: string, password: string) => ({ env: { BERTH_USERNAME: username, BERTH_PASSWORD: password } });

  it('user create generates a password, or takes one from stdin; list and show never print it', async () => {
    const alice = await cli.json<User>(['user', 'create', '-n', 'alice']);
    assert.equal(alice.username, 'alice');
    assert.equal(alice.type, 'User');
    assert.equal(alice.owner, false);
    assert.ok(alice.password && alice.password.length >= 16);
    const bob = await cli.json<User>(['user', 'create', '-n', 'bob', '--password-stdin'], { input: 'Bob-chose-this-password\n' });
    assert.equal(bob.password, undefined, 'a chosen password is not echoed');
    const users = await cli.json<User[]>(['user', 'list']);
    assert.deepEqual(users.map((user) => user.username).sort(), ['alice', 'bob', OWNER.username].sort());
    assert.ok(users.every((user) => user.password === undefined));
    assert.equal((await cli.json<User[]>(['user', 'list', '--query', '[?owner].username']))[0], OWNER.username);
    const shown = await cli.json<User>(['user', 'show', '-n', 'bob']);
    assert.equal(shown.principalId, bob.principalId);
    assert.equal((await cli.berth(['user', 'show', '-n', 'alice', '--query', 'principalId', '-o', 'tsv'])).stdout, `${alice.principalId}\n`);
    const table = (await cli.berth(['user', 'list', '-o', 'table'])).stdout;
    assert.match(table, /^USERNAME\s+PRINCIPAL ID\s+OWNER\s+CREATED\n-+/);

    assert.deepEqual(await cli.json(['list', '--query', '[].name'], as('bob', 'Bob-chose-this-password')), [], 'bob can read no registry yet');
  });

  it('role assignment create gives a user access; list filters; delete by filter takes it away', async () => {
    const grant = await cli.json<Assignment>(['role', 'assignment', 'create', '--assignee', 'bob', '--role', 'Reader', '--scope', '/registries/contoso']);
    assert.equal(grant.principalName, 'bob');
    assert.equal(grant.principalType, 'User');
    assert.equal(grant.roleDefinitionName, 'Reader');
    assert.equal(grant.scope, '/registries/contoso');
    const bob = as('bob', 'Bob-chose-this-password');
    assert.deepEqual(await cli.json(['list', '--query', '[].name'], bob), ['contoso']);
    assert.deepEqual(await cli.json(['repository', 'list', '-n', 'contoso'], bob), ['hello-world']);
    assertCliError(await cli.berth(['repository', 'list', '-n', 'baseartifacts'], { ...bob, allowFailure: true }), /denied|not allowed|authoriz|forbidden/i);

    await cli.berth(['role', 'assignment', 'create', '--assignee', 'bob', '--role', 'AcrPush', '--scope', '/registries/contoso/repositories/samples/*']);
    const bobs = await cli.json<Assignment[]>(['role', 'assignment', 'list', '--assignee', 'bob']);
    assert.deepEqual(bobs.map((entry) => entry.roleDefinitionName).sort(), ['AcrPush', 'Reader']);
    assert.deepEqual(await cli.json(['role', 'assignment', 'list', '--role', 'AcrPush', '--query', '[].scope']), ['/registries/contoso/repositories/samples/*']);
    const table = (await cli.berth(['role', 'assignment', 'list', '--assignee', 'bob', '--role', 'Reader', '-o', 'table'])).stdout.split('\n');
    assert.match(table[0]!, /^PRINCIPAL\s+TYPE\s+ROLE\s+SCOPE\s+ID$/);
    assert.match(table[2]!, /^bob\s+User\s+Reader\s+\/registries\/contoso\s+\S+$/);

    await cli.berth(['role', 'assignment', 'delete', '--assignee', 'bob', '--role', 'Reader', '--scope', '/registries/contoso']);
    assert.deepEqual(await cli.json(['list', '--query', '[].name'], bob), [], 'a removed role is gone on the next request');
    assertCliError(await cli.berth(['role', 'assignment', 'delete'], { allowFailure: true }), /--ids/);
    assertCliError(await cli.berth(['role', 'assignment', 'create', '--assignee', 'bob', '--role', 'Boss', '--scope', '/'], { allowFailure: true }), /Boss/);
    assertCliError(await cli.berth(['role', 'assignment', 'create', '--assignee', 'nobody', '--role', 'AcrPull', '--scope', '/registries/contoso'], { allowFailure: true }), /nobody/);
  });

  it('user reset-password and delete', async () => {
    const reset = await cli.json<User>(['user', 'reset-password', '-n', 'alice']);
    assert.ok(reset.password);
    await cli.json(['list'], as('alice', reset.password));
    await cli.berth(['user', 'reset-password', '-n', 'alice', '--password-stdin'], { input: 'Alice-new-password-123' });
    await cli.json(['list'], as('alice', 'Alice-new-password-123'));
    assertCliError(await cli.berth(['list'], { ...as('alice', reset.password), allowFailure: true }), /.+/);
    assertCliError(await cli.berth(['user', 'delete', '-n', 'alice'], { allowFailure: true }), /Use --yes/);
    await cli.berth(['user', 'delete', '-n', 'alice', '--yes']);
    assertCliError(await cli.berth(['user', 'show', '-n', 'alice'], { allowFailure: true }), /alice/);
    assertCliError(await cli.berth(['list'], { ...as('alice', 'Alice-new-password-123'), allowFailure: true }), /.+/);
  });

  it('a user without manage rights cannot manage users', async () => {
    assertCliError(await cli.berth(['user', 'list'], { ...as('bob', 'Bob-chose-this-password'), allowFailure: true }), /.+/);
  });

  it('sp create assigns its role at its scopes and prints the password once; list, show, delete', async () => {
    const created = await cli.json<{ appId: string; displayName: string; password: string; tenant: string; principalId: string }>([
      'sp',
      'create',
      '-n',
      'ci-pipeline',
      '--role',
      'AcrPull',
      '--scopes',
      '/registries/contoso',
      '/registries/baseartifacts',
    ]);
    assert.equal(created.displayName, 'ci-pipeline');
    assert.equal(created.tenant, 'berth');
    assert.ok(created.appId && created.password && created.principalId);
    const assignments = await cli.json<Assignment[]>(['role', 'assignment', 'list', '--assignee', created.appId]);
    assert.deepEqual(assignments.map((entry) => entry.scope).sort(), ['/registries/baseartifacts', '/registries/contoso']);
    assert.ok(assignments.every((entry) => entry.principalType === 'ServicePrincipal' && entry.roleDefinitionName === 'AcrPull'));

    const pull = await cli.server.request('/v2/hello-world/manifests/v1', {
      host: cli.loginServer('contoso'),
      auth: { username: created.appId, password: created.password },
      headers: { accept: '*/*' },
    });
    assert.equal(pull.status, 200, 'the service principal pulls with its app id and password');

    const listed = await cli.json<{ appId: string; password?: string }[]>(['sp', 'list']);
    assert.deepEqual(listed.map((sp) => sp.appId), [created.appId]);
    assert.ok(listed.every((sp) => sp.password === undefined));
    assert.equal((await cli.json<{ displayName: string }>(['sp', 'show', '--id', created.appId])).displayName, 'ci-pipeline');
    assert.match((await cli.berth(['sp', 'list', '-o', 'table'])).stdout, /^DISPLAY NAME\s+APP ID\s+PRINCIPAL ID\s+CREATED\n/);

    const ids = await cli.json<string[]>(['role', 'assignment', 'list', '--assignee', created.appId, '--scope', '/registries/baseartifacts', '--query', '[].id']);
    assert.equal(ids.length, 1);
    await cli.berth(['role', 'assignment', 'delete', '--ids', ...ids]);
    assert.equal((await cli.json<Assignment[]>(['role', 'assignment', 'list', '--assignee', created.appId])).length, 1);

    await cli.berth(['sp', 'delete', '--id', created.appId, '--yes']);
    assertCliError(await cli.berth(['sp', 'show', '--id', created.appId], { allowFailure: true }), /.+/);
    const remaining = await cli.json<Assignment[]>(['role', 'assignment', 'list']);
    assert.ok(!remaining.some((entry) => entry.principalId === created.principalId), 'its assignments went with it');
  });
});
