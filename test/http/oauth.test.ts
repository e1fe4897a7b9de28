import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { OWNER, startTestBerth, type TestBerth } from '../helper.ts';
import {
  accessToken,
  as,
  assignRole,
  createRegistry,
  createUser,
  jwtClaims,
  mgmt,
  mgmtOk,
  ociError,
  portOf,
  postForm,
  requestToken,
  type TokenResponse,
} from '../helpers/identity.ts';
import { imageOf, pushImage } from '../helpers/oci-http.ts';

const NULL_GUID = '00000000-0000-0000-0000-000000000000';

async function tokenError(response: Response, status: number, code: string): Promise<void> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  const body = JSON.parse(text) as { errors: { code: string; message: string }[] };
  assert.equal(body.errors[0]?.code, code, text);
  assert.ok(body.errors[0]?.message);
}

/** The actions an access token grants, as `type:name:action` strings. */
function granted(token: string): string[] {
  const access = jwtClaims(token).access as { type: string; name: string; actions: string[] }[];
  return access.flatMap((entry) => entry.actions.map((action) => `${entry.type}:${entry.name}:${action}`)).sort();
}

describe('/oauth2/token and /oauth2/exchange', () => {
  let server: TestBerth;
  let contoso: string;
  let base: string;

  before(async () => {
    server = await startTestBerth();
    contoso = await createRegistry(server, 'contoso');
    base = await createRegistry(server, 'baseartifacts');
    await pushImage(server, 'hello-world', 'v1', imageOf(), contoso);
    await createUser(server, 'alice', 'alice-password-1');
    await assignRole(server, 'alice', 'AcrPull', '/registries/contoso/repositories/hello-world');
  });
  after(() => server.close());

  it('GET /oauth2/token with Basic credentials: token and access_token, expires_in, issued_at; an ES256 JWT for the login server', async () => {
    const response = await requestToken(server, contoso, ['repository:hello-world:pull,push'], OWNER);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    const body = (await response.json()) as TokenResponse;
    assert.deepEqual(Object.keys(body), ['token', 'access_token', 'expires_in', 'issued_at']);
    assert.equal(body.token, body.access_token);
    assert.equal(body.expires_in, 300);
    assert.ok(Math.abs(Date.parse(body.issued_at) - Date.now()) < 10_000);
    const header = JSON.parse(Buffer.from(body.token.split('.')[0]!, 'base64url').toString()) as { alg: string };
    assert.equal(header.alg, 'ES256');
    const claims = jwtClaims(body.token);
    assert.equal(claims.iss, 'berth');
    assert.equal(claims.aud, contoso);
    assert.equal(typeof claims.sub, 'string');
    assert.equal(typeof claims.jti, 'string');
    assert.equal(Number(claims.exp) - Number(claims.iat), 300);
    assert.ok(Number(claims.nbf) <= Number(claims.iat));
    assert.deepEqual(granted(body.token), ['repository:hello-world:pull', 'repository:hello-world:push']);
  });

  it('several scopes, repeated or space-separated, including registry:catalog:* and repository(plugin):', async () => {
    const token = await accessToken(server, contoso, ['repository:a:pull repository(plugin):b/c:push', 'registry:catalog:*', 'repository:a:delete'], OWNER);
    assert.deepEqual(granted(token.token), ['registry:catalog:*', 'repository:a:delete', 'repository:a:pull', 'repository:b/c:push']);
    const catalog = await server.request('/v2/_catalog', { auth: { bearer: token.token }, host: contoso });
    assert.deepEqual(await catalog.json(), { repositories: ['hello-world'] });
  });

  it('scope escalation: a token never grants more than the principal may, whatever the scope asks', async () => {
    const alice = { username: 'alice', password: 'alice-password-1' };
    const token = await accessToken(server, contoso, ['repository:hello-world:pull,push,delete,*', 'repository:other:pull', 'registry:catalog:*'], alice);
    assert.deepEqual(granted(token.token), ['repository:hello-world:pull']);
    const bearer = as(server, { bearer: token.token });
    assert.equal((await bearer.request('/v2/hello-world/manifests/v1', { host: contoso })).status, 200);
    await ociError(await bearer.request('/v2/hello-world/blobs/uploads/', { method: 'POST', host: contoso }), 403, 'DENIED');
    await ociError(await bearer.request('/v2/hello-world/manifests/v1', { method: 'DELETE', host: contoso }), 403, 'DENIED');
    await ociError(await bearer.request('/v2/_catalog', { host: contoso }), 403, 'DENIED');
    const elsewhere = await accessToken(server, base, ['repository:hello-world:pull'], alice);
    assert.deepEqual(granted(elsewhere.token), [], 'nothing on another registry');
  });

  it('offline_token=true also returns a refresh token', async () => {
    const response = await requestToken(server, contoso, [], OWNER, '&offline_token=true&client_id=skopeo');
    const body = (await response.json()) as TokenResponse;
    assert.equal(response.status, 200);
    assert.equal(jwtClaims(body.refresh_token!).typ, 'refresh');
  });

  it('docker login: POST grant_type=password&access_type=offline, then grant_type=refresh_token', async () => {
    const login = await postForm(server, '/oauth2/token', {
      grant_type: 'password',
      username: OWNER.username,
      password: OWNER.password,
      service: contoso,
      client_id: 'docker',
      access_type: 'offline',
    }, contoso);
    assert.equal(login.status, 200);
    const tokens = (await login.json()) as TokenResponse;
    assert.equal(tokens.token, tokens.access_token);
    assert.ok(tokens.refresh_token);
    assert.equal(jwtClaims(tokens.refresh_token).aud, contoso);

    const refreshed = await postForm(server, '/oauth2/token', {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
      service: contoso,
      scope: 'repository:hello-world:pull',
      client_id: 'docker',
    }, contoso);
    assert.equal(refreshed.status, 200);
    const access = (await refreshed.json()) as TokenResponse;
    assert.equal(access.refresh_token, undefined);
    assert.deepEqual(granted(access.access_token), ['repository:hello-world:pull']);
    assert.equal((await server.request('/v2/hello-world/manifests/v1', { auth: { bearer: access.access_token }, host: contoso })).status, 200);

    const otherService = await postForm(server, '/oauth2/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, service: base }, base);
    await tokenError(otherService, 401, 'UNAUTHORIZED');
  });

  it('POST /oauth2/exchange turns a user credential into a refresh token usable with the null GUID', async () => {
    const exchanged = await postForm(server, '/oauth2/exchange', { grant_type: 'password', username: 'alice', password: 'alice-password-1', service: contoso });
    assert.equal(exchanged.status, 200);
    const { refresh_token: refresh } = (await exchanged.json()) as { refresh_token: string };
    assert.ok(refresh);
    const viaBasic = await server.request('/v2/hello-world/manifests/v1', { auth: { username: NULL_GUID, password: refresh }, host: contoso });
    assert.equal(viaBasic.status, 200, 'docker login -u 00000000-0000-0000-0000-000000000000 -p <refresh token>');
    const token = await accessToken(server, contoso, ['repository:hello-world:pull'], { username: NULL_GUID, password: refresh });
    assert.deepEqual(granted(token.token), ['repository:hello-world:pull']);
    await ociError(await server.request('/v2/hello-world/manifests/v1', { auth: { username: NULL_GUID, password: refresh }, host: base }), 401, 'UNAUTHORIZED');

    const again = await postForm(server, '/oauth2/exchange', { grant_type: 'refresh_token', refresh_token: refresh, service: contoso });
    assert.equal(again.status, 200);
  });

  it('only users and service principals may exchange; admin users and tokens may not', async () => {
    await mgmtOk(server, 200, 'PATCH', '/registries/contoso', { adminUserEnabled: true });
    const renewed = await mgmtOk<{ passwords: { name: string; value?: string }[] }>(server, 200, 'POST', '/registries/contoso/credentials/renew', { name: 'password' });
    const password = renewed.passwords.find((entry) => entry.name === 'password')!.value!;
    const response = await postForm(server, '/oauth2/exchange', { grant_type: 'password', username: 'contoso', password, service: contoso });
    await tokenError(response, 401, 'UNAUTHORIZED');
    await mgmtOk(server, 200, 'PATCH', '/registries/contoso', { adminUserEnabled: false });
  });

  it('a refresh token replayed after its principal was deleted is refused', async () => {
    await createUser(server, 'bob', 'bob-password-1');
    await assignRole(server, 'bob', 'AcrPull', '/registries/contoso');
    const exchanged = (await (await postForm(server, '/oauth2/exchange', { grant_type: 'password', username: 'bob', password: 'bob-password-1', service: contoso })).json()) as { refresh_token: string };
    const use = () => postForm(server, '/oauth2/token', { grant_type: 'refresh_token', refresh_token: exchanged.refresh_token, service: contoso, scope: 'repository:hello-world:pull' }, contoso);
    assert.equal((await use()).status, 200);
    await mgmtOk(server, 204, 'DELETE', '/users/bob');
    await tokenError(await use(), 401, 'UNAUTHORIZED');
    await ociError(await server.request('/v2/hello-world/tags/list', { auth: { username: NULL_GUID, password: exchanged.refresh_token }, host: contoso }), 401, 'UNAUTHORIZED');
  });

  it('deleting a token revokes the refresh tokens its docker login obtained', async () => {
    const created = await mgmtOk<{ credentials: { passwords: { value: string }[] } }>(server, 201, 'POST', '/registries/contoso/tokens', { name: 'ci-token', scopeMapName: '_repositories_pull' });
    const login = await postForm(server, '/oauth2/token', {
      grant_type: 'password',
      username: 'ci-token',
      password: created.credentials.passwords[0]!.value,
      service: contoso,
      client_id: 'docker',
      access_type: 'offline',
    }, contoso);
    const { refresh_token: refresh } = (await login.json()) as TokenResponse;
    const use = () => postForm(server, '/oauth2/token', { grant_type: 'refresh_token', refresh_token: refresh!, service: contoso, scope: 'repository:hello-world:pull' }, contoso);
    assert.equal((await use()).status, 200);
    await mgmtOk(server, 204, 'DELETE', '/registries/contoso/tokens/ci-token');
    await tokenError(await use(), 401, 'UNAUTHORIZED');
  });

  it('a role removed: the next token request grants nothing', async () => {
    await createUser(server, 'carol', 'carol-password-1');
    const assignment = await assignRole(server, 'carol', 'AcrPush', '/registries/contoso');
    const carol = { username: 'carol', password: 'carol-password-1' };
    assert.deepEqual(granted((await accessToken(server, contoso, ['repository:carol/app:pull,push'], carol)).token), ['repository:carol/app:pull', 'repository:carol/app:push']);
    await mgmtOk(server, 204, 'DELETE', `/role-assignments/${assignment.id}`);
    const after = await accessToken(server, contoso, ['repository:carol/app:pull,push'], carol);
    assert.deepEqual(granted(after.token), []);
    await ociError(await server.request('/v2/carol/app/blobs/uploads/', { method: 'POST', auth: { bearer: after.token }, host: contoso }), 403, 'DENIED');
  });

  it('a tampered token, a token for another service, a refresh token used as an access token: 401', async () => {
    const token = (await accessToken(server, contoso, ['repository:hello-world:pull'], OWNER)).token;
    const [head, payload, signature] = token.split('.') as [string, string, string];
    const claims = jwtClaims(token);
    const widened = Buffer.from(JSON.stringify({ ...claims, access: [{ type: 'repository', name: 'hello-world', actions: ['pull', 'push', 'delete'] }] })).toString('base64url');
    for (const forged of [`${head}.${widened}.${signature}`, `${head}.${payload}.${signature.slice(0, -4)}AAAA`, `${head}.${payload}.`]) {
      await ociError(await server.request('/v2/hello-world/manifests/v1', { auth: { bearer: forged }, host: contoso }), 401, 'UNAUTHORIZED');
    }
    const port = portOf(server);
    const forLocalhost = (await accessToken(server, `localhost:${port}`, ['repository:hello-world:pull'], OWNER)).token;
    await ociError(await server.request('/v2/', { auth: { bearer: forLocalhost } }), 401, 'UNAUTHORIZED');
    const refresh = ((await (await requestToken(server, contoso, [], OWNER, '&offline_token=true')).json()) as TokenResponse).refresh_token!;
    await ociError(await server.request('/v2/', { auth: { bearer: refresh }, host: contoso }), 401, 'UNAUTHORIZED');
  });

  it('bad requests: 400 INVALID_REQUEST; bad credentials: 401 UNAUTHORIZED', async () => {
    const port = portOf(server);
    await tokenError(await postForm(server, '/oauth2/token', { grant_type: 'client_credentials', service: contoso }), 400, 'INVALID_REQUEST');
    await tokenError(await postForm(server, '/oauth2/token', { service: contoso }), 400, 'INVALID_REQUEST');
    await tokenError(await postForm(server, '/oauth2/token', { grant_type: 'password', service: contoso }), 400, 'INVALID_REQUEST');
    await tokenError(await requestToken(server, contoso, ['repository:Bad Name:pull'], OWNER), 400, 'INVALID_REQUEST');
    await tokenError(await requestToken(server, contoso, ['repository:x'], OWNER), 400, 'INVALID_REQUEST');
    await tokenError(await requestToken(server, contoso, ['unknown:x:pull'], OWNER), 400, 'INVALID_REQUEST');
    await tokenError(await server.request(`/oauth2/token?service=nosuchregistry.localhost:${port}`), 400, 'INVALID_REQUEST');
    await tokenError(await server.request('/oauth2/token?service=evil.example.com'), 400, 'INVALID_REQUEST');
    await tokenError(await requestToken(server, contoso, ['repository:hello-world:pull'], { username: 'alice', password: 'wrong' }), 401, 'UNAUTHORIZED');
    await tokenError(await requestToken(server, contoso, ['repository:hello-world:pull'], { username: 'nobody', password: 'x' }), 401, 'UNAUTHORIZED');
    await tokenError(await postForm(server, '/oauth2/token', { grant_type: 'password', username: 'alice', password: 'wrong', service: contoso }), 401, 'UNAUTHORIZED');
    await tokenError(await postForm(server, '/oauth2/token', { grant_type: 'refresh_token', refresh_token: 'not-a-token', service: contoso }), 401, 'UNAUTHORIZED');
    await tokenError(await requestToken(server, contoso, ['repository:hello-world:pull'], 'none'), 401, 'UNAUTHORIZED');
    await tokenError(await server.request(`/oauth2/token?service=${contoso}`, { headers: { authorization: 'Basic %%%' }, host: contoso }), 401, 'UNAUTHORIZED');
  });

  it('anonymous token requests get pull where anonymous pull is on', async () => {
    const publicRegistry = await createRegistry(server, 'publicregistry', { anonymousPullEnabled: true });
    const token = await accessToken(server, publicRegistry, ['repository:any/thing:pull,push'], 'none');
    assert.deepEqual(granted(token.token), ['repository:any/thing:pull']);
  });
});

describe('token lifetime and failed-login throttling', () => {
  let server: TestBerth;
  let contoso: string;

  before(async () => {
    server = await startTestBerth({ auth: { accessTokenSeconds: 1, throttle: { maxFailures: 3, windowSeconds: 60, lockoutSeconds: 2 } } });
    contoso = await createRegistry(server, 'contoso');
    await createUser(server, 'dave', 'dave-password-1');
    await assignRole(server, 'dave', 'AcrPull', '/registries/contoso');
  });
  after(() => server.close());

  it('an expired access token is refused with 401', async () => {
    const token = await accessToken(server, contoso, ['repository:x:pull'], OWNER);
    assert.equal((await server.request('/v2/', { auth: { bearer: token.token }, host: contoso })).status, 200);
    await sleep(2100);
    await ociError(await server.request('/v2/', { auth: { bearer: token.token }, host: contoso }), 401, 'UNAUTHORIZED');
  });

  it('repeated failures lock out that user name from that address (429 + Retry-After everywhere), then recover', async () => {
    const wrong = { username: 'dave', password: 'nope' };
    const right = { username: 'dave', password: 'dave-password-1' };
    for (let attempt = 0; attempt < 3; attempt++) {
      await tokenError(await requestToken(server, contoso, [], wrong), 401, 'UNAUTHORIZED');
    }
    const locked = await requestToken(server, contoso, ['repository:x:pull'], right);
    assert.ok(Number(locked.headers.get('retry-after')) >= 1);
    await tokenError(locked, 429, 'TOOMANYREQUESTS');
    const v2 = await server.request('/v2/', { auth: right, host: contoso });
    assert.ok(Number(v2.headers.get('retry-after')) >= 1);
    await ociError(v2, 429, 'TOOMANYREQUESTS');
    const management = await mgmt(server, 'GET', '/registries', undefined, right);
    assert.equal(management.status, 429);
    assert.match(management.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.ok(management.headers.get('retry-after'));

    assert.equal((await server.request('/v2/', { host: contoso })).status, 200, 'other user names are not locked out');
    await sleep(2200);
    assert.equal((await server.request('/v2/', { auth: right, host: contoso })).status, 200, 'recovered after the lockout');
  });
});
