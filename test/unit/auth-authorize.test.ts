/**
 * The one decision function: every role at every kind of scope against every action, the
 * installation owner, admin users, tokens with scope maps, anonymous pull, and changes taking
 * effect on the very next decision.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Action } from '../../src/auth/actions.ts';
import type { RoleName } from '../../src/auth/identity-service.ts';
import type { Principal } from '../../src/auth/principal.ts';
import { authFixture, type AuthFixture } from '../auth/auth-fixture.ts';

/** The contract's roles table, written out independently of the implementation. */
const expectedGrants: Record<RoleName, Action[]> = {
  Owner: ['pull', 'push', 'delete', 'metadata_read', 'metadata_write', 'catalog', 'read_registry', 'manage_registry', 'assign_roles', 'manage_installation'],
  Contributor: ['pull', 'push', 'delete', 'metadata_read', 'metadata_write', 'catalog', 'read_registry', 'manage_registry'],
  Reader: ['pull', 'metadata_read', 'catalog', 'read_registry'],
  AcrPush: ['pull', 'push', 'metadata_read'],
  AcrPull: ['pull'],
  AcrDelete: ['delete'],
  AcrImageSigner: ['sign'],
  AcrQuarantineReader: ['quarantine_read'],
  AcrQuarantineWriter: ['quarantine_read', 'quarantine_write'],
};

const repositoryActions: Action[] = ['pull', 'push', 'delete', 'metadata_read', 'metadata_write', 'quarantine_read', 'quarantine_write', 'sign'];
const registryActions: Action[] = ['catalog', 'read_registry', 'manage_registry', 'assign_roles'];

type Scope = { label: string; scope: string; covers(registry: string, repository: string | undefined): boolean };

const scopes: Scope[] = [
  { label: 'installation', scope: '/', covers: () => true },
  { label: 'registry', scope: '/registries/contoso', covers: (registry) => registry === 'contoso' },
  {
    label: 'repository',
    scope: '/registries/contoso/repositories/samples/app',
    covers: (registry, repository) => registry === 'contoso' && repository === 'samples/app',
  },
  {
    label: 'prefix wildcard',
    scope: '/registries/contoso/repositories/samples/*',
    covers: (registry, repository) => registry === 'contoso' && repository !== undefined && repository.startsWith('samples/'),
  },
];

/** Where each action is tried. */
const repositoryTargets: [string, string][] = [
  ['contoso', 'samples/app'],
  ['contoso', 'samples/deep/tool'],
  ['contoso', 'samples'],
  ['contoso', 'other'],
  ['fabrikam', 'samples/app'],
];
const registryTargets = ['contoso', 'fabrikam'];

