import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { OWNER, startTestBerth, type TestAuth, type TestBerth } from '../helper.ts';
import { accessToken, assignRole, createRegistry, createUser, loginServer, mgmt, mgmtOk, ociError, portOf } from '../helpers/identity.ts';
import { imageOf, pushImage } from '../helpers/oci-http.ts';

interface PasswordEntry {
  name: string;
  creationTime: string;
  expiry?: string | null;
  value?: string;
}

interface TokenView {
  id: string;
  name: string;
  scopeMapId: string;
  status: string;
  creationDate: string;
  credentials: { username: string; passwords: PasswordEntry[] };
}

describe('/mgmt/v1: the management API', () => {
  let server: TestBerth;
  let contoso: string;
  /** Every secret value the API handed out, to check it never appears again. */
  const secrets: string[] = [];

  before(async () => {
    server = await startTestBerth();
    contoso = await createRegistry(server, 'contoso');
    await createRegistry(server, 'baseartifacts');
    await pushImage(server, 'hello-world', 'v1', imageOf(), contoso);
  });
  after(() => server.close());

  async function assertProblem(status: number, method: string, path: string, body?: unknown, auth?: TestAuth): Promise<Record<string, unknown>> {
    const response = await mgmt(server, method, path, body, auth);
    assert.equal(response.status, status, `${method} ${path}: ${response.text}`);
    assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(response.body.status, status);
    assert.ok(response.body.title);
    return response.body;
  }

  it('requires authentication: 401 problem with WWW-Authenticate: Basic realm="berth"', async () => {
    for (const auth of ['none', { username: OWNER.username, password: 'wrong' }, { username: 'nobody', password: 'x' }, { bearer: 'garbage' }] as TestAuth[]) {
      const response = await mgmt(server, 'GET', '/registries', undefined, auth);
      assert.equal(response.status, 401, response.text);
      assert.equal(response.headers.get('www-authenticate'), 'Basic realm="berth"');
      assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/);
    }
    const malformed = await server.request('/mgmt/v1/registries', { headers: { authorization: 'Basic ###' } });
    assert.equal(malformed.status, 401);
  });

  it('accepts a Berth access token as well as Basic credentials', async () => {
    const token = await accessToken(server, `127.0.0.1:${portOf(server)}`, [], OWNER);
    const listed = await mgmtOk<{ value: { name: string }[] }>(server, 200, 'GET', '/registries', undefined, { bearer: token.token });
    assert.ok(listed.value.some((registry) => registry.name === 'contoso'));
    const forAnotherServer = await accessToken(server, contoso, [], OWNER);
    assert.equal((await mgmt(server, 'GET', '/registries', undefined, { bearer: forAnotherServer.token })).status, 401, 'the audience is the address used');
  });

  it('registries: create with SKU, group, location and settings; show in ACR field order; update; delete', async () => {
    const created = await mgmtOk(server, 201, 'POST', '/registries', {
      name: 'berthtest1',
      sku: 'Premium',
      adminUserEnabled: true,
      resourceGroup: 'rg-one',
      location: 'westeurope',
    });
    assert.deepEqual(Object.keys(created), [
      'id',
      'name',
      'loginServer',
      'location',
      'resourceGroup',
      'sku',
      'adminUserEnabled',
      'anonymousPullEnabled',
      'creationDate',
      'provisioningState',
      'type',
      'policies',
    ]);
    assert.deepEqual(
      { ...created, creationDate: undefined },
      {
        id: '/registries/berthtest1',
        name: 'berthtest1',
        loginServer: loginServer(server, 'berthtest1'),
        location: 'westeurope',
        resourceGroup: 'rg-one',
        sku: { name: 'Premium', tier: 'Premium' },
        adminUserEnabled: true,
        anonymousPullEnabled: false,
        creationDate: undefined,
        provisioningState: 'Succeeded',
        type: 'Berth/registries',
        policies: {},
      },
    );
    const updated = await mgmtOk<{ anonymousPullEnabled: boolean; sku: { name: string } }>(server, 200, 'PATCH', '/registries/berthtest1', { anonymousPullEnabled: true, sku: 'Basic' });
    assert.equal(updated.anonymousPullEnabled, true);
    assert.equal(updated.sku.name, 'Basic');
    assert.equal((await mgmtOk<{ sku: { name: string } }>(server, 200, 'GET', '/registries/berthtest1')).sku.name, 'Basic');
    await assertProblem(400, 'PATCH', '/registries/berthtest1', { sku: 'Huge' });
    await assertProblem(400, 'PATCH', '/registries/berthtest1', { unknownSetting: true });
    await assertProblem(404, 'GET', '/registries/nosuchregistry');
    await mgmtOk(server, 204, 'DELETE', '/registries/berthtest1');
    await assertProblem(404, 'GET', '/registries/berthtest1');
  });

  it('admin credentials: shown without values, renewed one at a time; disabled or renewed passwords stop working', async () => {
    await mgmtOk(server, 200, 'PATCH', '/registries/contoso', { adminUserEnabled: true });
    const password2 = await mgmtOk<{ passwords: PasswordEntry[] }>(server, 200, 'POST', '/registries/contoso/credentials/renew', { name: 'password2' });
    secrets.push(password2.passwords.find((entry) => entry.name === 'password2')!.value!);
    const first = await mgmtOk<{ passwords: PasswordEntry[] }>(server, 200, 'POST', '/registries/contoso/credentials/renew', { name: 'password' });
    const password = first.passwords.find((entry) => entry.name === 'password')!.value!;
    assert.ok(password);
    assert.equal(first.passwords.find((entry) => entry.name === 'password2')!.value, undefined, 'only the renewed value');
    secrets.push(password);
    const shown = await mgmtOk<{ username: string; passwords: PasswordEntry[] }>(server, 200, 'GET', '/registries/contoso/credentials');
    assert.equal(shown.username, 'contoso');
    assert.deepEqual(shown.passwords.map((entry) => entry.name), ['password', 'password2']);
    assert.ok(shown.passwords.every((entry) => entry.value === undefined && entry.creationTime));
    const admin = { username: 'contoso', password };
    assert.equal((await server.request('/v2/hello-world/manifests/v1', { auth: admin, host: contoso })).status, 200);
    assert.equal((await server.request('/v2/hello-world/manifests/v1', { auth: admin, host: loginServer(server, 'baseartifacts') })).status, 401, 'only on its own registry');

    const second = await mgmtOk<{ passwords: PasswordEntry[] }>(server, 200, 'POST', '/registries/contoso/credentials/renew', { name: 'password' });
    const renewed = second.passwords.find((entry) => entry.name === 'password')!.value!;
    secrets.push(renewed);
    await ociError(await server.request('/v2/hello-world/manifests/v1', { auth: admin, host: contoso }), 401, 'UNAUTHORIZED');
    assert.equal((await server.request('/v2/hello-world/manifests/v1', { auth: { username: 'contoso', password: renewed }, host: contoso })).status, 200);

    await mgmtOk(server, 200, 'PATCH', '/registries/contoso', { adminUserEnabled: false });
    await ociError(await server.request('/v2/hello-world/manifests/v1', { auth: { username: 'contoso', password: renewed }, host: contoso }), 401, 'UNAUTHORIZED');
    await assertProblem(400, 'POST', '/registries/contoso/credentials/renew', { name: 'password3' });
  });

  it('users: a generated password is returned once; show and list never carry it', async () => {
    const created = await mgmtOk<{ username: string; password?: string; type: string; owner: boolean }>(server, 201, 'POST', '/users', { username: 'erin' });
    assert.equal(created.type, 'User');
    assert.equal(created.owner, false);
    assert.ok(created.password);
    secrets.push(created.password);
    const shown = await mgmtOk<Record<string, unknown>>(server, 200, 'GET', '/users/erin');
    assert.deepEqual(Object.keys(shown), ['principalId', 'username', 'type', 'owner', 'createdAt']);
    const listed = await mgmtOk<{ value: { username: string; owner: boolean }[] }>(server, 200, 'GET', '/users');
    assert.deepEqual(listed.value.map((user) => [user.username, user.owner]).sort(), [['erin', false], ['owner', true]]);
    const chosen = await mgmtOk<{ password?: string }>(server, 200, 'POST', '/users/erin/reset-password', { password: 'erin-chosen-password' });
    assert.equal(chosen.password, undefined, 'a chosen password is not echoed');
    const generated = await mgmtOk<{ password?: string }>(server, 200, 'POST', '/users/erin/reset-password', {});
    assert.ok(generated.password);
    secrets.push(generated.password);
    await assertProblem(409, 'POST', '/users', { username: 'erin', password: 'x-password-1' });
    await assertProblem(400, 'POST', '/users', { username: 'erin2', password: 'p', extra: 1 });
    await mgmtOk(server, 204, 'DELETE', '/users/erin');
    await assertProblem(404, 'GET', '/users/erin');
  });

  it('service principals: created with a role at scopes, the secret returned once, usable with docker login', async () => {
    const created = await mgmtOk<{ appId: string; displayName: string; password: string; tenant: string; principalId: string }>(server, 201, 'POST', '/service-principals', {
      name: 'ci-pipeline',
      role: 'AcrPush',
      scopes: ['/registries/contoso'],
    });
    assert.deepEqual(Object.keys(created).slice(0, 5), ['appId', 'displayName', 'password', 'tenant', 'principalId']);
    assert.equal(created.tenant, 'berth');
    secrets.push(created.password);
    const sp = { username: created.appId, password: created.password };
    assert.equal((await server.request('/v2/hello-world/blobs/uploads/', { method: 'POST', auth: sp, host: contoso })).status, 202);
    const shown = await mgmtOk<Record<string, unknown>>(server, 200, 'GET', `/service-principals/${created.appId}`);
    assert.equal(shown.password, undefined);
    const listed = await mgmtOk<{ value: { appId: string }[] }>(server, 200, 'GET', '/service-principals');
    assert.ok(listed.value.some((entry) => entry.appId === created.appId));
    const assignments = await mgmtOk<{ value: { principalId: string; roleDefinitionName: string; scope: string; principalType: string }[] }>(server, 200, 'GET', `/role-assignments?assignee=${created.appId}`);
    assert.deepEqual(assignments.value.map((entry) => [entry.roleDefinitionName, entry.scope, entry.principalType]), [['AcrPush', '/registries/contoso', 'ServicePrincipal']]);
    await assertProblem(400, 'POST', '/service-principals', { name: 'x', role: 'AcrPush' });
    await mgmtOk(server, 204, 'DELETE', `/service-principals/${created.appId}`);
    await ociError(await server.request('/v2/', { auth: sp, host: contoso }), 401, 'UNAUTHORIZED');
  });

  it('role assignments: Owners of a registry may assign there; Contributors and others may not', async () => {
    await createUser(server, 'frank', 'frank-password-1');
    await createUser(server, 'grace', 'grace-password-1');
    await createUser(server, 'heidi', 'heidi-password-1');
    await assignRole(server, 'frank', 'Owner', '/registries/contoso');
    await assignRole(server, 'grace', 'Contributor', '/registries/contoso');
    const frank = { username: 'frank', password: 'frank-password-1' };
    const grace = { username: 'grace', password: 'grace-password-1' };

    const byFrank = await mgmtOk<{ id: string; principalName: string; roleDefinitionName: string; scope: string }>(
      server,
      201,
      'POST',
      '/role-assignments',
      { assignee: 'heidi', role: 'AcrPull', scope: '/registries/contoso/repositories/samples/*' },
      frank,
    );
    assert.equal(byFrank.principalName, 'heidi');
    await assertProblem(403, 'POST', '/role-assignments', { assignee: 'heidi', role: 'AcrPull', scope: '/registries/baseartifacts' }, frank);
    await assertProblem(403, 'POST', '/role-assignments', { assignee: 'heidi', role: 'Owner', scope: '/' }, frank);
    await assertProblem(403, 'POST', '/role-assignments', { assignee: 'heidi', role: 'AcrPull', scope: '/registries/contoso' }, grace);
    await assertProblem(403, 'DELETE', `/role-assignments/${byFrank.id}`, undefined, grace);
    await assertProblem(403, 'GET', '/role-assignments', undefined, frank);
    const frankView = await mgmtOk<{ value: { scope: string }[] }>(server, 200, 'GET', '/role-assignments?scope=/registries/contoso', undefined, frank);
    assert.ok(frankView.value.length >= 1);
    await assertProblem(400, 'POST', '/role-assignments', { assignee: 'heidi', role: 'Janitor', scope: '/registries/contoso' });
    await mgmtOk(server, 204, 'DELETE', `/role-assignments/${byFrank.id}`, undefined, frank);

    assert.equal((await mgmt(server, 'PATCH', '/registries/contoso', { anonymousPullEnabled: false }, grace)).status, 200, 'Contributors manage the registry');
    await assertProblem(403, 'DELETE', '/registries/contoso', undefined, grace);
    await assertProblem(403, 'POST', '/registries', { name: 'gracereg1' }, grace);
    await assertProblem(403, 'GET', '/users', undefined, frank);
  });

  it('a Reader sees only its registry, and cannot change it', async () => {
    await createUser(server, 'ivan', 'ivan-password-1');
    await assignRole(server, 'ivan', 'Reader', '/registries/baseartifacts');
    const ivan = { username: 'ivan', password: 'ivan-password-1' };
    const listed = await mgmtOk<{ value: { name: string }[] }>(server, 200, 'GET', '/registries', undefined, ivan);
    assert.deepEqual(listed.value.map((registry) => registry.name), ['baseartifacts']);
    await mgmtOk(server, 200, 'GET', '/registries/baseartifacts', undefined, ivan);
    await assertProblem(403, 'GET', '/registries/contoso', undefined, ivan);
    await assertProblem(403, 'GET', '/registries/nosuchregistry', undefined, ivan);
    await assertProblem(403, 'PATCH', '/registries/baseartifacts', { adminUserEnabled: true }, ivan);
    await assertProblem(403, 'GET', '/registries/baseartifacts/credentials', undefined, ivan);
    await mgmtOk(server, 200, 'GET', '/registries/baseartifacts/scope-maps', undefined, ivan);
    await assertProblem(403, 'POST', '/registries/baseartifacts/scope-maps', { name: 'ivan-map', actions: ['repositories/x/content/read'] }, ivan);
  });

  it('scope maps: system maps listed; create, update, show and delete user-defined ones', async () => {
    const listed = await mgmtOk<{ value: { name: string; type: string }[] }>(server, 200, 'GET', '/registries/contoso/scope-maps');
    for (const name of ['_repositories_admin', '_repositories_pull', '_repositories_push']) {
      assert.equal(listed.value.find((map) => map.name === name)?.type, 'SystemDefined', name);
    }
    const created = await mgmtOk<Record<string, unknown>>(server, 201, 'POST', '/registries/contoso/scope-maps', {
      name: 'hello-read',
      actions: ['repositories/hello-world/content/read', 'repositories/hello-world/metadata/read'],
      description: 'read hello-world',
    });
    assert.deepEqual(Object.keys(created), ['id', 'name', 'description', 'type', 'actions', 'creationDate']);
    assert.equal(created.id, '/registries/contoso/scopeMaps/hello-read');
    const updated = await mgmtOk<{ actions: string[] }>(server, 200, 'PATCH', '/registries/contoso/scope-maps/hello-read', {
      addActions: ['repositories/samples/*/content/read'],
      removeActions: ['repositories/hello-world/metadata/read'],
    });
    assert.deepEqual([...updated.actions].sort(), ['repositories/hello-world/content/read', 'repositories/samples/*/content/read']);
    await mgmtOk(server, 200, 'GET', '/registries/contoso/scope-maps/hello-read');
    await assertProblem(400, 'POST', '/registries/contoso/scope-maps', { name: 'bad-map', actions: ['repositories/x/content/fly'] });
    await mgmtOk(server, 201, 'POST', '/registries/contoso/scope-maps', { name: 'throwaway', actions: ['repositories/x/content/read'] });
    await mgmtOk(server, 204, 'DELETE', '/registries/contoso/scope-maps/throwaway');
    await assertProblem(404, 'GET', '/registries/contoso/scope-maps/throwaway');
  });

  it('tokens: passwords only at creation and generation; disable, expiry and delete take effect at once', async () => {
    const created = await mgmtOk<TokenView>(server, 201, 'POST', '/registries/contoso/tokens', { name: 'hello-reader', scopeMapName: 'hello-read' });
    assert.deepEqual(Object.keys(created), ['id', 'name', 'scopeMapId', 'status', 'creationDate', 'credentials']);
    assert.equal(created.scopeMapId, '/registries/contoso/scopeMaps/hello-read');
    const values = created.credentials.passwords.map((entry) => entry.value!);
    assert.equal(values.length, 2);
    secrets.push(...values);
    const token = { username: 'hello-reader', password: values[0]! };
    assert.equal((await server.request('/v2/hello-world/manifests/v1', { auth: token, host: contoso })).status, 200);
    await ociError(await server.request('/v2/hello-world/blobs/uploads/', { method: 'POST', auth: token, host: contoso }), 403, 'DENIED');

    const shown = await mgmtOk<TokenView>(server, 200, 'GET', '/registries/contoso/tokens/hello-reader');
    assert.ok(shown.credentials.passwords.every((entry) => entry.value === undefined));

    const inline = await mgmtOk<TokenView>(server, 201, 'POST', '/registries/contoso/tokens', { name: 'pusher', actions: ['repositories/team/*/content/write', 'repositories/team/*/content/read'] });
    assert.equal(inline.scopeMapId, '/registries/contoso/scopeMaps/pusher-scope-map');
    secrets.push(...inline.credentials.passwords.map((entry) => entry.value!));

    const generated = await mgmtOk<TokenView>(server, 200, 'POST', '/registries/contoso/tokens/hello-reader/credentials/generate', { password1: true });
    const newValue = generated.credentials.passwords.find((entry) => entry.name === 'password1')!.value!;
    assert.ok(newValue && newValue !== values[0]);
    secrets.push(newValue);
    await ociError(await server.request('/v2/hello-world/manifests/v1', { auth: token, host: contoso }), 401, 'UNAUTHORIZED');
    const current = { username: 'hello-reader', password: newValue };
    assert.equal((await server.request('/v2/hello-world/manifests/v1', { auth: current, host: contoso })).status, 200);

    await mgmtOk(server, 200, 'PATCH', '/registries/contoso/tokens/hello-reader', { status: 'disabled' });
    await ociError(await server.request('/v2/hello-world/manifests/v1', { auth: current, host: contoso }), 401, 'UNAUTHORIZED');
    await mgmtOk(server, 200, 'PATCH', '/registries/contoso/tokens/hello-reader', { status: 'enabled' });
    assert.equal((await server.request('/v2/hello-world/manifests/v1', { auth: current, host: contoso })).status, 200);

    await assertProblem(400, 'POST', '/registries/contoso/tokens', { name: 'past-token', scopeMapName: '_repositories_pull', expiry: '2001-01-01T00:00:00Z' });
    const expiry = new Date(Date.now() + 1500).toISOString();
    const expiring = await mgmtOk<TokenView>(server, 201, 'POST', '/registries/contoso/tokens', { name: 'expired-token', scopeMapName: '_repositories_pull', expiry });
    secrets.push(...expiring.credentials.passwords.map((entry) => entry.value!));
    const expiringAuth = { username: 'expired-token', password: expiring.credentials.passwords[0]!.value! };
    assert.equal((await server.request('/v2/hello-world/manifests/v1', { auth: expiringAuth, host: contoso })).status, 200);
    await sleep(Date.parse(expiry) - Date.now() + 200);
    await ociError(await server.request('/v2/hello-world/manifests/v1', { auth: expiringAuth, host: contoso }), 401, 'UNAUTHORIZED');

    const listed = await mgmtOk<{ value: TokenView[] }>(server, 200, 'GET', '/registries/contoso/tokens');
    assert.deepEqual(listed.value.map((entry) => entry.name).sort(), ['expired-token', 'hello-reader', 'pusher']);
    await mgmtOk(server, 204, 'DELETE', '/registries/contoso/tokens/hello-reader');
    await ociError(await server.request('/v2/hello-world/manifests/v1', { auth: current, host: contoso }), 401, 'UNAUTHORIZED');
  });

  it('signing key rotation: tokens signed before still verify during the grace period', async () => {
    const before = await accessToken(server, contoso, ['repository:hello-world:pull'], OWNER);
    const rotated = await mgmtOk<{ kid: string; previousKid: string | null; graceSeconds: number }>(server, 200, 'POST', '/signing-keys/rotate', { graceSeconds: 600 });
    assert.ok(rotated.kid && rotated.kid !== rotated.previousKid);
    assert.equal(rotated.graceSeconds, 600);
    assert.equal((await server.request('/v2/hello-world/manifests/v1', { auth: { bearer: before.token }, host: contoso })).status, 200);
    const afterRotation = await accessToken(server, contoso, ['repository:hello-world:pull'], OWNER);
    const kid = (token: string) => (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
    assert.equal(kid(afterRotation.token), rotated.kid);
  });

  it('no response from show or list ever carries a secret value', async () => {
    assert.ok(secrets.length >= 8);
    await mgmtOk(server, 200, 'PATCH', '/registries/contoso', { adminUserEnabled: true });
    const paths = [
      '/registries',
      '/registries/contoso',
      '/registries/contoso/credentials',
      '/users',
      '/users/owner',
      '/service-principals',
      '/role-assignments',
      '/registries/contoso/scope-maps',
      '/registries/contoso/tokens',
      '/registries/contoso/tokens/pusher',
      '/openapi.json',
    ];
    for (const path of paths) {
      const { status, text } = await mgmt(server, 'GET', path);
      assert.equal(status, 200, path);
      for (const secret of secrets) assert.ok(!text.includes(secret), `${path} leaks a secret`);
      assert.ok(!text.includes(OWNER.password), `${path} leaks the owner password`);
      assert.doesNotMatch(text, /\$argon2|passwordHash|secretHash/i, path);
    }
  });

  it('unknown endpoints and invalid bodies answer with problems', async () => {
    await assertProblem(404, 'GET', '/nothing-here');
    const invalidJson = await server.request('/mgmt/v1/users', { method: 'POST', body: '{', headers: { 'content-type': 'application/json' } });
    assert.equal(invalidJson.status, 400);
    assert.match(invalidJson.headers.get('content-type') ?? '', /^application\/problem\+json/);
  });
});
