/**
 * Signing in with a user name and password, for every kind of principal, with throttling and
 * the cache of argon2 verifications, kept while in use.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { REFRESH_TOKEN_USERNAME } from '../../src/auth/principal.ts';
import { AuthError } from '../../src/auth/services.ts';
import { authFixture, throttle, type AuthFixture } from '../auth/auth-fixture.ts';

const service = 'contoso.localhost';

async function rejectsWith(promise: Promise<unknown>, reason: AuthError['reason']): Promise<AuthError> {
  let caught: AuthError | undefined;
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AuthError, String(error));
    assert.equal(error.reason, reason);
    caught = error;
    return true;
  });
  return caught!;
}

describe('authenticator', () => {
  let auth: AuthFixture;
  let address = 0;
  /** A fresh source address per test, so throttling in one test never affects another. */
  const context = () => ({ registry: 'contoso', address: `10.0.0.${++address}` });

  before(async () => {
    auth = await authFixture();
    await auth.meta.createRegistry('contoso');
    await auth.meta.createRegistry('fabrikam');
    await auth.identity.createUser('alice', 'alice password');
  });
  after(async () => auth.close());

  it('signs in users with their argon2-hashed password', async () => {
    const principal = await auth.authenticator.verifyPassword('alice', 'alice password', context());
    const alice = await auth.identity.getUser('alice');
    assert.deepEqual(principal, { kind: 'user', id: alice.principalId, name: 'alice', owner: false });
    await rejectsWith(auth.authenticator.verifyPassword('alice', 'wrong password', context()), 'invalid');
    await rejectsWith(auth.authenticator.verifyPassword('Alice', 'alice password', context()), 'invalid');
    await rejectsWith(auth.authenticator.verifyPassword('nobody', 'alice password', context()), 'invalid');
  });

  it('signs in the owner with the owner flag', async () => {
    const { generatedPassword } = await auth.identity.bootstrapOwner('owner', undefined);
    assert.ok(generatedPassword);
    const principal = await auth.authenticator.verifyPassword('owner', generatedPassword, context());
    assert.equal(principal.kind === 'user' && principal.owner, true);
  });

  it('signs in service principals by appId and secret', async () => {
    const sp = await auth.identity.createServicePrincipal('deployer');
    assert.ok(sp.password);
    const principal = await auth.authenticator.verifyPassword(sp.appId, sp.password, context());
    assert.deepEqual(principal, { kind: 'servicePrincipal', id: sp.principalId, name: 'deployer', appId: sp.appId });
    assert.deepEqual(await auth.authenticator.verifyPassword(sp.appId.toUpperCase(), sp.password, context()), principal);
    await rejectsWith(auth.authenticator.verifyPassword(sp.appId, `${sp.password}x`, context()), 'invalid');
    await auth.identity.deleteServicePrincipal(sp.appId);
    await rejectsWith(auth.authenticator.verifyPassword(sp.appId, sp.password, context()), 'invalid');
  });

  it('signs in the admin user of the registry, only while enabled, with either password', async () => {
    await auth.identity.updateRegistrySettings('contoso', { adminUserEnabled: true });
    const first = (await auth.identity.renewAdminPassword('contoso', 'password')).passwords.find((p) => p.name === 'password')?.value;
    const second = (await auth.identity.renewAdminPassword('contoso', 'password2')).passwords.find((p) => p.name === 'password2')?.value;
    assert.ok(first && second);
    assert.deepEqual(await auth.authenticator.verifyPassword('contoso', first, context()), { kind: 'admin', registry: 'contoso' });
    assert.deepEqual(await auth.authenticator.verifyPassword('contoso', second, context()), { kind: 'admin', registry: 'contoso' });
    // Only for its own registry.
    await rejectsWith(auth.authenticator.verifyPassword('contoso', first, { registry: 'fabrikam', address: '10.1.0.1' }), 'invalid');
    // A renewed password replaces the old one.
    await auth.identity.renewAdminPassword('contoso', 'password');
    await rejectsWith(auth.authenticator.verifyPassword('contoso', first, context()), 'invalid');
    await auth.identity.updateRegistrySettings('contoso', { adminUserEnabled: false });
    await rejectsWith(auth.authenticator.verifyPassword('contoso', second, context()), 'invalid');
  });

  it('signs in tokens of the registry with either password, unless disabled or expired', async () => {
    const expiry = new Date(auth.clock.now + 3_600_000).toISOString();
    const token = await auth.identity.createToken('contoso', 'ci-puller', { scopeMapName: '_repositories_pull', expiry });
    const [password1, password2] = token.credentials.passwords.map((p) => p.value);
    assert.ok(password1 && password2);
    const record = await auth.meta.getToken('contoso', 'ci-puller');
    const expected = { kind: 'token', id: record?.id, registry: 'contoso', name: 'ci-puller' };
    assert.deepEqual(await auth.authenticator.verifyPassword('ci-puller', password1, context()), expected);
    assert.deepEqual(await auth.authenticator.verifyPassword('ci-puller', password2, context()), expected);
    await rejectsWith(auth.authenticator.verifyPassword('ci-puller', password1, { registry: 'fabrikam', address: '10.1.0.2' }), 'invalid');

    await auth.identity.updateToken('contoso', 'ci-puller', { status: 'disabled' });
    await rejectsWith(auth.authenticator.verifyPassword('ci-puller', password1, context()), 'disabled');
    await rejectsWith(auth.authenticator.verifyPassword('ci-puller', 'wrong', context()), 'invalid');
    await auth.identity.updateToken('contoso', 'ci-puller', { status: 'enabled' });

    const regenerated = await auth.identity.generateTokenPasswords('contoso', 'ci-puller', { password1: true });
    const renewed = regenerated.credentials.passwords.find((p) => p.name === 'password1')?.value;
    assert.ok(renewed);
    assert.equal(regenerated.credentials.passwords.find((p) => p.name === 'password2')?.value, undefined);
    await rejectsWith(auth.authenticator.verifyPassword('ci-puller', password1, context()), 'invalid');
    assert.deepEqual(await auth.authenticator.verifyPassword('ci-puller', renewed, context()), expected);

    auth.clock.advance(3601);
    await rejectsWith(auth.authenticator.verifyPassword('ci-puller', password2, context()), 'expired');
    assert.deepEqual(await auth.authenticator.verifyPassword('ci-puller', renewed, context()), expected, 'the renewed password never expires');
  });

  it('accepts a refresh token as the password of the null GUID, for its registry only', async () => {
    const alice = await auth.authenticator.verifyPassword('alice', 'alice password', context());
    const { token } = await auth.tokens.issueRefreshToken(alice, 'contoso', service);
    assert.deepEqual(await auth.authenticator.verifyPassword(REFRESH_TOKEN_USERNAME, token, context()), alice);
    await rejectsWith(auth.authenticator.verifyPassword(REFRESH_TOKEN_USERNAME, token, { registry: 'fabrikam', address: '10.1.0.3' }), 'invalid');
    await rejectsWith(auth.authenticator.verifyPassword(REFRESH_TOKEN_USERNAME, 'not a token', context()), 'invalid');
    const access = await auth.tokens.issueAccessToken(alice, 'contoso', service, []);
    await rejectsWith(auth.authenticator.verifyPassword(REFRESH_TOKEN_USERNAME, access.token, context()), 'invalid');
    await auth.tokens.revokeRefreshToken(token);
    await rejectsWith(auth.authenticator.verifyPassword(REFRESH_TOKEN_USERNAME, token, context()), 'invalid');
  });

  it('refuses malformed and enormous credentials', async () => {
    for (const [username, password] of [
      ['', 'alice password'],
      ['alice', ''],
      ['x'.repeat(10_000), 'p'],
      ['alice', 'p'.repeat(100_000)],
      ['alice\u0000', 'alice password'],
    ] as const) {
      await rejectsWith(auth.authenticator.verifyPassword(username, password, context()), 'invalid');
    }
  });

  it('throttles repeated failures per address and user name, then lets the pair try again', async () => {
    const pair = { registry: 'contoso', address: '192.0.2.1' };
    for (let i = 0; i < throttle.maxFailures; i++) {
      await rejectsWith(auth.authenticator.verifyPassword('alice', `guess ${i}`, pair), 'invalid');
    }
    const locked = await rejectsWith(auth.authenticator.verifyPassword('alice', 'alice password', pair), 'throttled');
    assert.equal(locked.retryAfter, throttle.lockoutSeconds);
    // Another address, or another user name from the same address, is not locked out.
    await auth.authenticator.verifyPassword('alice', 'alice password', { registry: 'contoso', address: '192.0.2.2' });
    await rejectsWith(auth.authenticator.verifyPassword('bob', 'bob password', pair), 'invalid');
    auth.clock.advance(throttle.lockoutSeconds);
    await auth.authenticator.verifyPassword('alice', 'alice password', pair);
  });

  it('throttles guesses of refresh tokens and token passwords too', async () => {
    const pair = { registry: 'contoso', address: '192.0.2.9' };
    for (let i = 0; i < throttle.maxFailures; i++) {
      await rejectsWith(auth.authenticator.verifyPassword(REFRESH_TOKEN_USERNAME, `guess.${i}.x`, pair), 'invalid');
    }
    await rejectsWith(auth.authenticator.verifyPassword(REFRESH_TOKEN_USERNAME, 'x', pair), 'throttled');
  });

  it('remembers a verified user password briefly, but never past a reset or deletion', async () => {
    await auth.identity.createUser('cached', 'first password');
    const started = performance.now();
    await auth.authenticator.verifyPassword('cached', 'first password', context());
    const firstMs = performance.now() - started;
    const again = performance.now();
    for (let i = 0; i < 20; i++) await auth.authenticator.verifyPassword('cached', 'first password', context());
    const cachedMs = (performance.now() - again) / 20;
    assert.ok(cachedMs < firstMs, `a cached verification (${cachedMs} ms) is faster than argon2 (${firstMs} ms)`);

    await auth.identity.resetUserPassword('cached', 'second password');
    await rejectsWith(auth.authenticator.verifyPassword('cached', 'first password', context()), 'invalid');
    await auth.authenticator.verifyPassword('cached', 'second password', context());
    await auth.identity.deleteUser('cached');
    await rejectsWith(auth.authenticator.verifyPassword('cached', 'second password', context()), 'invalid');
  });

  it('keeps a remembered password while it is used, and forgets it once unused for the cache time', async () => {
    await auth.identity.createUser('regular', 'regular password');
    const timed = async () => {
      const started = performance.now();
      await auth.authenticator.verifyPassword('regular', 'regular password', context());
      return performance.now() - started;
    };
    const verifiedMs = await timed();
    const remembered: number[] = [];
    for (let i = 0; i < 5; i++) {
      auth.clock.advance(50);
      remembered.push(await timed());
    }
    const slowest = Math.max(...remembered);
    assert.ok(slowest < verifiedMs / 2, `signed in every 50 s for 250 s without argon2 (slowest ${slowest} ms, argon2 ${verifiedMs} ms)`);
    auth.clock.advance(61);
    const forgottenMs = await timed();
    assert.ok(forgottenMs > slowest * 2, `unused for 61 s it is verified again (${forgottenMs} ms, remembered ${slowest} ms)`);
  });

  it('verifies access tokens it issued', async () => {
    const alice = await auth.authenticator.verifyPassword('alice', 'alice password', context());
    const { token } = await auth.tokens.issueAccessToken(alice, 'contoso', service, []);
    assert.deepEqual((await auth.authenticator.verifyAccessToken(token, service)).principal, alice);
  });
});
