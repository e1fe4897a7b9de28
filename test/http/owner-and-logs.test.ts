import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../../src/config/config.ts';
import { basicAuthorization } from '../../src/oauth/credentials.ts';
import { startBerth } from '../../src/server.ts';
import { OWNER, startTestBerth, type TestBerth } from '../helper.ts';
import { accessToken, assignRole, createRegistry, mgmtOk, postForm, requestToken, type TokenResponse } from '../helpers/identity.ts';
import { imageOf, pushImage } from '../helpers/oci-http.ts';
import { rawRequest } from '../helpers/http-request.ts';

/** A pino logger at trace level whose output is kept in memory. */
function capturingLogger(): { logger: pino.Logger; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: pino({ level: 'trace' }, stream), text: () => chunks.join('') };
}

describe('installation owner bootstrap', () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'berth-owner-'));
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  it('without BERTH_OWNER_PASSWORD a password is generated and printed once; a restart keeps it and prints nothing', async () => {
    const config = loadConfig({ listen: '127.0.0.1:0', data: dataDir, logLevel: 'silent' }, {});
    const printed: string[] = [];
    const first = await startBerth(config, { owner: { username: 'root-admin' }, announce: (line) => printed.push(line) });
    let password: string;
    try {
      assert.equal(printed.length, 1);
      const match = /^Installation owner created: username "root-admin", password "([^"]+)" \(shown once\)$/.exec(printed[0]!);
      assert.ok(match, printed[0]);
      password = match[1]!;
      assert.ok(password.length >= 20, 'a strong generated password');
      const response = await rawRequest(first.url, '/mgmt/v1/users/root-admin', { headers: { authorization: basicAuthorization('root-admin', password) } });
      const user = (await response.json()) as { owner: boolean };
      assert.equal(user.owner, true);
    } finally {
      await first.close();
    }
    const second = await startBerth(config, { owner: { username: 'root-admin' }, announce: (line) => printed.push(line) });
    try {
      assert.equal(printed.length, 1, 'nothing printed on the second start');
      const response = await rawRequest(second.url, '/v2/', { headers: { authorization: basicAuthorization('root-admin', password) } });
      assert.equal(response.status, 200);
    } finally {
      await second.close();
    }
  });
});

describe('secrets never reach the server log', () => {
  let server: TestBerth;
  let log: ReturnType<typeof capturingLogger>;

  before(async () => {
    log = capturingLogger();
    server = await startTestBerth({ logLevel: 'trace' }, { logger: log.logger });
  });
  after(() => server.close());

  it('logins, tokens, failures and created credentials leave no secret in the log', async () => {
    const contoso = await createRegistry(server, 'contoso');
    const secrets: string[] = [OWNER.password];
    await pushImage(server, 'app', 'v1', imageOf(), contoso);

    const user = await mgmtOk<{ password: string }>(server, 201, 'POST', '/users', { username: 'loguser' });
    secrets.push(user.password);
    await assignRole(server, 'loguser', 'AcrPush', '/registries/contoso');
    const sp = await mgmtOk<{ appId: string; password: string }>(server, 201, 'POST', '/service-principals', { name: 'log-sp' });
    secrets.push(sp.password);
    await mgmtOk(server, 200, 'PATCH', '/registries/contoso', { adminUserEnabled: true });
    const admin = await mgmtOk<{ passwords: { value?: string }[] }>(server, 200, 'POST', '/registries/contoso/credentials/renew', { name: 'password' });
    secrets.push(...admin.passwords.flatMap((entry) => (entry.value ? [entry.value] : [])));
    const token = await mgmtOk<{ credentials: { passwords: { value: string }[] } }>(server, 201, 'POST', '/registries/contoso/tokens', { name: 'log-token', scopeMapName: '_repositories_pull' });
    secrets.push(...token.credentials.passwords.map((entry) => entry.value));

    const access = await accessToken(server, contoso, ['repository:app:pull'], { username: 'loguser', password: user.password });
    secrets.push(access.token);
    const login = (await (
      await postForm(server, '/oauth2/token', { grant_type: 'password', username: 'loguser', password: user.password, service: contoso, access_type: 'offline', client_id: 'docker' }, contoso)
    ).json()) as TokenResponse;
    secrets.push(login.access_token, login.refresh_token!);
    const exchanged = (await (await postForm(server, '/oauth2/exchange', { grant_type: 'password', username: sp.appId, password: sp.password, service: contoso })).json()) as { refresh_token: string };
    secrets.push(exchanged.refresh_token);

    await server.request('/v2/app/manifests/v1', { auth: { bearer: access.token }, host: contoso });
    await server.request('/v2/app/manifests/v1', { auth: { username: 'log-token', password: token.credentials.passwords[0]!.value }, host: contoso });
    await server.request('/v2/app/manifests/v1', { auth: { username: 'loguser', password: 'wrong-Secret-Guess-1' }, host: contoso });
    await requestToken(server, contoso, ['repository:app:pull'], { username: 'loguser', password: 'wrong-Secret-Guess-2' });
    await postForm(server, '/oauth2/token', { grant_type: 'password', username: 'loguser', password: 'wrong-Secret-Guess-3', service: contoso });
    await server.request('/mgmt/v1/registries', { auth: { username: 'loguser', password: 'wrong-Secret-Guess-4' } });
    await server.request('/v2/', { headers: { authorization: `Bearer ${access.token}tampered` }, host: contoso });
    secrets.push('wrong-Secret-Guess-1', 'wrong-Secret-Guess-2', 'wrong-Secret-Guess-3', 'wrong-Secret-Guess-4');

    const text = log.text();
    assert.match(text, /Berth listening on http:\/\/127\.0\.0\.1:\d+"/);
    assert.doesNotMatch(text, /access is open/);
    for (const secret of secrets) assert.ok(!text.includes(secret), `the log contains a secret (${secret.slice(0, 6)}…)`);
    assert.ok(!text.includes(Buffer.from(`loguser:${user.password}`).toString('base64')), 'no Basic credentials');
    assert.doesNotMatch(text, /"authorization"/i);
    assert.match(text, /"user":"loguser".*"sign-in refused"/, 'refused sign-ins are logged with the user name');
  });
});