describe('authorize: roles × scopes × actions', () => {
  let auth: AuthFixture;

  before(async () => {
    auth = await authFixture();
    await auth.meta.createRegistry('contoso');
    await auth.meta.createRegistry('fabrikam');
  });
  after(async () => auth.close());

  for (const role of Object.keys(expectedGrants) as RoleName[]) {
    for (const scope of scopes) {
      it(`${role} at ${scope.label} scope`, async () => {
        const username = `${role.toLowerCase()}-${scope.label.replace(' ', '-')}`;
        const user = await auth.identity.createUser(username, 'a long password');
        await auth.identity.createRoleAssignment(username, role, scope.scope);
        const principal: Principal = { kind: 'user', id: user.principalId, name: username, owner: false };
        const granted = new Set(expectedGrants[role]);
        const wrong: string[] = [];
        const check = async (registry: string | undefined, repository: string | undefined, action: Action, expected: boolean) => {
          const actual = await auth.authorizer.authorize(principal, registry, repository, action);
          if (actual !== expected) wrong.push(`${action} on ${registry ?? '(installation)'}/${repository ?? ''}: got ${actual}`);
        };

        for (const [registry, repository] of repositoryTargets) {
          for (const action of repositoryActions) {
            await check(registry, repository, action, granted.has(action) && scope.covers(registry, repository));
          }
        }
        const registryWide = scope.label === 'installation' || scope.label === 'registry';
        for (const registry of registryTargets) {
          for (const action of registryActions) {
            await check(registry, undefined, action, granted.has(action) && registryWide && scope.covers(registry, undefined));
          }
          // A repository action on the whole registry needs a registry-wide grant.
          await check(registry, undefined, 'pull', granted.has('pull') && registryWide && scope.covers(registry, undefined));
        }
        await check(undefined, undefined, 'manage_installation', role === 'Owner' && scope.label === 'installation');
        await check(undefined, undefined, 'read_registry', granted.has('read_registry') && scope.label === 'installation');
        assert.deepEqual(wrong, []);
      });
    }
  }

  it('applies to service principals as to users', async () => {
    const sp = await auth.identity.createServicePrincipal('ci-pipeline');
    await auth.identity.createRoleAssignment(sp.appId, 'AcrPush', '/registries/fabrikam');
    const principal: Principal = { kind: 'servicePrincipal', id: sp.principalId, name: sp.displayName, appId: sp.appId };
    assert.equal(await auth.authorizer.authorize(principal, 'fabrikam', 'app', 'push'), true);
    assert.equal(await auth.authorizer.authorize(principal, 'fabrikam', 'app', 'delete'), false);
    assert.equal(await auth.authorizer.authorize(principal, 'contoso', 'app', 'pull'), false);
  });

  it('adds up several assignments', async () => {
    await auth.identity.createUser('combined', 'a long password');
    await auth.identity.createRoleAssignment('combined', 'AcrPull', '/registries/contoso');
    await auth.identity.createRoleAssignment('combined', 'AcrDelete', '/registries/contoso/repositories/samples/*');
    const user = await auth.identity.getUser('combined');
    const principal: Principal = { kind: 'user', id: user.principalId, name: 'combined', owner: false };
    assert.equal(await auth.authorizer.authorize(principal, 'contoso', 'x', 'pull'), true);
    assert.equal(await auth.authorizer.authorize(principal, 'contoso', 'samples/x', 'delete'), true);
    assert.equal(await auth.authorizer.authorize(principal, 'contoso', 'x', 'delete'), false);
  });
});

