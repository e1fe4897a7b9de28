/**
 * Access and refresh tokens: issue and verify, narrowing, expiry, tampering, audience, other
 * registries, revocation, and signing-key rotation with its grace period.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { accessAllows, formatAccessScope, parseAccessScope } from '../../src/auth/access-scope.ts';
import { AuthError } from '../../src/auth/services.ts';
import type { Principal } from '../../src/auth/principal.ts';
import { authFixture, type AuthFixture } from '../auth/auth-fixture.ts';

const service = 'contoso.localhost:5000';

async function rejectsWith(promise: Promise<unknown>, reason: AuthError['reason']): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AuthError, String(error));
    assert.equal(error.reason, reason);
    return true;
  });
}

/** The token with one character of its `part` (0 header, 1 payload, 2 signature) changed. */
function tamper(token: string, part: number): string {
  const parts = token.split('.');
  const text = parts[part]!;
  const index = Math.floor(text.length / 2);
  parts[part] = text.slice(0, index) + (text[index] === 'A' ? 'B' : 'A') + text.slice(index + 1);
  return parts.join('.');
}

describe('tokens', () => {
  let auth: AuthFixture;
  let pusher: Principal;

  beforeEach(async () => {
    auth = await authFixture();
    await auth.meta.createRegistry('contoso');
    await auth.meta.createRegistry('fabrikam');
    const user = await auth.identity.createUser('pusher', 'a long password');
    await auth.identity.createRoleAssignment('pusher', 'AcrPush', '/registries/contoso');
    await auth.identity.createRoleAssignment('pusher', 'Reader', '/registries/fabrikam');
    pusher = { kind: 'user', id: user.principalId, name: 'pusher', owner: false };
  });

  afterEach(async () => auth.close());

  describe('access tokens', () => {
    it('carry the claims of the contract, with access narrowed to what is granted', async () => {
      const issued = await auth.tokens.issueAccessToken(pusher, 'contoso', service, [
        { type: 'repository', name: 'app', actions: ['pull', 'push', 'delete'] },
        { type: 'repository', name: 'other', actions: ['pull'] },
        { type: 'registry', name: 'catalog', actions: ['*'] },
      ]);
      assert.equal(issued.expiresIn, 300);
      assert.equal(issued.issuedAt, new Date(Math.floor(auth.clock.now / 1000) * 1000).toISOString());
      assert.deepEqual(issued.access, [
        { type: 'repository', name: 'app', actions: ['pull', 'push'] },
        { type: 'repository', name: 'other', actions: ['pull'] },
      ]);
      const header = decodeProtectedHeader(issued.token);
      assert.equal(header.alg, 'ES256');
      assert.ok(header.kid);
      const claims = decodeJwt(issued.token);
      assert.equal(claims.iss, 'berth');
      assert.equal(claims.aud, service);
      assert.equal(claims.sub, 'pusher');
      assert.equal(claims.exp, (claims.iat ?? 0) + 300);
      assert.equal(claims.nbf, claims.iat);
      assert.equal(typeof claims.jti, 'string');
      assert.deepEqual(claims.access, issued.access);

      const verified = await auth.authenticator.verifyAccessToken(issued.token, service);
      assert.deepEqual(verified.principal, pusher);
      assert.deepEqual(verified.access, issued.access);
    });

    it('grant the catalog only to whom it is allowed', async () => {
      const catalog = [{ type: 'registry' as const, name: 'catalog', actions: ['*'] }];
      assert.deepEqual((await auth.tokens.issueAccessToken(pusher, 'contoso', service, catalog)).access, []);
      assert.deepEqual((await auth.tokens.issueAccessToken(pusher, 'fabrikam', 'fabrikam.localhost:5000', catalog)).access, catalog);
    });

    it('never grant more than requested (no escalation through the scope)', async () => {
      const issued = await auth.tokens.issueAccessToken(pusher, 'contoso', service, [
        { type: 'repository', name: 'app', actions: ['pull'] },
      ]);
      assert.deepEqual(issued.access, [{ type: 'repository', name: 'app', actions: ['pull'] }]);
      const escalated = await auth.tokens.issueAccessToken(pusher, 'contoso', service, [
        { type: 'repository', name: 'app', actions: ['pull', 'push', 'delete', 'metadata_write', 'manage_installation'] },
        { type: 'registry', name: 'catalog', actions: ['*'] },
        { type: 'registry', name: 'anything', actions: ['*'] },
      ]);
      assert.deepEqual(escalated.access, [{ type: 'repository', name: 'app', actions: ['pull', 'push'] }]);
    });

    it('expire after their lifetime', async () => {
      const { token } = await auth.tokens.issueAccessToken(pusher, 'contoso', service, []);
      await auth.tokens.verifyAccessToken(token, service);
      auth.clock.advance(299);
      await auth.tokens.verifyAccessToken(token, service);
      auth.clock.advance(2);
      await rejectsWith(auth.tokens.verifyAccessToken(token, service), 'expired');
      // Not cached: a fresh process refuses it too.
      const other = await auth.another();
      await rejectsWith(other.tokens.verifyAccessToken(token, service), 'expired');
    });

    it('refuse tampered tokens, whatever part was changed', async () => {
      const { token } = await auth.tokens.issueAccessToken(pusher, 'contoso', service, [
        { type: 'repository', name: 'app', actions: ['pull'] },
      ]);
      await auth.tokens.verifyAccessToken(token, service);
      for (const part of [0, 1, 2]) await rejectsWith(auth.tokens.verifyAccessToken(tamper(token, part), service), 'invalid');
      const [header, , signature] = token.split('.');
      const forgedPayload = Buffer.from(JSON.stringify({ ...decodeJwt(token), access: [{ type: 'repository', name: 'app', actions: ['delete'] }] })).toString('base64url');
      await rejectsWith(auth.tokens.verifyAccessToken(`${header}.${forgedPayload}.${signature}`, service), 'invalid');
      // The forgery shares the cached token's signature: it neither hit nor displaced that entry.
      assert.deepEqual((await auth.tokens.verifyAccessToken(token, service)).access, [{ type: 'repository', name: 'app', actions: ['pull'] }]);
      const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${token.split('.')[1]}.`;
      await rejectsWith(auth.tokens.verifyAccessToken(unsigned, service), 'invalid');
      for (const garbage of ['', 'a.b.c', 'not a token', 'x'.repeat(10_000)]) {
        await rejectsWith(auth.tokens.verifyAccessToken(garbage, service), 'invalid');
      }
    });

    it('refuse tokens for another service (registry), cached or not', async () => {
      const { token } = await auth.tokens.issueAccessToken(pusher, 'contoso', service, []);
      await rejectsWith(auth.tokens.verifyAccessToken(token, 'fabrikam.localhost:5000'), 'invalid');
      await auth.tokens.verifyAccessToken(token, service);
      await rejectsWith(auth.tokens.verifyAccessToken(token, 'fabrikam.localhost:5000'), 'invalid');
    });

    it('are not refresh tokens, and refresh tokens are not access tokens', async () => {
      const access = await auth.tokens.issueAccessToken(pusher, 'contoso', service, []);
      const refresh = await auth.tokens.issueRefreshToken(pusher, 'contoso', service);
      await rejectsWith(auth.tokens.verifyRefreshToken(access.token, service), 'invalid');
      await rejectsWith(auth.tokens.verifyAccessToken(refresh.token, service), 'invalid');
    });

    it('verify on another node of the same installation', async () => {
      const { token } = await auth.tokens.issueAccessToken(pusher, 'contoso', service, []);
      const other = await auth.another();
      assert.deepEqual((await other.tokens.verifyAccessToken(token, service)).principal, pusher);
    });
  });

  describe('refresh tokens', () => {
    it('last 3 hours and yield the principal as it is now', async () => {
      const { token, expiresIn } = await auth.tokens.issueRefreshToken(pusher, 'contoso', service);
      assert.equal(expiresIn, 10_800);
      const claims = decodeJwt(token);
      assert.equal(claims.typ, 'refresh');
      assert.equal(claims.aud, service);
      assert.deepEqual(await auth.tokens.verifyRefreshToken(token, service), pusher);
      auth.clock.advance(10_801);
      await rejectsWith(auth.tokens.verifyRefreshToken(token, service), 'expired');
    });

    it('are refused for another service', async () => {
      const { token } = await auth.tokens.issueRefreshToken(pusher, 'contoso', service);
      await rejectsWith(auth.tokens.verifyRefreshToken(token, 'fabrikam.localhost:5000'), 'invalid');
    });

    it('are refused when replayed after revocation', async () => {
      const { token } = await auth.tokens.issueRefreshToken(pusher, 'contoso', service);
      const kept = await auth.tokens.issueRefreshToken(pusher, 'contoso', service);
      assert.equal(await auth.tokens.revokeRefreshToken(token), true);
      await rejectsWith(auth.tokens.verifyRefreshToken(token, service), 'invalid');
      assert.deepEqual(await auth.tokens.verifyRefreshToken(kept.token, service), pusher);
      assert.equal(await auth.tokens.revokeRefreshToken('not a token'), false);
    });

    it('are revoked by a password reset and by deleting the principal', async () => {
      const before = await auth.tokens.issueRefreshToken(pusher, 'contoso', service);
      await auth.identity.resetUserPassword('pusher', 'another long password');
      await rejectsWith(auth.tokens.verifyRefreshToken(before.token, service), 'invalid');
      const after = await auth.tokens.issueRefreshToken(pusher, 'contoso', service);
      await auth.identity.deleteUser('pusher');
      await rejectsWith(auth.tokens.verifyRefreshToken(after.token, service), 'invalid');
    });

    it('of a token stop working when it is disabled, regenerated or deleted', async () => {
      await auth.identity.createToken('contoso', 'ci-token', { scopeMapName: '_repositories_pull' });
      const record = await auth.meta.getToken('contoso', 'ci-token');
      assert.ok(record);
      const principal: Principal = { kind: 'token', id: record.id, registry: 'contoso', name: 'ci-token' };
      const first = await auth.tokens.issueRefreshToken(principal, 'contoso', service);
      assert.deepEqual(await auth.tokens.verifyRefreshToken(first.token, service), principal);
      await auth.identity.updateToken('contoso', 'ci-token', { status: 'disabled' });
      await rejectsWith(auth.tokens.verifyRefreshToken(first.token, service), 'disabled');
      await auth.identity.updateToken('contoso', 'ci-token', { status: 'enabled' });
      await auth.identity.generateTokenPasswords('contoso', 'ci-token', { password2: true });
      await rejectsWith(auth.tokens.verifyRefreshToken(first.token, service), 'invalid');
      const second = await auth.tokens.issueRefreshToken(principal, 'contoso', service);
      await auth.identity.deleteToken('contoso', 'ci-token');
      await rejectsWith(auth.tokens.verifyRefreshToken(second.token, service), 'invalid');
    });

    it('of the admin user stop working when it is disabled or its password renewed', async () => {
      await auth.identity.updateRegistrySettings('contoso', { adminUserEnabled: true });
      const admin: Principal = { kind: 'admin', registry: 'contoso' };
      const first = await auth.tokens.issueRefreshToken(admin, 'contoso', service);
      assert.deepEqual(await auth.tokens.verifyRefreshToken(first.token, service), admin);
      await auth.identity.updateRegistrySettings('contoso', { adminUserEnabled: false });
      await rejectsWith(auth.tokens.verifyRefreshToken(first.token, service), 'disabled');
      await auth.identity.updateRegistrySettings('contoso', { adminUserEnabled: true });
      await auth.identity.renewAdminPassword('contoso', 'password');
      await rejectsWith(auth.tokens.verifyRefreshToken(first.token, service), 'invalid');
    });

    it('go with their registry', async () => {
      await auth.meta.createRegistry('transient');
      const { token } = await auth.tokens.issueRefreshToken(pusher, 'transient', 'transient.localhost');
      await auth.meta.deleteRegistry('transient');
      await auth.meta.createRegistry('transient');
      await rejectsWith(auth.tokens.verifyRefreshToken(token, 'transient.localhost'), 'invalid');
    });

    it('are not issued to anonymous callers', async () => {
      await rejectsWith(auth.tokens.issueRefreshToken({ kind: 'anonymous' }, 'contoso', service), 'invalid');
    });
  });

  describe('signing keys', () => {
    it('are created once and shared by every node', async () => {
      const keys = await auth.meta.listSigningKeys();
      assert.equal(keys.length, 1);
      assert.ok(!keys[0]!.privateKey.includes('"d"'), 'the private key is stored sealed');
      await auth.another();
      assert.equal((await auth.meta.listSigningKeys()).length, 1);
    });

    it('rotate: the previous key verifies during the grace period, and not after', async () => {
      const other = await auth.another();
      const before = await auth.tokens.issueAccessToken(pusher, 'contoso', service, []);
      const refresh = await auth.tokens.issueRefreshToken(pusher, 'contoso', service);
      const oldKid = decodeProtectedHeader(before.token).kid;
      const rotated = await auth.tokens.rotateSigningKey(600);
      assert.equal(rotated.previousKid, oldKid);
      assert.equal(rotated.graceSeconds, 600);
      assert.notEqual(rotated.kid, oldKid);

      const after = await auth.tokens.issueAccessToken(pusher, 'contoso', service, []);
      assert.equal(decodeProtectedHeader(after.token).kid, rotated.kid);
      await auth.tokens.verifyAccessToken(before.token, service);
      await auth.tokens.verifyRefreshToken(refresh.token, service);

      // Another node learns of the new key when it first sees a token signed with it.
      auth.clock.advance(2);
      await other.tokens.verifyAccessToken(after.token, service);
      await other.tokens.verifyAccessToken(before.token, service);

      auth.clock.advance(601);
      await rejectsWith(auth.tokens.verifyRefreshToken(refresh.token, service), 'invalid');
      const late = await auth.tokens.issueAccessToken(pusher, 'contoso', service, []);
      await auth.tokens.verifyAccessToken(late.token, service);
    });

    it('rotate without grace: tokens of the old key stop verifying at once, even cached', async () => {
      const before = await auth.tokens.issueAccessToken(pusher, 'contoso', service, []);
      await auth.tokens.verifyAccessToken(before.token, service);
      await auth.tokens.rotateSigningKey(0);
      auth.clock.advance(1);
      await rejectsWith(auth.tokens.verifyAccessToken(before.token, service), 'invalid');
    });

    it('refuse to open with another installation secret', async () => {
      const { writeFile } = await import('node:fs/promises');
      const { join } = await import('node:path');
      const otherSecret = join(auth.dir, 'other.key');
      await writeFile(otherSecret, `${Buffer.alloc(32, 7).toString('base64url')}\n`);
      await assert.rejects(auth.another({ secretKeyFile: otherSecret }), /cannot be unsealed/);
    });
  });

  describe('docker scopes', () => {
    it('parse and format', () => {
      assert.deepEqual(parseAccessScope('repository:samples/app:pull,push'), { type: 'repository', name: 'samples/app', actions: ['pull', 'push'] });
      assert.deepEqual(parseAccessScope('repository(plugin):app:pull'), { type: 'repository', name: 'app', actions: ['pull'] });
      assert.deepEqual(parseAccessScope('registry:catalog:*'), { type: 'registry', name: 'catalog', actions: ['*'] });
      assert.deepEqual(parseAccessScope('repository:app:pull,pull,'), { type: 'repository', name: 'app', actions: ['pull'] });
      for (const bad of ['', 'repository', 'repository:app', 'repository::pull', 'repository:app:', 'other:app:pull', ':app:pull']) {
        assert.equal(parseAccessScope(bad), undefined, bad);
      }
      assert.equal(formatAccessScope({ type: 'repository', name: 'app', actions: ['pull', 'push'] }), 'repository:app:pull,push');
    });

    it('tell whether an access claim covers a request', () => {
      const access = [
        { type: 'repository' as const, name: 'app', actions: ['pull'] },
        { type: 'registry' as const, name: 'catalog', actions: ['*'] },
      ];
      assert.equal(accessAllows(access, 'app', 'pull'), true);
      assert.equal(accessAllows(access, 'app', 'push'), false);
      assert.equal(accessAllows(access, 'other', 'pull'), false);
      assert.equal(accessAllows(access, undefined, 'pull'), false);
      assert.equal(accessAllows(access, undefined, 'catalog'), true);
      assert.equal(accessAllows([], undefined, 'catalog'), false);
    });
  });
});
