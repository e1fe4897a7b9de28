import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { OWNER, startTestBerth, type TestBerth } from '../helper.ts';
import { accessToken, as, assignRole, createRegistry, createUser, loginServer, ociError, portOf } from '../helpers/identity.ts';
import { imageOf, pushImage } from '../helpers/oci-http.ts';

/** Sends raw bytes on a fresh connection and returns what comes back until the server closes it. */
function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    // The server may answer and close before it has read everything sent.
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' || error.code === 'EPIPE' ? undefined : reject(error)));
    socket.end(request);
  });
}

describe('/v2/ authentication: challenges, credentials and denials', () => {
  let server: TestBerth;
  let port: string;
  let contoso: string;
  let base: string;

  before(async () => {
    server = await startTestBerth();
    port = portOf(server);
    contoso = await createRegistry(server, 'contoso');
    base = await createRegistry(server, 'baseartifacts');
    await pushImage(server, 'hello-world', 'v1', imageOf(), contoso);
    await pushImage(server, 'secret/app', 'v1', imageOf(), contoso);
    await createUser(server, 'alice', 'alice-password-1');
    await assignRole(server, 'alice', 'AcrPull', '/registries/contoso/repositories/hello-world');
  });
  after(() => server.close());

  it('GET /v2/ without credentials: 401 with the Bearer challenge of the login server and no scope', async () => {
    const response = await server.request('/v2/', { auth: 'none', host: contoso });
    assert.equal(response.headers.get('www-authenticate'), `Bearer realm="http://${contoso}/oauth2/token",service="${contoso}"`);
    const body = await ociError(response, 401, 'UNAUTHORIZED');
    assert.equal(body.errors[0]!.message, 'authentication required');
    assert.equal(response.headers.get('docker-distribution-api-version'), 'registry/2.0');
  });

  it('the default registry is challenged under the Host the client used', async () => {
    const response = await server.request('/v2/', { auth: 'none' });
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('www-authenticate'), `Bearer realm="http://127.0.0.1:${port}/oauth2/token",service="127.0.0.1:${port}"`);
  });

  it('each route names the scope it needs: pull, pull,push, delete, registry:catalog:*', async () => {
    const cases: [string, string, string, { Type: string; Name: string; Action: string }[]][] = [
      ['GET', '/v2/hello-world/manifests/v1', 'repository:hello-world:pull', [{ Type: 'repository', Name: 'hello-world', Action: 'pull' }]],
      ['GET', '/v2/hello-world/tags/list', 'repository:hello-world:pull', [{ Type: 'repository', Name: 'hello-world', Action: 'pull' }]],
      [
        'POST',
        '/v2/hello-world/blobs/uploads/',
        'repository:hello-world:pull,push',
        [
          { Type: 'repository', Name: 'hello-world', Action: 'pull' },
          { Type: 'repository', Name: 'hello-world', Action: 'push' },
        ],
      ],
      ['DELETE', '/v2/hello-world/manifests/v1', 'repository:hello-world:delete', [{ Type: 'repository', Name: 'hello-world', Action: 'delete' }]],
      ['GET', '/v2/_catalog', 'registry:catalog:*', [{ Type: 'registry', Name: 'catalog', Action: '*' }]],
    ];
    for (const [method, path, scope, detail] of cases) {
      const response = await server.request(path, { method, auth: 'none', host: contoso });
      assert.equal(response.headers.get('www-authenticate'), `Bearer realm="http://${contoso}/oauth2/token",service="${contoso}",scope="${scope}"`, `${method} ${path}`);
      const body = await ociError(response, 401, 'UNAUTHORIZED');
      assert.deepEqual(body.errors[0]!.detail, detail);
    }
  });

  it('HEAD without credentials: 401 with the challenge and no body', async () => {
    const response = await server.request('/v2/hello-world/manifests/v1', { method: 'HEAD', auth: 'none', host: contoso });
    assert.equal(response.status, 401);
    assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer realm=/);
    assert.equal((await response.arrayBuffer()).byteLength, 0);
  });

  it('Basic credentials directly on /v2/ are accepted (curl -u owner:<password>)', async () => {
    assert.equal((await server.request('/v2/', { host: contoso })).status, 200);
    assert.equal((await server.request('/v2/hello-world/manifests/v1', { host: contoso })).status, 200);
  });

  it('a wrong password, an unknown user, or another registry admin name: 401 and nothing else', async () => {
    for (const auth of [
      { username: OWNER.username, password: 'wrong' },
      { username: 'nobody', password: 'whatever' },
      { username: 'baseartifacts', password: 'guess' },
    ]) {
      const response = await server.request('/v2/hello-world/manifests/v1', { auth, host: contoso });
      assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer realm="http:\/\/contoso\.localhost:\d+\/oauth2\/token",service="contoso\.localhost:\d+",scope="repository:hello-world:pull"$/);
      const body = await ociError(response, 401, 'UNAUTHORIZED');
      assert.equal(body.errors[0]!.message, 'authentication required');
    }
  });

  it('malformed Authorization headers: 401 UNAUTHORIZED', async () => {
    const headers = [
      'Basic',
      'Basic !!!not-base64!!!',
      `Basic ${Buffer.from('no-colon-here').toString('base64')}`,
      `Basic ${Buffer.from(':empty-user').toString('base64')}`,
      `Basic ${Buffer.from('user:').toString('base64')}`,
      `Basic ${Buffer.from('user:pass\u0000word').toString('base64')}`,
      'Bearer',
      'Bearer a b',
      'Bearer not.a.jwt',
      'Digest username="owner"',
      'owner:password',
    ];
    for (const authorization of headers) {
      const response = await server.request('/v2/hello-world/tags/list', { headers: { authorization }, host: contoso });
      await ociError(response, 401, 'UNAUTHORIZED');
    }
  });

  it('enormous headers: a 9 KiB Authorization is 401; a 100 KiB header is refused (431) and the server carries on', async () => {
    const long = await server.request('/v2/', { headers: { authorization: `Bearer ${'a'.repeat(9 * 1024)}` }, host: contoso });
    await ociError(long, 401, 'UNAUTHORIZED');
    const basic = await server.request('/v2/', { headers: { authorization: `Basic ${Buffer.from(`owner:${'x'.repeat(7000)}`).toString('base64')}` }, host: contoso });
    await ociError(basic, 401, 'UNAUTHORIZED');
    const huge = await rawExchange(Number(port), `GET /v2/ HTTP/1.1\r\nHost: ${contoso}\r\nAuthorization: Bearer ${'a'.repeat(100 * 1024)}\r\nConnection: close\r\n\r\n`);
    assert.match(huge, /^HTTP\/1\.1 431 /);
    assert.equal((await server.request('/v2/', { host: contoso })).status, 200, 'still serving');
  });

  it('an authenticated caller who may not gets 403 DENIED, the same for existing and missing repositories', async () => {
    const alice = as(server, { username: 'alice', password: 'alice-password-1' });
    assert.equal((await alice.request('/v2/hello-world/manifests/v1', { host: contoso })).status, 200);
    const bodies: string[] = [];
    for (const path of ['/v2/secret/app/manifests/v1', '/v2/does/not/exist/manifests/v1', '/v2/secret/app/tags/list', '/v2/never/tags/list']) {
      const response = await alice.request(path, { host: contoso });
      const body = await ociError(response, 403, 'DENIED');
      assert.equal(body.errors[0]!.message, 'requested access to the resource is denied');
      bodies.push(JSON.stringify(body));
    }
    assert.equal(new Set(bodies).size, 1, 'the answers do not tell which repositories exist');
    await ociError(await alice.request('/v2/hello-world/blobs/uploads/', { method: 'POST', host: contoso }), 403, 'DENIED');
    await ociError(await alice.request('/v2/_catalog', { host: contoso }), 403, 'DENIED');
    await ociError(await alice.request('/v2/hello-world/manifests/v1', { host: base }), 403, 'DENIED');
    assert.equal((await alice.request('/v2/', { host: base })).status, 200, 'GET /v2/ only needs valid credentials');
  });

  it('a bearer token works on its registry only, and only for the scope it grants', async () => {
    const token = await accessToken(server, contoso, ['repository:hello-world:pull'], OWNER);
    const bearer = as(server, { bearer: token.token });
    assert.equal((await bearer.request('/v2/', { host: contoso })).status, 200);
    assert.equal((await bearer.request('/v2/hello-world/manifests/v1', { host: contoso })).status, 200);

    const otherRegistry = await bearer.request('/v2/hello-world/manifests/v1', { host: base });
    await ociError(otherRegistry, 401, 'UNAUTHORIZED');
    assert.match(otherRegistry.headers.get('www-authenticate') ?? '', /error="invalid_token"/);

    const wider = await bearer.request('/v2/secret/app/manifests/v1', { host: contoso });
    assert.match(wider.headers.get('www-authenticate') ?? '', /scope="repository:secret\/app:pull",error="insufficient_scope"$/);
    await ociError(wider, 401, 'UNAUTHORIZED');
  });

  it('a cross-repository mount needs pull on the source; without it the push starts a plain upload', async () => {
    await assignRole(server, 'alice', 'AcrPush', '/registries/contoso/repositories/alice/*');
    const alice = as(server, { username: 'alice', password: 'alice-password-1' });
    const secretManifest = await server.request('/v2/secret/app/manifests/v1', { host: contoso, headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    const layer = (JSON.parse(await secretManifest.text()) as { layers: { digest: string }[] }).layers[0]!.digest;
    const fromSecret = await alice.request(`/v2/alice/app/blobs/uploads/?mount=${layer}&from=secret/app`, { method: 'POST', host: contoso });
    assert.equal(fromSecret.status, 202, 'not mounted');
    const anywhere = await alice.request(`/v2/alice/app/blobs/uploads/?mount=${layer}`, { method: 'POST', host: contoso });
    assert.equal(anywhere.status, 202, 'not mounted without from either');
    await ociError(await alice.request(`/v2/alice/app/blobs/${layer}`, { host: contoso }), 404, 'BLOB_UNKNOWN');
    const helloManifest = await server.request('/v2/hello-world/manifests/v1', { host: contoso, headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    const helloLayer = (JSON.parse(await helloManifest.text()) as { layers: { digest: string }[] }).layers[0]!.digest;
    const permitted = await alice.request(`/v2/alice/app/blobs/uploads/?mount=${helloLayer}&from=hello-world`, { method: 'POST', host: contoso });
    assert.equal(permitted.status, 201, 'mounted from a repository alice may pull');
  });

  it("a mount's challenge also names pull on its source, and the token a client fetches for it mounts", async () => {
    const helloManifest = await server.request('/v2/hello-world/manifests/v1', { host: contoso, headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    const layer = (JSON.parse(await helloManifest.text()) as { layers: { digest: string }[] }).layers[0]!.digest;
    const mountPath = `/v2/copies/app/blobs/uploads/?mount=${layer}&from=hello-world`;
    const challenged = await server.request(mountPath, { method: 'POST', auth: 'none', host: contoso });
    const scope = 'repository:copies/app:pull,push repository:hello-world:pull';
    assert.equal(challenged.headers.get('www-authenticate'), `Bearer realm="http://${contoso}/oauth2/token",service="${contoso}",scope="${scope}"`);
    const body = await ociError(challenged, 401, 'UNAUTHORIZED');
    assert.deepEqual(body.errors[0]!.detail, [
      { Type: 'repository', Name: 'copies/app', Action: 'pull' },
      { Type: 'repository', Name: 'copies/app', Action: 'push' },
      { Type: 'repository', Name: 'hello-world', Action: 'pull' },
    ]);
    const narrow = await accessToken(server, contoso, ['repository:copies/app:pull,push'], OWNER);
    const plain = await as(server, { bearer: narrow.token }).request(mountPath, { method: 'POST', host: contoso });
    assert.equal(plain.status, 202, 'a token without pull on the source starts a plain upload');
    const wide = await accessToken(server, contoso, [scope], OWNER);
    const mounted = await as(server, { bearer: wide.token }).request(mountPath, { method: 'POST', host: contoso });
    assert.equal(mounted.status, 201, 'mounted with the token the challenge asked for');
    assert.equal(mounted.headers.get('docker-content-digest'), layer);
    const withoutFrom = await server.request(`/v2/copies/app/blobs/uploads/?mount=${layer}`, { method: 'POST', auth: 'none', host: contoso });
    assert.match(withoutFrom.headers.get('www-authenticate') ?? '', /scope="repository:copies\/app:pull,push"$/);
  });

  it('anonymous pull, when enabled, admits anonymous GET /v2/ and pulls, but nothing more', async () => {
    const publicRegistry = await createRegistry(server, 'publicregistry', { anonymousPullEnabled: true });
    await pushImage(server, 'open/app', 'v1', imageOf(), publicRegistry);
    assert.equal((await server.request('/v2/', { auth: 'none', host: publicRegistry })).status, 200);
    assert.equal((await server.request('/v2/open/app/manifests/v1', { auth: 'none', host: publicRegistry })).status, 200);
    assert.equal((await server.request('/v2/open/app/tags/list', { auth: 'none', host: publicRegistry })).status, 200);
    await ociError(await server.request('/v2/open/app/blobs/uploads/', { method: 'POST', auth: 'none', host: publicRegistry }), 401, 'UNAUTHORIZED');
    await ociError(await server.request('/v2/open/app/manifests/v1', { method: 'DELETE', auth: 'none', host: publicRegistry }), 401, 'UNAUTHORIZED');
    await ociError(await server.request('/v2/_catalog', { auth: 'none', host: publicRegistry }), 401, 'UNAUTHORIZED');
    await ociError(await server.request('/v2/hello-world/manifests/v1', { auth: 'none', host: contoso }), 401, 'UNAUTHORIZED');
    assert.equal(loginServer(server, 'publicregistry'), publicRegistry);
  });
});