describe('authorize: other principals', () => {
  let auth: AuthFixture;

  before(async () => {
    auth = await authFixture();
    await auth.meta.createRegistry('contoso');
    await auth.meta.createRegistry('fabrikam');
  });
  after(async () => auth.close());

  const everyAction: Action[] = [...repositoryActions, ...registryActions, 'manage_installation'];

  async function allowed(principal: Principal, registry: string | undefined, repository: string | undefined): Promise<Action[]> {
    const result: Action[] = [];
    for (const action of everyAction) {
      if (await auth.authorizer.authorize(principal, registry, repository, action)) result.push(action);
    }
    return result;
  }

  it('lets the installation owner do everything, quarantine included', async () => {
    const { generatedPassword } = await auth.identity.bootstrapOwner('owner', undefined);
    assert.ok(generatedPassword);
    const owner = await auth.identity.getUser('owner');
    const principal: Principal = { kind: 'user', id: owner.principalId, name: 'owner', owner: true };
    assert.deepEqual(await allowed(principal, 'contoso', 'any/repo'), everyAction);
    assert.deepEqual(await allowed(principal, undefined, undefined), everyAction);
  });

  it('trusts the stored owner flag, not the one a principal claims', async () => {
    const user = await auth.identity.createUser('pretender', 'a long password');
    const principal: Principal = { kind: 'user', id: user.principalId, name: 'pretender', owner: true };
    assert.deepEqual(await allowed(principal, 'contoso', 'app'), []);
  });

  it('gives the admin user its registry only, while enabled', async () => {
    const admin: Principal = { kind: 'admin', registry: 'contoso' };
    assert.deepEqual(await allowed(admin, 'contoso', 'app'), []);
    await auth.identity.updateRegistrySettings('contoso', { adminUserEnabled: true });
    assert.deepEqual(await allowed(admin, 'contoso', 'app'), [
      'pull',
      'push',
      'delete',
      'metadata_read',
      'metadata_write',
      'catalog',
      'read_registry',
    ]);
    assert.equal(await auth.authorizer.authorize(admin, 'contoso', undefined, 'catalog'), true);
    assert.deepEqual(await allowed(admin, 'fabrikam', 'app'), []);
    assert.deepEqual(await allowed(admin, undefined, undefined), []);
    await auth.identity.updateRegistrySettings('contoso', { adminUserEnabled: false });
    assert.deepEqual(await allowed(admin, 'contoso', 'app'), []);
  });

  it('lets anonymous callers pull, and only pull, where anonymous pull is enabled', async () => {
    const anonymous: Principal = { kind: 'anonymous' };
    assert.deepEqual(await allowed(anonymous, 'fabrikam', 'app'), []);
    await auth.identity.updateRegistrySettings('fabrikam', { anonymousPullEnabled: true });
    assert.deepEqual(await allowed(anonymous, 'fabrikam', 'app'), ['pull']);
    assert.deepEqual(await allowed(anonymous, 'fabrikam', undefined), []);
    assert.deepEqual(await allowed(anonymous, 'contoso', 'app'), []);
    assert.deepEqual(await allowed(anonymous, 'nosuchregistry', 'app'), []);
    await auth.identity.updateRegistrySettings('fabrikam', { anonymousPullEnabled: false });
    assert.deepEqual(await allowed(anonymous, 'fabrikam', 'app'), []);
  });

  describe('tokens', () => {
    async function token(name: string, options: Parameters<AuthFixture['identity']['createToken']>[2], registry = 'contoso'): Promise<Principal> {
      const view = await auth.identity.createToken(registry, name, options);
      const record = await auth.meta.getToken(registry, view.name);
      assert.ok(record);
      return { kind: 'token', id: record.id, registry, name };
    }

    it('grant exactly their scope map, with prefix wildcards', async () => {
      await auth.identity.createScopeMap('contoso', 'samples-rw', [
        'repositories/samples/*/content/read',
        'repositories/samples/*/content/write',
        'repositories/tools/build/metadata/read',
      ]);
      const principal = await token('samples-writer', { scopeMapName: 'samples-rw' });
      assert.deepEqual(await allowed(principal, 'contoso', 'samples/app'), ['pull', 'push']);
      assert.deepEqual(await allowed(principal, 'contoso', 'samples/deep/app'), ['pull', 'push']);
      assert.deepEqual(await allowed(principal, 'contoso', 'samples'), []);
      assert.deepEqual(await allowed(principal, 'contoso', 'tools/build'), ['metadata_read']);
      assert.deepEqual(await allowed(principal, 'contoso', 'tools/other'), []);
      assert.deepEqual(await allowed(principal, 'contoso', undefined), []);
      assert.deepEqual(await allowed(principal, 'fabrikam', 'samples/app'), []);
    });

    it('grant the system scope maps', async () => {
      const expected: Record<string, Action[]> = {
        _repositories_admin: ['pull', 'push', 'delete', 'metadata_read', 'metadata_write'],
        _repositories_pull: ['pull'],
        _repositories_pull_metadata_read: ['pull', 'metadata_read'],
        _repositories_push: ['pull', 'push'],
        _repositories_push_metadata_write: ['pull', 'push', 'metadata_read', 'metadata_write'],
      };
      for (const [scopeMapName, actions] of Object.entries(expected)) {
        const principal = await token(`t${scopeMapName}`.slice(0, 50), { scopeMapName });
        assert.deepEqual(await allowed(principal, 'contoso', 'any/repo'), actions, scopeMapName);
      }
    });

    it('with inline repository actions', async () => {
      const principal = await token('inline-token', { actions: ['repositories/app/content/delete'] });
      assert.deepEqual(await allowed(principal, 'contoso', 'app'), ['delete']);
    });

    it('grant nothing while disabled, once expired, or when deleted', async () => {
      const principal = await token('lifecycle', { scopeMapName: '_repositories_pull', expiry: new Date(auth.clock.now + 3_600_000).toISOString() });
      assert.deepEqual(await allowed(principal, 'contoso', 'app'), ['pull']);
      await auth.identity.updateToken('contoso', 'lifecycle', { status: 'disabled' });
      assert.deepEqual(await allowed(principal, 'contoso', 'app'), []);
      await auth.identity.updateToken('contoso', 'lifecycle', { status: 'enabled' });
      assert.deepEqual(await allowed(principal, 'contoso', 'app'), ['pull']);
      auth.clock.advance(3601);
      assert.deepEqual(await allowed(principal, 'contoso', 'app'), []);
      await auth.identity.generateTokenPasswords('contoso', 'lifecycle', { password1: true });
      assert.deepEqual(await allowed(principal, 'contoso', 'app'), ['pull']);
      await auth.identity.deleteToken('contoso', 'lifecycle');
      assert.deepEqual(await allowed(principal, 'contoso', 'app'), []);
    });

    it('grant nothing without passwords', async () => {
      const principal = await token('no-passwords', { scopeMapName: '_repositories_pull', noPasswords: true });
      assert.deepEqual(await allowed(principal, 'contoso', 'app'), []);
    });

    it('follow a change of scope map at once', async () => {
      const principal = await token('rebound', { scopeMapName: '_repositories_pull' });
      await auth.identity.updateToken('contoso', 'rebound', { scopeMapName: '_repositories_push' });
      assert.deepEqual(await allowed(principal, 'contoso', 'app'), ['pull', 'push']);
      await auth.identity.createScopeMap('contoso', 'narrow-map', ['repositories/app/content/read']);
      await auth.identity.updateToken('contoso', 'rebound', { scopeMapName: 'narrow-map' });
      await auth.identity.updateScopeMap('contoso', 'narrow-map', { addActions: ['repositories/app/content/delete'] });
      assert.deepEqual(await allowed(principal, 'contoso', 'app'), ['pull', 'delete']);
      assert.deepEqual(await allowed(principal, 'contoso', 'other'), []);
    });
  });

  it('applies removed assignments and deleted principals to the next decision', async () => {
    const user = await auth.identity.createUser('short-lived', 'a long password');
    const principal: Principal = { kind: 'user', id: user.principalId, name: 'short-lived', owner: false };
    const assignment = await auth.identity.createRoleAssignment('short-lived', 'AcrPush', '/registries/contoso');
    assert.equal(await auth.authorizer.authorize(principal, 'contoso', 'app', 'push'), true);
    await auth.identity.deleteRoleAssignment(assignment.id);
    assert.equal(await auth.authorizer.authorize(principal, 'contoso', 'app', 'push'), false);
    await auth.identity.createRoleAssignment('short-lived', 'AcrPush', '/');
    assert.equal(await auth.authorizer.authorize(principal, 'contoso', 'app', 'push'), true);
    await auth.identity.deleteUser('short-lived');
    assert.equal(await auth.authorizer.authorize(principal, 'contoso', 'app', 'push'), false);
  });

  it('forgets assignments within a deleted registry', async () => {
    await auth.meta.createRegistry('transient');
    const user = await auth.identity.createUser('transient-user', 'a long password');
    await auth.identity.createRoleAssignment('transient-user', 'Owner', '/registries/transient');
    await auth.meta.deleteRegistry('transient');
    await auth.meta.createRegistry('transient');
    const principal: Principal = { kind: 'user', id: user.principalId, name: 'transient-user', owner: false };
    assert.equal(await auth.authorizer.authorize(principal, 'transient', 'app', 'pull'), false);
    assert.deepEqual(await auth.identity.listRoleAssignments({ assignee: 'transient-user' }), []);
  });

  it('narrows requested token actions to those granted', async () => {
    const user = await auth.identity.createUser('narrowed', 'a long password');
    await auth.identity.createRoleAssignment('narrowed', 'AcrPush', '/registries/contoso/repositories/app');
    const principal: Principal = { kind: 'user', id: user.principalId, name: 'narrowed', owner: false };
    assert.deepEqual(await auth.authorizer.grantedActions(principal, 'contoso', 'app', ['pull', 'push', 'delete']), ['pull', 'push']);
    assert.deepEqual(await auth.authorizer.grantedActions(principal, 'contoso', 'app', ['*']), ['pull', 'push', 'metadata_read']);
    assert.deepEqual(await auth.authorizer.grantedActions(principal, 'contoso', 'app', ['bogus', 'manage_installation']), []);
    assert.deepEqual(await auth.authorizer.grantedActions(principal, 'contoso', 'other', ['pull']), []);
  });
});
