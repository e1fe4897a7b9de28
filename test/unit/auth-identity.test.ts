/**
 * The identity service: input validation (400), unknown objects (404), conflicts (409), the
 * life of users, service principals, role assignments, registry settings, admin credentials,
 * scope maps and tokens, and secrets shown only at creation.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { RoleName } from '../../src/auth/identity-service.ts';
import { IdentityError } from '../../src/auth/services.ts';
import { authFixture, type AuthFixture } from '../auth/auth-fixture.ts';

async function rejectsWith(promise: Promise<unknown>, status: IdentityError['status'], message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof IdentityError, String(error));
    assert.equal(error.status, status, error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}

const isoTime = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('identity service', () => {
  let auth: AuthFixture;

  beforeEach(async () => {
    auth = await authFixture();
    await auth.meta.createRegistry('contoso');
    await auth.meta.createRegistry('fabrikam');
  });
  afterEach(async () => auth.close());

  describe('owner bootstrap', () => {
    it('creates the owner once, with a generated password unless one is given', async () => {
      const first = await auth.identity.bootstrapOwner('owner', undefined);
      assert.equal(first.created, true);
      assert.match(first.generatedPassword ?? '', /^[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(await auth.identity.bootstrapOwner('owner', undefined), { created: false });
      assert.deepEqual(await auth.identity.bootstrapOwner('someone-else', 'a given password'), { created: false });
      const owner = await auth.identity.getUser('owner');
      assert.equal(owner.owner, true);
      assert.equal(owner.password, undefined);
    });

    it('takes a given user name and password', async () => {
      assert.deepEqual(await auth.identity.bootstrapOwner('admin-person', 'from the environment'), { created: true });
      const principal = await auth.authenticator.verifyPassword('admin-person', 'from the environment', { registry: 'contoso', address: 'a' });
      assert.equal(principal.kind === 'user' && principal.owner, true);
    });

    it('creates one owner when several nodes start at once', async () => {
      const nodes = [auth, await auth.another(), await auth.another()];
      const results = await Promise.all(nodes.map((node) => node.identity.bootstrapOwner('owner', 'the owner password')));
      assert.equal(results.filter((result) => result.created).length, 1);
      assert.deepEqual((await auth.identity.listUsers()).map((u) => u.username), ['owner']);
    });

    it('validates what it is given', async () => {
      await rejectsWith(auth.identity.bootstrapOwner('bad name', undefined), 400);
      await rejectsWith(auth.identity.bootstrapOwner('owner', 'short'), 400);
    });
  });

  describe('users', () => {
    it('are created, listed, shown, reset and deleted; passwords appear only when generated', async () => {
      const given = await auth.identity.createUser('alice', 'alice password');
      assert.deepEqual(Object.keys(given), ['principalId', 'username', 'type', 'owner', 'createdAt']);
      assert.equal(given.type, 'User');
      assert.equal(given.owner, false);
      assert.match(given.createdAt, isoTime);
      const generated = await auth.identity.createUser('bob.smith@contoso.com');
      assert.match(generated.password ?? '', /^[A-Za-z0-9_-]{43}$/);

      assert.deepEqual((await auth.identity.listUsers()).map((u) => u.username), ['alice', 'bob.smith@contoso.com']);
      assert.deepEqual(await auth.identity.getUser('alice'), given);
      assert.equal((await auth.identity.getUser('bob.smith@contoso.com')).password, undefined);

      const reset = await auth.identity.resetUserPassword('alice');
      assert.ok(reset.password);
      await auth.authenticator.verifyPassword('alice', reset.password, { registry: 'contoso', address: 'a' });
      assert.equal((await auth.identity.resetUserPassword('alice', 'chosen password')).password, undefined);

      await auth.identity.deleteUser('alice');
      await rejectsWith(auth.identity.getUser('alice'), 404);
      await rejectsWith(auth.identity.deleteUser('alice'), 404);
      await rejectsWith(auth.identity.resetUserPassword('alice'), 404);
    });

    it('refuse bad names and passwords, and duplicates', async () => {
      for (const name of ['', ' alice', 'al ice', 'alice/x', '-alice', 'x'.repeat(65), '00000000-0000-0000-0000-000000000000', '6f1c6f1e-2a2b-4c4d-8e8f-0123456789ab']) {
        await rejectsWith(auth.identity.createUser(name, 'a long password'), 400);
      }
      await rejectsWith(auth.identity.createUser('alice', 'short'), 400);
      await rejectsWith(auth.identity.createUser('alice', 'x'.repeat(257)), 400);
      await auth.identity.createUser('alice', 'a long password');
      await rejectsWith(auth.identity.createUser('alice', 'another password'), 409, /already exists/);
      await rejectsWith(auth.identity.resetUserPassword('alice', 'short'), 400);
    });

    it('cannot delete the installation owner', async () => {
      await auth.identity.bootstrapOwner('owner', undefined);
      await rejectsWith(auth.identity.deleteUser('owner'), 409);
    });
  });

  describe('service principals', () => {
    it('are created with a generated secret shown once, listed, shown and deleted', async () => {
      const created = await auth.identity.createServicePrincipal('build pipeline');
      assert.deepEqual(Object.keys(created), ['appId', 'displayName', 'password', 'tenant', 'principalId', 'createdAt']);
      assert.equal(created.tenant, 'berth');
      assert.match(created.appId, /^[0-9a-f-]{36}$/);
      assert.notEqual(created.appId, created.principalId);
      assert.match(created.password ?? '', /^[A-Za-z0-9_-]{43}$/);
      const shown = await auth.identity.getServicePrincipal(created.appId);
      assert.equal(shown.password, undefined);
      assert.equal(shown.displayName, 'build pipeline');
      assert.deepEqual((await auth.identity.listServicePrincipals()).map((sp) => sp.appId), [created.appId]);
      await rejectsWith(auth.identity.createServicePrincipal('build pipeline'), 409);
      await rejectsWith(auth.identity.createServicePrincipal(''), 400);
      await rejectsWith(auth.identity.createServicePrincipal('x'.repeat(101)), 400);
      await auth.identity.deleteServicePrincipal(created.appId);
      await rejectsWith(auth.identity.getServicePrincipal(created.appId), 404);
      await rejectsWith(auth.identity.deleteServicePrincipal(created.appId), 404);
      await rejectsWith(auth.identity.getServicePrincipal('not-an-app-id'), 404);
    });
  });

  describe('role assignments', () => {
    it('are made by user name, appId or principalId and listed by filter', async () => {
      const alice = await auth.identity.createUser('alice', 'alice password');
      const sp = await auth.identity.createServicePrincipal('ci');
      const byName = await auth.identity.createRoleAssignment('alice', 'AcrPull', '/registries/contoso');
      assert.deepEqual(Object.keys(byName), ['id', 'principalId', 'principalName', 'principalType', 'roleDefinitionName', 'scope', 'createdAt']);
      assert.equal(byName.principalId, alice.principalId);
      assert.equal(byName.principalType, 'User');
      const byAppId = await auth.identity.createRoleAssignment(sp.appId, 'AcrPush', '/registries/contoso/repositories/samples/*');
      assert.equal(byAppId.principalType, 'ServicePrincipal');
      assert.equal(byAppId.principalName, 'ci');
      const byPrincipalId = await auth.identity.createRoleAssignment(alice.principalId, 'Reader', '/');

      // Listed by creation time; assignments made within the same millisecond may come in any order.
      assert.deepEqual((await auth.identity.listRoleAssignments({})).map((a) => a.id).sort(), [byName.id, byAppId.id, byPrincipalId.id].sort());
      assert.deepEqual((await auth.identity.listRoleAssignments({ assignee: 'alice' })).map((a) => a.id).sort(), [byName.id, byPrincipalId.id].sort());
      assert.deepEqual((await auth.identity.listRoleAssignments({ assignee: sp.appId })).map((a) => a.id), [byAppId.id]);
      assert.deepEqual((await auth.identity.listRoleAssignments({ scope: '/registries/contoso/' })).map((a) => a.id), [byName.id]);
      assert.deepEqual((await auth.identity.listRoleAssignments({ role: 'Reader' })).map((a) => a.id), [byPrincipalId.id]);
      assert.deepEqual(await auth.identity.getRoleAssignment(byName.id), byName);

      await auth.identity.deleteRoleAssignment(byName.id);
      await rejectsWith(auth.identity.getRoleAssignment(byName.id), 404);
      await rejectsWith(auth.identity.deleteRoleAssignment(byName.id), 404);
      await auth.identity.deleteServicePrincipal(sp.appId);
      assert.deepEqual((await auth.identity.listRoleAssignments({})).map((a) => a.id), [byPrincipalId.id]);
    });

    it('refuse unknown roles, malformed scopes, unknown registries and assignees, and duplicates', async () => {
      await auth.identity.createUser('alice', 'alice password');
      await rejectsWith(auth.identity.createRoleAssignment('alice', 'Superuser' as RoleName, '/'), 400, /unknown role/);
      for (const scope of ['', 'registries/contoso', '/registries', '/registries/contoso/tasks/x', '/registries/contoso/repositories/', '/registries/contoso/repositories/UPPER', '/registries/contoso/repositories/a*', '/x']) {
        await rejectsWith(auth.identity.createRoleAssignment('alice', 'AcrPull', scope), 400);
      }
      await rejectsWith(auth.identity.createRoleAssignment('alice', 'AcrPull', '/registries/nosuchregistry'), 404);
      await rejectsWith(auth.identity.createRoleAssignment('nobody', 'AcrPull', '/'), 404);
      await rejectsWith(auth.identity.createRoleAssignment('6f1c6f1e-2a2b-4c4d-8e8f-0123456789ab', 'AcrPull', '/'), 404);
      await rejectsWith(auth.identity.listRoleAssignments({ assignee: 'nobody' }), 404);
      await auth.identity.createRoleAssignment('alice', 'AcrPull', '/registries/contoso/repositories/*');
      await rejectsWith(auth.identity.createRoleAssignment('alice', 'AcrPull', '/registries/contoso/repositories/*'), 409);
    });
  });

  describe('registry settings and the admin user', () => {
    it('default to Standard with admin user and anonymous pull disabled, and change', async () => {
      assert.deepEqual(await auth.identity.getRegistrySettings('contoso'), {
        sku: 'Standard',
        adminUserEnabled: false,
        anonymousPullEnabled: false,
        resourceGroup: null,
        location: null,
      });
      const changed = await auth.identity.updateRegistrySettings('contoso', { sku: 'Premium', anonymousPullEnabled: true, resourceGroup: 'team-a' });
      assert.deepEqual(changed, { sku: 'Premium', adminUserEnabled: false, anonymousPullEnabled: true, resourceGroup: 'team-a', location: null });
      const record = await auth.meta.getRegistry('contoso');
      assert.equal(record?.quotaBytes, 500 * 1024 ** 3);
      assert.equal(record?.webhookLimit, 500);
      await rejectsWith(auth.identity.updateRegistrySettings('contoso', { sku: 'Gold' as 'Basic' }), 400);
      await rejectsWith(auth.identity.updateRegistrySettings('contoso', { location: '' }), 400);
      await rejectsWith(auth.identity.updateRegistrySettings('nosuchregistry', { sku: 'Basic' }), 404);
      await rejectsWith(auth.identity.getRegistrySettings('nosuchregistry'), 404);
    });

    it('shows admin credentials without values and renews one password at a time', async () => {
      await rejectsWith(auth.identity.showAdminCredential('contoso'), 409, /disabled/);
      await rejectsWith(auth.identity.renewAdminPassword('contoso', 'password'), 409);
      await auth.identity.updateRegistrySettings('contoso', { adminUserEnabled: true });
      assert.deepEqual(await auth.identity.showAdminCredential('contoso'), { username: 'contoso', passwords: [] });

      const renewed = await auth.identity.renewAdminPassword('contoso', 'password');
      assert.equal(renewed.username, 'contoso');
      assert.equal(renewed.passwords.length, 1);
      assert.equal(renewed.passwords[0]?.name, 'password');
      assert.match(renewed.passwords[0]?.value ?? '', /^[A-Za-z0-9_-]{43}$/);
      const both = await auth.identity.renewAdminPassword('contoso', 'password2');
      assert.deepEqual(both.passwords.map((p) => [p.name, p.value !== undefined]), [
        ['password', false],
        ['password2', true],
      ]);
      const shown = await auth.identity.showAdminCredential('contoso');
      assert.ok(shown.passwords.every((p) => p.value === undefined && isoTime.test(p.creationTime)));
      await rejectsWith(auth.identity.renewAdminPassword('contoso', 'password3' as 'password'), 400);
      await rejectsWith(auth.identity.showAdminCredential('nosuchregistry'), 404);
    });
  });

  describe('scope maps', () => {
    it('list the system scope maps first, read-only', async () => {
      const maps = await auth.identity.listScopeMaps('contoso');
      assert.deepEqual(maps.map((m) => m.name), [
        '_repositories_admin',
        '_repositories_pull',
        '_repositories_pull_metadata_read',
        '_repositories_push',
        '_repositories_push_metadata_write',
      ]);
      const pull = await auth.identity.getScopeMap('contoso', '_repositories_pull');
      assert.deepEqual(pull.actions, ['repositories/*/content/read']);
      assert.equal(pull.type, 'SystemDefined');
      assert.equal(pull.id, '/registries/contoso/scopeMaps/_repositories_pull');
      await rejectsWith(auth.identity.updateScopeMap('contoso', '_repositories_pull', { addActions: ['repositories/a/content/write'] }), 400);
      await rejectsWith(auth.identity.deleteScopeMap('contoso', '_repositories_pull'), 400);
      await rejectsWith(auth.identity.createScopeMap('contoso', '_repositories_pull', ['repositories/a/content/read']), 409);
    });

    it('are created, updated and deleted', async () => {
      const created = await auth.identity.createScopeMap(
        'contoso',
        'samples-read',
        ['repositories/samples/*/content/read', 'repositories/samples/*/content/read', 'repositories/hello-world/metadata/read'],
        'Read the samples',
      );
      assert.deepEqual(Object.keys(created), ['id', 'name', 'description', 'type', 'actions', 'creationDate']);
      assert.deepEqual(created.actions, ['repositories/samples/*/content/read', 'repositories/hello-world/metadata/read']);
      assert.equal(created.type, 'UserDefined');
      assert.equal(created.description, 'Read the samples');
      assert.equal((await auth.identity.listScopeMaps('contoso')).at(-1)?.name, 'samples-read');
      assert.equal((await auth.identity.listScopeMaps('fabrikam')).length, 5);

      const updated = await auth.identity.updateScopeMap('contoso', 'samples-read', {
        addActions: ['repositories/samples/*/content/write'],
        removeActions: ['repositories/hello-world/metadata/read'],
        description: 'Read and write the samples',
      });
      assert.deepEqual(updated.actions, ['repositories/samples/*/content/read', 'repositories/samples/*/content/write']);
      assert.equal(updated.description, 'Read and write the samples');
      assert.deepEqual(await auth.identity.getScopeMap('contoso', 'samples-read'), updated);
      await rejectsWith(
        auth.identity.updateScopeMap('contoso', 'samples-read', { removeActions: updated.actions }),
        400,
        /at least one action/,
      );

      await auth.identity.deleteScopeMap('contoso', 'samples-read');
      await rejectsWith(auth.identity.getScopeMap('contoso', 'samples-read'), 404);
      await rejectsWith(auth.identity.deleteScopeMap('contoso', 'samples-read'), 404);
    });

    it('refuse bad names, actions and descriptions, unknown registries and duplicates', async () => {
      for (const name of ['abcd', 'x'.repeat(51), 'has space', 'has.dot', 'slash/name']) {
        await rejectsWith(auth.identity.createScopeMap('contoso', name, ['repositories/a/content/read']), 400);
      }
      for (const action of [
        'repositories/a/content/execute',
        'repositories/a/content',
        'repository/a/content/read',
        'repositories//content/read',
        'repositories/UPPER/content/read',
        'repositories/a*/content/read',
        'repositories/../content/read',
        'gateway/x/config/read',
      ]) {
        await rejectsWith(auth.identity.createScopeMap('contoso', 'bad-actions', [action]), 400);
      }
      await rejectsWith(auth.identity.createScopeMap('contoso', 'no-actions', []), 400);
      await rejectsWith(auth.identity.createScopeMap('contoso', 'long-description', ['repositories/a/content/read'], 'x'.repeat(257)), 400);
      await rejectsWith(auth.identity.createScopeMap('nosuchregistry', 'valid-name', ['repositories/a/content/read']), 404);
      await auth.identity.createScopeMap('contoso', 'valid-name', ['repositories/a/content/read']);
      await rejectsWith(auth.identity.createScopeMap('contoso', 'valid-name', ['repositories/a/content/read']), 409);
      // The same name in another registry is another scope map.
      await auth.identity.createScopeMap('fabrikam', 'valid-name', ['repositories/a/content/read']);
    });

    it('cannot be deleted while a token uses them', async () => {
      await auth.identity.createScopeMap('contoso', 'in-use-map', ['repositories/a/content/read']);
      await auth.identity.createToken('contoso', 'user-of-map', { scopeMapName: 'in-use-map' });
      await rejectsWith(auth.identity.deleteScopeMap('contoso', 'in-use-map'), 409);
      await auth.identity.deleteToken('contoso', 'user-of-map');
      await auth.identity.deleteScopeMap('contoso', 'in-use-map');
    });
  });

  describe('tokens', () => {
    it('are created with two generated passwords shown once', async () => {
      const created = await auth.identity.createToken('contoso', 'ci-token', { scopeMapName: '_repositories_push' });
      assert.deepEqual(Object.keys(created), ['id', 'name', 'scopeMapId', 'status', 'creationDate', 'credentials']);
      assert.equal(created.id, '/registries/contoso/tokens/ci-token');
      assert.equal(created.scopeMapId, '/registries/contoso/scopeMaps/_repositories_push');
      assert.equal(created.status, 'enabled');
      assert.equal(created.credentials.username, 'ci-token');
      assert.deepEqual(created.credentials.passwords.map((p) => [p.name, p.expiry, /^[A-Za-z0-9_-]{43}$/.test(p.value ?? '')]), [
        ['password1', null, true],
        ['password2', null, true],
      ]);
      const shown = await auth.identity.getToken('contoso', 'ci-token');
      assert.ok(shown.credentials.passwords.every((p) => p.value === undefined));
      assert.deepEqual((await auth.identity.listTokens('contoso')).map((t) => t.name), ['ci-token']);
      assert.deepEqual(await auth.identity.listTokens('fabrikam'), []);
    });

    it('with inline actions get their own scope map', async () => {
      const created = await auth.identity.createToken('contoso', 'inline', {
        actions: ['repositories/hello/content/read', 'repositories/hello/content/write'],
        status: 'disabled',
        noPasswords: true,
        expiry: null,
      });
      assert.equal(created.scopeMapId, '/registries/contoso/scopeMaps/inline-scope-map');
      assert.equal(created.status, 'disabled');
      assert.deepEqual(created.credentials.passwords, []);
      assert.deepEqual((await auth.identity.getScopeMap('contoso', 'inline-scope-map')).actions, [
        'repositories/hello/content/read',
        'repositories/hello/content/write',
      ]);
      // The token name clashes, so nothing is created, not even the scope map.
      await rejectsWith(auth.identity.createToken('contoso', 'inline', { actions: ['repositories/x/content/read'] }), 409);
    });

    it('get an expiry, are updated, regenerate passwords and are deleted', async () => {
      const expiry = new Date(auth.clock.now + 86_400_000).toISOString();
      const created = await auth.identity.createToken('contoso', 'expiring', { scopeMapName: '_repositories_pull', expiry });
      assert.deepEqual(created.credentials.passwords.map((p) => p.expiry), [expiry, expiry]);

      await auth.identity.createScopeMap('contoso', 'other-map', ['repositories/x/content/read']);
      const updated = await auth.identity.updateToken('contoso', 'expiring', { scopeMapName: 'other-map', status: 'disabled' });
      assert.equal(updated.scopeMapId, '/registries/contoso/scopeMaps/other-map');
      assert.equal(updated.status, 'disabled');

      const regenerated = await auth.identity.generateTokenPasswords('contoso', 'expiring', { password2: true, expiry: null });
      assert.deepEqual(regenerated.credentials.passwords.map((p) => [p.name, p.expiry, p.value !== undefined]), [
        ['password1', expiry, false],
        ['password2', null, true],
      ]);
      const both = await auth.identity.generateTokenPasswords('contoso', 'expiring', {});
      assert.ok(both.credentials.passwords.every((p) => p.value !== undefined));

      await auth.identity.deleteToken('contoso', 'expiring');
      await rejectsWith(auth.identity.getToken('contoso', 'expiring'), 404);
      await rejectsWith(auth.identity.deleteToken('contoso', 'expiring'), 404);
      await rejectsWith(auth.identity.generateTokenPasswords('contoso', 'expiring', {}), 404);
    });

    it('refuse bad input, unknown scope maps and registries, and duplicates', async () => {
      for (const name of ['abcd', 'x'.repeat(51), 'bad name', 'bad/name']) {
        await rejectsWith(auth.identity.createToken('contoso', name, { scopeMapName: '_repositories_pull' }), 400);
      }
      await rejectsWith(auth.identity.createToken('contoso', 'neither', {}), 400);
      await rejectsWith(auth.identity.createToken('contoso', 'both-given', { scopeMapName: '_repositories_pull', actions: ['repositories/a/content/read'] }), 400);
      await rejectsWith(auth.identity.createToken('contoso', 'bad-actions', { actions: ['repositories/a/everything'] }), 400);
      await rejectsWith(auth.identity.createToken('contoso', 'bad-status', { scopeMapName: '_repositories_pull', status: 'paused' as 'enabled' }), 400);
      await rejectsWith(auth.identity.createToken('contoso', 'bad-expiry', { scopeMapName: '_repositories_pull', expiry: 'tomorrow' }), 400);
      await rejectsWith(auth.identity.createToken('contoso', 'past-expiry', { scopeMapName: '_repositories_pull', expiry: '2001-01-01T00:00:00Z' }), 400);
      await rejectsWith(auth.identity.createToken('contoso', 'no-such-map', { scopeMapName: 'missing-map' }), 404);
      await rejectsWith(auth.identity.createToken('nosuchregistry', 'valid-token', { scopeMapName: '_repositories_pull' }), 404);
      await auth.identity.createToken('contoso', 'valid-token', { scopeMapName: '_repositories_pull' });
      await rejectsWith(auth.identity.createToken('contoso', 'valid-token', { scopeMapName: '_repositories_pull' }), 409);
      await rejectsWith(auth.identity.updateToken('contoso', 'valid-token', { scopeMapName: 'missing-map' }), 404);
      await rejectsWith(auth.identity.updateToken('contoso', 'valid-token', { status: 'paused' as 'enabled' }), 400);
      await rejectsWith(auth.identity.updateToken('contoso', 'missing-token', { status: 'disabled' }), 404);
      await rejectsWith(auth.identity.generateTokenPasswords('contoso', 'valid-token', { expiry: 'not a time' }), 400);
    });

    it('go with their registry', async () => {
      await auth.meta.createRegistry('transient');
      await auth.identity.createScopeMap('transient', 'a-scope-map', ['repositories/a/content/read']);
      await auth.identity.createToken('transient', 'a-token', { scopeMapName: 'a-scope-map' });
      await auth.meta.deleteRegistry('transient');
      await auth.meta.createRegistry('transient');
      assert.deepEqual(await auth.identity.listTokens('transient'), []);
      assert.equal((await auth.identity.listScopeMaps('transient')).length, 5);
    });
  });

  it('describes principals for audit', () => {
    assert.equal(auth.identity.describe({ kind: 'anonymous' }), 'anonymous');
    assert.equal(auth.identity.describe({ kind: 'user', id: 'x', name: 'alice', owner: true }), 'user alice (installation owner)');
    assert.equal(auth.identity.describe({ kind: 'admin', registry: 'contoso' }), 'admin user of registry contoso');
    assert.equal(auth.identity.describe({ kind: 'token', id: 'x', registry: 'contoso', name: 'ci' }), 'token ci of registry contoso');
    assert.equal(auth.identity.describe({ kind: 'servicePrincipal', id: 'x', name: 'ci', appId: 'a' }), 'service principal ci (a)');
  });
});
