/**
 * The identity part of the `MetaStore` contract (users, service principals, role assignments,
 * admin passwords, scope maps, tokens, refresh tokens, signing keys), run inside
 * `metaStoreContract` on every database: registries `contoso` and `fabrikam` exist.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { AlreadyExistsError, PrincipalNotFoundError, type NewToken } from '../../src/meta/identity-store.ts';
import { RegistryNotFoundError, type MetaStore } from '../../src/meta/meta-store.ts';

const isoTime = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

function newToken(registry: string, name: string, overrides: Partial<NewToken> = {}): NewToken {
  return {
    id: randomUUID(),
    registry,
    name,
    scopeMap: '_repositories_pull',
    status: 'enabled',
    password1: { hash: `hash-1-${name}`, createdAt: '2026-01-01T00:00:00.000Z', expiresAt: null },
    password2: { hash: `hash-2-${name}`, createdAt: '2026-01-01T00:00:00.000Z', expiresAt: '2027-01-01T00:00:00.000Z' },
    ...overrides,
  };
}

export function identityStoreContract(current: () => MetaStore, reopen: () => Promise<MetaStore>): void {
  async function user(store: MetaStore, username: string, owner = false) {
    return await store.createUser({ principalId: randomUUID(), username, passwordHash: `argon-${username}`, owner });
  }

  async function servicePrincipal(store: MetaStore, displayName: string) {
    return await store.createServicePrincipal({ principalId: randomUUID(), appId: randomUUID(), displayName, secretHash: `hmac-${displayName}` });
  }

  describe('identity: registry settings', () => {
    it('are stored with the registry, defaulting to Standard', async () => {
      const store = current();
      const created = await store.createRegistry('premiumregistry', { sku: 'Premium', adminUserEnabled: true, resourceGroup: 'rg', location: 'westeurope' });
      assert.deepEqual(
        { ...created, createdAt: 'x' },
        {
          name: 'premiumregistry',
          createdAt: 'x',
          sku: 'Premium',
          adminUserEnabled: true,
          anonymousPullEnabled: false,
          resourceGroup: 'rg',
          location: 'westeurope',
          quotaBytes: 500 * 1024 ** 3,
          webhookLimit: 500,
        },
      );
      assert.deepEqual(await store.getRegistry('premiumregistry'), created);
      const standard = await store.getRegistry('contoso');
      assert.equal(standard?.sku, 'Standard');
      assert.equal(standard?.quotaBytes, 100 * 1024 ** 3);
      assert.equal(standard?.webhookLimit, 10);
      assert.equal(standard?.adminUserEnabled, false);
      assert.equal(standard?.anonymousPullEnabled, false);
    });

    it('change, a SKU bringing its limits', async () => {
      const store = current();
      const updated = await store.updateRegistry('contoso', { sku: 'Basic', anonymousPullEnabled: true, location: 'here' });
      assert.equal(updated?.sku, 'Basic');
      assert.equal(updated?.quotaBytes, 10 * 1024 ** 3);
      assert.equal(updated?.webhookLimit, 2);
      assert.equal(updated?.anonymousPullEnabled, true);
      assert.equal(updated?.location, 'here');
      assert.deepEqual(await store.getRegistry('contoso'), updated);
      assert.deepEqual(await store.updateRegistry('contoso', {}), updated);
      assert.equal(await store.updateRegistry('nosuchregistry', { sku: 'Basic' }), undefined);
      assert.deepEqual((await store.listRegistries()).find((r) => r.name === 'contoso'), updated);
    });
  });

  describe('identity: users and service principals', () => {
    it('stores users by unique name, with an owner flag', async () => {
      const store = current();
      assert.equal(await store.hasOwner(), false);
      const owner = await user(store, 'owner', true);
      const alice = await user(store, 'alice');
      assert.match(alice.createdAt, isoTime);
      assert.equal(await store.hasOwner(), true);
      assert.deepEqual(await store.getUser('alice'), alice);
      assert.deepEqual(await store.getUserById(owner.principalId), owner);
      assert.equal(await store.getUser('ALICE'), undefined);
      assert.deepEqual((await store.listUsers()).map((u) => u.username), ['alice', 'owner']);
      await assert.rejects(user(store, 'alice'), AlreadyExistsError);
      assert.equal((await store.listUsers()).length, 2, 'a refused user leaves nothing behind');
    });

    it('sets passwords and deletes principals', async () => {
      const store = current();
      const alice = await user(store, 'alice');
      assert.equal(await store.setUserPassword(alice.principalId, 'new-hash'), true);
      assert.equal((await store.getUser('alice'))?.passwordHash, 'new-hash');
      assert.equal(await store.setUserPassword(randomUUID(), 'x'), false);
      assert.equal(await store.deletePrincipal(alice.principalId), true);
      assert.equal(await store.getUser('alice'), undefined);
      assert.equal(await store.deletePrincipal(alice.principalId), false);
    });

    it('stores service principals by appId, with unique display names', async () => {
      const store = current();
      const sp = await servicePrincipal(store, 'ci');
      assert.deepEqual(await store.getServicePrincipal(sp.appId), sp);
      assert.deepEqual(await store.getServicePrincipalById(sp.principalId), sp);
      assert.equal(await store.getServicePrincipal(sp.principalId), undefined);
      await assert.rejects(servicePrincipal(store, 'ci'), AlreadyExistsError);
      await servicePrincipal(store, 'build');
      assert.deepEqual((await store.listServicePrincipals()).map((s) => s.displayName), ['build', 'ci']);
      assert.equal(await store.deletePrincipal(sp.principalId), true);
      assert.equal(await store.getServicePrincipal(sp.appId), undefined);
    });
  });

  describe('identity: role assignments', () => {
    it('are created, read, listed by filter and deleted', async () => {
      const store = current();
      const alice = await user(store, 'alice');
      const sp = await servicePrincipal(store, 'ci');
      const one = await store.createRoleAssignment({ id: randomUUID(), principalId: alice.principalId, role: 'AcrPull', scope: '/registries/contoso', registry: 'contoso' });
      const two = await store.createRoleAssignment({ id: randomUUID(), principalId: sp.principalId, role: 'Owner', scope: '/', registry: null });
      const three = await store.createRoleAssignment({
        id: randomUUID(),
        principalId: alice.principalId,
        role: 'AcrPush',
        scope: '/registries/fabrikam/repositories/samples/*',
        registry: 'fabrikam',
      });
      assert.equal(one.principalName, 'alice');
      assert.equal(one.principalType, 'user');
      assert.equal(two.principalName, 'ci');
      assert.equal(two.principalType, 'servicePrincipal');
      assert.deepEqual(await store.getRoleAssignment(one.id), one);
      assert.equal(await store.getRoleAssignment(randomUUID()), undefined);
      assert.deepEqual((await store.listRoleAssignments({})).map((a) => a.id).sort(), [one.id, two.id, three.id].sort());
      assert.deepEqual((await store.listRoleAssignments({ principalId: alice.principalId })).map((a) => a.id).sort(), [one.id, three.id].sort());
      assert.deepEqual((await store.listRoleAssignments({ scope: '/' })).map((a) => a.id), [two.id]);
      assert.deepEqual((await store.listRoleAssignments({ role: 'AcrPush', principalId: alice.principalId })).map((a) => a.id), [three.id]);
      assert.equal(await store.deleteRoleAssignment(one.id), true);
      assert.equal(await store.deleteRoleAssignment(one.id), false);
    });

    it('refuse duplicates, unknown principals and unknown registries', async () => {
      const store = current();
      const alice = await user(store, 'alice');
      const assignment = { principalId: alice.principalId, role: 'AcrPull', scope: '/registries/contoso', registry: 'contoso' };
      await store.createRoleAssignment({ id: randomUUID(), ...assignment });
      await assert.rejects(store.createRoleAssignment({ id: randomUUID(), ...assignment }), AlreadyExistsError);
      await assert.rejects(store.createRoleAssignment({ id: randomUUID(), ...assignment, principalId: randomUUID() }), PrincipalNotFoundError);
      await assert.rejects(
        store.createRoleAssignment({ id: randomUUID(), ...assignment, scope: '/registries/nosuchregistry', registry: 'nosuchregistry' }),
        RegistryNotFoundError,
      );
    });

    it('give the grants that matter in a registry, read fresh', async () => {
      const store = current();
      const owner = await user(store, 'owner', true);
      const alice = await user(store, 'alice');
      assert.deepEqual(await store.getPrincipalGrants(owner.principalId, 'contoso'), { kind: 'user', owner: true, assignments: [] });
      assert.deepEqual(await store.getPrincipalGrants(alice.principalId, 'contoso'), { kind: 'user', owner: false, assignments: [] });
      await store.createRoleAssignment({ id: randomUUID(), principalId: alice.principalId, role: 'Reader', scope: '/', registry: null });
      await store.createRoleAssignment({ id: randomUUID(), principalId: alice.principalId, role: 'AcrPush', scope: '/registries/contoso', registry: 'contoso' });
      await store.createRoleAssignment({
        id: randomUUID(),
        principalId: alice.principalId,
        role: 'AcrDelete',
        scope: '/registries/fabrikam/repositories/a',
        registry: 'fabrikam',
      });
      const sortedAssignments = async (registry: string | undefined) =>
        (await store.getPrincipalGrants(alice.principalId, registry))?.assignments.map((a) => `${a.role} ${a.scope}`).sort();
      assert.deepEqual(await sortedAssignments('contoso'), ['AcrPush /registries/contoso', 'Reader /']);
      assert.deepEqual(await sortedAssignments('fabrikam'), ['AcrDelete /registries/fabrikam/repositories/a', 'Reader /']);
      assert.deepEqual(await sortedAssignments(undefined), ['Reader /']);
      const sp = await servicePrincipal(store, 'ci');
      assert.deepEqual(await store.getPrincipalGrants(sp.principalId, 'contoso'), { kind: 'servicePrincipal', owner: false, assignments: [] });
      assert.equal(await store.getPrincipalGrants(randomUUID(), 'contoso'), undefined);
    });

    it('go with their principal and with their registry', async () => {
      const store = current();
      const alice = await user(store, 'alice');
      const sp = await servicePrincipal(store, 'ci');
      await store.createRoleAssignment({ id: randomUUID(), principalId: alice.principalId, role: 'Reader', scope: '/registries/fabrikam', registry: 'fabrikam' });
      const kept = await store.createRoleAssignment({ id: randomUUID(), principalId: alice.principalId, role: 'Reader', scope: '/', registry: null });
      await store.createRoleAssignment({ id: randomUUID(), principalId: sp.principalId, role: 'Reader', scope: '/', registry: null });
      await store.deleteRegistry('fabrikam');
      await store.deletePrincipal(sp.principalId);
      assert.deepEqual((await store.listRoleAssignments({})).map((a) => a.id), [kept.id]);
    });
  });

  describe('identity: admin user passwords', () => {
    it('are set per slot, null until then', async () => {
      const store = current();
      assert.deepEqual(await store.getAdminCredential('contoso'), { enabled: false, password: null, password2: null });
      const slot = await store.setAdminPassword('contoso', 'password2', 'hash-2');
      assert.equal(slot?.hash, 'hash-2');
      assert.match(slot?.createdAt ?? '', isoTime);
      await store.updateRegistry('contoso', { adminUserEnabled: true });
      assert.deepEqual(await store.getAdminCredential('contoso'), { enabled: true, password: null, password2: slot });
      assert.equal(await store.setAdminPassword('nosuchregistry', 'password', 'x'), undefined);
      assert.equal(await store.getAdminCredential('nosuchregistry'), undefined);
      assert.equal((await store.getAdminCredential('fabrikam'))?.password2, null);
    });
  });

  describe('identity: scope maps', () => {
    it('are created, read, listed, updated and deleted per registry', async () => {
      const store = current();
      const created = await store.createScopeMap({ registry: 'contoso', name: 'readers', description: 'd', actions: ['repositories/a/content/read'] });
      assert.match(created.createdAt, isoTime);
      assert.deepEqual(await store.getScopeMap('contoso', 'readers'), created);
      assert.equal(await store.getScopeMap('fabrikam', 'readers'), undefined);
      await store.createScopeMap({ registry: 'contoso', name: 'A-first', description: '', actions: ['repositories/*/content/read'] });
      assert.deepEqual((await store.listScopeMaps('contoso')).map((m) => m.name), ['A-first', 'readers']);
      await assert.rejects(store.createScopeMap({ ...created }), AlreadyExistsError);
      await assert.rejects(store.createScopeMap({ ...created, registry: 'nosuchregistry' }), RegistryNotFoundError);

      const updated = await store.updateScopeMap('contoso', 'readers', { actions: ['repositories/b/content/read', 'repositories/b/metadata/read'] });
      assert.deepEqual(updated?.actions, ['repositories/b/content/read', 'repositories/b/metadata/read']);
      assert.equal(updated?.description, 'd');
      assert.equal((await store.updateScopeMap('contoso', 'readers', { description: 'new' }))?.description, 'new');
      assert.equal(await store.updateScopeMap('contoso', 'missing', { description: 'x' }), undefined);

      assert.equal(await store.deleteScopeMap('contoso', 'readers'), 'deleted');
      assert.equal(await store.deleteScopeMap('contoso', 'readers'), 'not-found');
    });

    it('are refused deletion while a token uses them', async () => {
      const store = current();
      await store.createScopeMap({ registry: 'contoso', name: 'used', description: '', actions: ['repositories/a/content/read'] });
      await store.createToken(newToken('contoso', 'user-of-used', { scopeMap: 'used' }));
      assert.equal(await store.deleteScopeMap('contoso', 'used'), 'in-use');
      await store.deleteToken('contoso', 'user-of-used');
      assert.equal(await store.deleteScopeMap('contoso', 'used'), 'deleted');
    });
  });

  describe('identity: tokens', () => {
    it('are created, read, listed, updated and deleted per registry', async () => {
      const store = current();
      const token = newToken('contoso', 'ci-token');
      const created = await store.createToken(token);
      assert.deepEqual({ ...created, createdAt: 'x' }, { ...token, createdAt: 'x' });
      assert.deepEqual(await store.getToken('contoso', 'ci-token'), created);
      assert.deepEqual(await store.getTokenById(token.id), created);
      assert.equal(await store.getToken('fabrikam', 'ci-token'), undefined);
      await store.createToken(newToken('fabrikam', 'ci-token'));
      await store.createToken(newToken('contoso', 'another'));
      assert.deepEqual((await store.listTokens('contoso')).map((t) => t.name), ['another', 'ci-token']);
      await assert.rejects(store.createToken(newToken('contoso', 'ci-token')), AlreadyExistsError);
      await assert.rejects(store.createToken(newToken('nosuchregistry', 'x')), RegistryNotFoundError);

      const updated = await store.updateToken('contoso', 'ci-token', { status: 'disabled', scopeMap: '_repositories_push' });
      assert.equal(updated?.status, 'disabled');
      assert.equal(updated?.scopeMap, '_repositories_push');
      assert.equal(await store.updateToken('contoso', 'missing', { status: 'disabled' }), undefined);

      const slot = { hash: 'new-hash', createdAt: '2026-02-01T00:00:00.000Z', expiresAt: null };
      const regenerated = await store.setTokenPasswords('contoso', 'ci-token', { password1: slot, password2: null });
      assert.deepEqual(regenerated?.password1, slot);
      assert.equal(regenerated?.password2, null);
      assert.equal(await store.setTokenPasswords('contoso', 'missing', { password1: slot }), undefined);

      assert.equal(await store.deleteToken('contoso', 'ci-token'), true);
      assert.equal(await store.deleteToken('contoso', 'ci-token'), false);
      assert.ok(await store.getToken('fabrikam', 'ci-token'));
    });

    it('can be created with their scope map in one transaction', async () => {
      const store = current();
      const map = { registry: 'contoso', name: 'inline-scope-map', description: '', actions: ['repositories/a/content/read'] };
      await store.createToken(newToken('contoso', 'inline', { scopeMap: 'inline-scope-map' }), map);
      assert.ok(await store.getScopeMap('contoso', 'inline-scope-map'));
      const clash = { ...map, name: 'clash-scope-map' };
      await assert.rejects(store.createToken(newToken('contoso', 'inline', { scopeMap: 'clash-scope-map' }), clash), AlreadyExistsError);
      assert.equal(await store.getScopeMap('contoso', 'clash-scope-map'), undefined, 'the scope map is rolled back with the token');
    });
  });

  describe('identity: refresh tokens', () => {
    it('are stored by id hash for every kind of holder, and revoked', async () => {
      const store = current();
      const alice = await user(store, 'alice');
      const token = await store.createToken(newToken('contoso', 'ci-token'));
      const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
      await store.createRefreshToken({ idHash: 'h-user', registry: 'contoso', holder: { kind: 'user', principalId: alice.principalId }, expiresAt });
      await store.createRefreshToken({ idHash: 'h-token', registry: 'contoso', holder: { kind: 'token', tokenId: token.id }, expiresAt });
      await store.createRefreshToken({ idHash: 'h-admin', registry: 'contoso', holder: { kind: 'admin' }, expiresAt });
      const stored = await store.getRefreshToken('h-user');
      assert.deepEqual({ ...stored, createdAt: 'x' }, {
        idHash: 'h-user',
        registry: 'contoso',
        holder: { kind: 'user', principalId: alice.principalId },
        expiresAt,
        createdAt: 'x',
        revoked: false,
      });
      assert.deepEqual((await store.getRefreshToken('h-token'))?.holder, { kind: 'token', tokenId: token.id });
      assert.deepEqual((await store.getRefreshToken('h-admin'))?.holder, { kind: 'admin' });
      assert.equal(await store.getRefreshToken('h-none'), undefined);
      assert.equal(await store.revokeRefreshToken('h-user'), true);
      assert.equal((await store.getRefreshToken('h-user'))?.revoked, true);
      assert.equal(await store.revokeRefreshToken('h-none'), false);
      await assert.rejects(
        store.createRefreshToken({ idHash: 'h-x', registry: 'nosuchregistry', holder: { kind: 'admin' }, expiresAt }),
        RegistryNotFoundError,
      );
    });

    it('are revoked by a change of the credential they were issued on', async () => {
      const store = current();
      const alice = await user(store, 'alice');
      await store.createToken(newToken('contoso', 'ci-token'));
      const token = await store.getToken('contoso', 'ci-token');
      const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
      await store.createRefreshToken({ idHash: 'user', registry: 'contoso', holder: { kind: 'user', principalId: alice.principalId }, expiresAt });
      await store.createRefreshToken({ idHash: 'token', registry: 'contoso', holder: { kind: 'token', tokenId: token!.id }, expiresAt });
      await store.createRefreshToken({ idHash: 'admin', registry: 'contoso', holder: { kind: 'admin' }, expiresAt });
      await store.createRefreshToken({ idHash: 'other-admin', registry: 'fabrikam', holder: { kind: 'admin' }, expiresAt });
      await store.setUserPassword(alice.principalId, 'new');
      await store.setTokenPasswords('contoso', 'ci-token', { password2: null });
      await store.setAdminPassword('contoso', 'password', 'new');
      for (const id of ['user', 'token', 'admin']) assert.equal((await store.getRefreshToken(id))?.revoked, true, id);
      assert.equal((await store.getRefreshToken('other-admin'))?.revoked, false);
    });

    it('go with their principal, token or registry, and once expired', async () => {
      const store = current();
      const alice = await user(store, 'alice');
      await store.createToken(newToken('contoso', 'ci-token'));
      const token = await store.getToken('contoso', 'ci-token');
      const later = new Date(Date.now() + 3_600_000).toISOString();
      const earlier = new Date(Date.now() - 1_000).toISOString();
      await store.createRefreshToken({ idHash: 'user', registry: 'contoso', holder: { kind: 'user', principalId: alice.principalId }, expiresAt: later });
      await store.createRefreshToken({ idHash: 'token', registry: 'contoso', holder: { kind: 'token', tokenId: token!.id }, expiresAt: later });
      await store.createRefreshToken({ idHash: 'fabrikam', registry: 'fabrikam', holder: { kind: 'admin' }, expiresAt: later });
      await store.createRefreshToken({ idHash: 'expired', registry: 'contoso', holder: { kind: 'admin' }, expiresAt: earlier });
      await store.createRefreshToken({ idHash: 'kept', registry: 'contoso', holder: { kind: 'admin' }, expiresAt: later });
      await store.deletePrincipal(alice.principalId);
      await store.deleteToken('contoso', 'ci-token');
      await store.deleteRegistry('fabrikam');
      assert.equal(await store.deleteExpiredRefreshTokens(new Date().toISOString()), 1);
      for (const id of ['user', 'token', 'fabrikam', 'expired']) assert.equal(await store.getRefreshToken(id), undefined, id);
      assert.ok(await store.getRefreshToken('kept'));
    });
  });

  describe('identity: signing keys', () => {
    it('keep one signing key, even when processes race to create the first', async () => {
      const store = current();
      assert.deepEqual(await store.listSigningKeys(), []);
      const results = await Promise.all(
        ['k1', 'k2', 'k3'].map((kid) => store.createFirstSigningKey({ kid, privateKey: `sealed-${kid}`, publicJwk: `{"kid":"${kid}"}` })),
      );
      const winner = results[0]!;
      assert.ok(results.every((result) => result.kid === winner.kid));
      assert.equal(winner.retiredAt, null);
      assert.equal(winner.privateKey, `sealed-${winner.kid}`);
      assert.deepEqual(await store.listSigningKeys(), [winner]);
    });

    it('rotate: the new key signs, the old one keeps its grace, expired ones go', async () => {
      const store = current();
      await store.createFirstSigningKey({ kid: 'first', privateKey: 'p1', publicJwk: 'j1' });
      const t0 = Date.now();
      const at = (seconds: number) => new Date(t0 + seconds * 1000).toISOString();
      assert.deepEqual(await store.rotateSigningKey({ kid: 'second', privateKey: 'p2', publicJwk: 'j2' }, at(10), at(0)), { previousKid: 'first' });
      let keys = await store.listSigningKeys();
      assert.deepEqual(keys.map((k) => [k.kid, k.retiredAt !== null, k.graceUntil]), [
        ['second', false, null],
        ['first', true, at(10)],
      ]);
      await store.rotateSigningKey({ kid: 'third', privateKey: 'p3', publicJwk: 'j3' }, at(100), at(20));
      keys = await store.listSigningKeys();
      assert.deepEqual(keys.map((k) => k.kid), ['third', 'second'], 'the first key, past its grace, is gone');
      assert.equal((await store.createFirstSigningKey({ kid: 'late', privateKey: 'p', publicJwk: 'j' })).kid, 'third');
      const reopened = await reopen();
      assert.deepEqual((await reopened.listSigningKeys()).map((k) => k.kid), ['third', 'second']);
    });
  });
}
