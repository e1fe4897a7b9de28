/**
 * A task run's credential: pull, push and delete on the run's own registry whatever its identity
 * may do, elsewhere only what the identity may; a refresh token used with the null GUID that
 * lives as long as asked, ends with its run and is revoked on request.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Action } from '../../src/auth/actions.ts';
import { createAuth, type Auth } from '../../src/auth/index.ts';
import { principalName, REFRESH_TOKEN_USERNAME, type Principal } from '../../src/auth/principal.ts';
import { issueRunCredential, type RunCredential } from '../../src/auth/run-credentials.ts';
import { openMetaStore, type MetaStore } from '../../src/meta/index.ts';
import { startTestBerth, type TestBerth } from '../helper.ts';
import { as, assignRole, createRegistry, createUser, jwtClaims, postForm, requestToken, type TokenResponse } from '../helpers/identity.ts';
import { assertError, imageOf, OCI_MANIFEST, pushImage } from '../helpers/oci-http.ts';
import { startPostgres, type PostgresCluster } from '../helpers/postgres.ts';
import { authFixture, throttle, type AuthFixture } from './auth-fixture.ts';

const runActions: Action[] = ['pull', 'push', 'delete'];
const otherActions: Action[] = ['metadata_read', 'metadata_write', 'quarantine_read', 'quarantine_write', 'sign'];
const registryActions: Action[] = ['catalog', 'read_registry', 'manage_registry', 'assign_roles', 'manage_installation'];

async function queuedRun(meta: MetaStore, registry: string): Promise<string> {
  await meta.tasks.queueRun({ registry, task: null, runType: 'QuickRun', trigger: 'Manual', platform: 'linux/amd64', request: {} });
  const claimed = await meta.tasks.claimRun('test-worker');
  assert.ok(claimed);
  return claimed.runId;
}

describe('run credentials: what they allow', () => {
  let auth: AuthFixture;
  let reader: Principal;
  let runId: string;

  before(async () => {
    auth = await authFixture();
    await auth.meta.createRegistry('contoso');
    await auth.meta.createRegistry('fabrikam');
    const user = await auth.identity.createUser('reader', 'a long password');
    await auth.identity.createRoleAssignment('reader', 'Reader', '/registries/contoso');
    reader = { kind: 'user', id: user.principalId, name: 'reader', owner: false };
    runId = await queuedRun(auth.meta, 'contoso');
  });
  after(async () => auth.close());

  it('grants pull, push and delete on every repository of the own registry, and the identity’s rights', async () => {
    const run: Principal = { kind: 'taskRun', registry: 'contoso', runId, identity: reader };
    for (const repository of ['app', 'samples/deep/tool']) {
      for (const action of runActions) assert.equal(await auth.authorizer.authorize(run, 'contoso', repository, action), true, action);
      assert.equal(await auth.authorizer.authorize(run, 'contoso', repository, 'metadata_read'), true, 'Reader gives metadata_read');
      for (const action of ['metadata_write', 'quarantine_write', 'sign'] as Action[]) {
        assert.equal(await auth.authorizer.authorize(run, 'contoso', repository, action), false, action);
      }
    }
    assert.equal(await auth.authorizer.authorize(run, 'contoso', undefined, 'catalog'), true, 'Reader gives catalog');
    assert.equal(await auth.authorizer.authorize(run, 'contoso', undefined, 'manage_registry'), false);
    assert.equal(await auth.authorizer.authorize(run, 'contoso', undefined, 'push'), false, 'push needs a repository');
    assert.equal(await auth.authorizer.authorize(run, undefined, undefined, 'manage_installation'), false);
  });

  it('grants nothing of its own on another registry', async () => {
    const run: Principal = { kind: 'taskRun', registry: 'contoso', runId, identity: reader };
    for (const action of [...runActions, ...otherActions]) assert.equal(await auth.authorizer.authorize(run, 'fabrikam', 'app', action), false, action);
    for (const action of registryActions) assert.equal(await auth.authorizer.authorize(run, 'fabrikam', undefined, action), false, action);
    assert.deepEqual(await auth.authorizer.grantedActions(run, 'fabrikam', 'app', ['*']), []);
    assert.deepEqual(await auth.authorizer.grantedActions(run, 'contoso', 'app', ['*']), ['pull', 'push', 'delete', 'metadata_read']);
  });

  it('reaches other registries through the identity’s role assignments only', async () => {
    const user = await auth.identity.createUser('puller', 'a long password');
    await auth.identity.createRoleAssignment('puller', 'AcrPull', '/registries/fabrikam/repositories/base/*');
    const run: Principal = { kind: 'taskRun', registry: 'contoso', runId, identity: { kind: 'user', id: user.principalId, name: 'puller', owner: false } };
    assert.equal(await auth.authorizer.authorize(run, 'fabrikam', 'base/alpine', 'pull'), true);
    assert.equal(await auth.authorizer.authorize(run, 'fabrikam', 'base/alpine', 'push'), false);
    assert.equal(await auth.authorizer.authorize(run, 'fabrikam', 'app', 'pull'), false);
    assert.equal(await auth.authorizer.authorize(run, 'contoso', 'anything', 'push'), true);
    assert.equal(await auth.authorizer.authorize(run, 'contoso', 'anything', 'metadata_read'), false, 'puller has no role in contoso');
  });

  it('is named after its identity', () => {
    const run: Principal = { kind: 'taskRun', registry: 'contoso', runId, identity: reader };
    assert.equal(principalName(run), 'reader');
    assert.match(auth.identity.describe(run), /^run .* of registry contoso, as user reader$/);
  });
});

describe('run credentials: lifetime and revocation', () => {
  let auth: AuthFixture;
  let reader: Principal;

  before(async () => {
    auth = await authFixture();
    await auth.meta.createRegistry('contoso');
    await auth.meta.createRegistry('fabrikam');
    const user = await auth.identity.createUser('reader', 'a long password');
    reader = { kind: 'user', id: user.principalId, name: 'reader', owner: false };
  });
  after(async () => auth.close());

  const issue = async (runId: string, lifetimeSeconds = 3900, identity: Principal = reader): Promise<RunCredential> =>
    await issueRunCredential(auth.tokens, { registry: 'contoso', runId, identity, loginServer: 'contoso.localhost', lifetimeSeconds });

  it('is a refresh token for the null GUID that signs in to its login server for the given lifetime', async () => {
    const runId = await queuedRun(auth.meta, 'contoso');
    const credential = await issue(runId, 3900);
    assert.equal(credential.username, REFRESH_TOKEN_USERNAME);
    assert.equal(credential.loginServer, 'contoso.localhost');
    const claims = jwtClaims(credential.password);
    assert.equal(Number(claims.exp) - Number(claims.iat), 3900);
    assert.equal(claims.aud, 'contoso.localhost');
    const principal = await auth.authenticator.verifyPassword(credential.username, credential.password, { registry: 'contoso', address: '127.0.0.1' });
    assert.deepEqual(principal, { kind: 'taskRun', registry: 'contoso', runId, identity: reader });
    await assert.rejects(
      auth.authenticator.verifyPassword(credential.username, credential.password, { registry: 'fabrikam', address: '127.0.0.1' }),
      /invalid/,
    );
    auth.clock.advance(3901);
    await assert.rejects(auth.tokens.verifyRefreshToken(credential.password, 'contoso.localhost'), /expired/);
  });

  it('is refused once revoked, and revoking twice is harmless', async () => {
    const credential = await issue(await queuedRun(auth.meta, 'contoso'));
    assert.equal((await auth.tokens.verifyRefreshToken(credential.password, 'contoso.localhost')).kind, 'taskRun');
    await credential.revoke();
    await credential.revoke();
    await assert.rejects(auth.tokens.verifyRefreshToken(credential.password, 'contoso.localhost'), /revoked/);
  });

  it('ends with its run, and with its identity', async () => {
    const runId = await queuedRun(auth.meta, 'contoso');
    const credential = await issue(runId);
    assert.equal(await auth.meta.tasks.finishRun('contoso', runId, { status: 'Succeeded' }), true);
    await assert.rejects(auth.tokens.verifyRefreshToken(credential.password, 'contoso.localhost'), /can no longer sign in/);

    const user = await auth.identity.createUser('temporary', 'a long password');
    const other = await issue(await queuedRun(auth.meta, 'contoso'), 600, { kind: 'user', id: user.principalId, name: 'temporary', owner: false });
    await auth.identity.deleteUser('temporary');
    await assert.rejects(auth.tokens.verifyRefreshToken(other.password, 'contoso.localhost'));
  });

  it('passes on only the identity of a run started with another run’s credential', async () => {
    const first = await queuedRun(auth.meta, 'fabrikam');
    const second = await queuedRun(auth.meta, 'contoso');
    const caller: Principal = { kind: 'taskRun', registry: 'fabrikam', runId: first, identity: reader };
    const credential = await issue(second, 600, caller);
    const principal = await auth.tokens.verifyRefreshToken(credential.password, 'contoso.localhost');
    assert.deepEqual(principal, { kind: 'taskRun', registry: 'contoso', runId: second, identity: reader });
  });

  it('needs a positive lifetime', async () => {
    await assert.rejects(issue('zz1', 0), /positive lifetime/);
    await assert.rejects(issue('zz1', 1.5), /positive lifetime/);
  });
});

describe('run credentials against a running server', () => {
  let cluster: PostgresCluster;
  let server: TestBerth;
  /** Another node on the same database and installation secret: the task engine's side. */
  let meta: MetaStore;
  let engine: Auth;
  let contoso: string;
  let fabrikam: string;
  let reader: Principal;
  let runId: string;

  before(async () => {
    cluster = await startPostgres();
    server = await startTestBerth({ database: cluster.url });
    meta = await openMetaStore({ url: cluster.url });
    engine = await createAuth({ meta, secretKeyFile: `${server.dataDir}/secret.key`, throttle });
    contoso = await createRegistry(server, 'contoso');
    fabrikam = await createRegistry(server, 'fabrikam');
    await pushImage(server, 'base/alpine', '1', imageOf(), fabrikam);
    const user = await createUser(server, 'reader', 'reader-password-1');
    await assignRole(server, 'reader', 'Reader', '/registries/contoso');
    reader = { kind: 'user', id: user.principalId, name: 'reader', owner: false };
    runId = await queuedRun(meta, 'contoso');
  });
  after(async () => {
    await server?.close();
    await meta?.close();
    await cluster?.stop();
  });

  async function refreshGrant(credential: RunCredential, service: string, scopes: string[]): Promise<Response> {
    return await postForm(server, '/oauth2/token', { grant_type: 'refresh_token', service, scope: scopes, refresh_token: credential.password }, service);
  }

  async function grantedAccess(response: Response): Promise<{ token: string; access: string[] }> {
    const text = await response.text();
    assert.equal(response.status, 200, text);
    const { access_token: token } = JSON.parse(text) as TokenResponse;
    const access = jwtClaims(token).access as { name: string; actions: string[] }[];
    return { token, access: access.flatMap((entry) => entry.actions.map((action) => `${entry.name}:${action}`)).sort() };
  }

  it('lets a Reader’s run push to its own registry through the refresh flow, and nothing elsewhere', async () => {
    const credential = await issueRunCredential(engine.tokens, { registry: 'contoso', runId, identity: reader, loginServer: contoso, lifetimeSeconds: 900 });
    const own = await grantedAccess(await refreshGrant(credential, contoso, ['repository:app:pull,push,delete']));
    assert.deepEqual(own.access, ['app:delete', 'app:pull', 'app:push']);
    await pushImage(as(server, { bearer: own.token }), 'app', 'v1', imageOf(), contoso);

    // The user itself may not push there.
    const asReader = await grantedAccess(await requestToken(server, contoso, ['repository:app:pull,push'], { username: 'reader', password: 'reader-password-1' }));
    assert.deepEqual(asReader.access, ['app:pull']);

    // As docker does with an auth file: Basic null GUID + refresh token.
    const basic = await grantedAccess(await requestToken(server, contoso, ['repository:app:push'], { username: credential.username, password: credential.password }));
    assert.deepEqual(basic.access, ['app:push']);

    // The credential is for its registry's login server only.
    await assertError(await refreshGrant(credential, fabrikam, ['repository:base/alpine:pull']), 401, 'UNAUTHORIZED');
    const basicElsewhere = await requestToken(server, fabrikam, ['repository:base/alpine:pull'], { username: credential.username, password: credential.password });
    assert.equal(basicElsewhere.status, 401);
    // And signed in to the other registry, it gets nothing there of its own.
    const elsewhere = await issueRunCredential(engine.tokens, {
      registry: 'contoso',
      runId,
      identity: reader,
      loginServer: fabrikam,
      loginRegistry: 'fabrikam',
      lifetimeSeconds: 900,
    });
    assert.deepEqual((await grantedAccess(await refreshGrant(elsewhere, fabrikam, ['repository:base/alpine:pull,push,delete']))).access, []);
  });

  it('pulls from another registry where the identity has a role', async () => {
    await assignRole(server, 'reader', 'AcrPull', '/registries/fabrikam');
    const credential = await issueRunCredential(engine.tokens, {
      registry: 'contoso',
      runId,
      identity: reader,
      loginServer: fabrikam,
      loginRegistry: 'fabrikam',
      lifetimeSeconds: 900,
    });
    const granted = await grantedAccess(await refreshGrant(credential, fabrikam, ['repository:base/alpine:pull,push,delete']));
    assert.deepEqual(granted.access, ['base/alpine:pull']);
    const pulled = await server.request('/v2/base/alpine/manifests/1', { auth: { bearer: granted.token }, host: fabrikam, headers: { accept: OCI_MANIFEST } });
    assert.equal(pulled.status, 200);
  });

  it('is refused after revoke', async () => {
    const credential = await issueRunCredential(engine.tokens, { registry: 'contoso', runId, identity: reader, loginServer: contoso, lifetimeSeconds: 900 });
    await grantedAccess(await refreshGrant(credential, contoso, ['repository:app:pull']));
    await credential.revoke();
    await assertError(await refreshGrant(credential, contoso, ['repository:app:pull']), 401, 'UNAUTHORIZED');
    const basic = await requestToken(server, contoso, ['repository:app:pull'], { username: credential.username, password: credential.password });
    assert.equal(basic.status, 401);
  });
});
