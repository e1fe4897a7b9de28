import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestBerth, type TestBerth } from '../helper.ts';
import { startPostgres, type PostgresCluster } from '../helpers/postgres.ts';
import { assertError, imageOf, OCI_MANIFEST, pushImage, sha256 } from '../helpers/oci-http.ts';

describe('berth serve --database postgres://...', () => {
  let cluster: PostgresCluster;
  let server: TestBerth;
  before(async () => {
    cluster = await startPostgres();
    server = await startTestBerth({ database: cluster.url });
  });
  after(async () => {
    await server?.close();
    await cluster?.stop();
  });

  it('pushes, pulls, lists and deletes through PostgreSQL metadata', async () => {
    const port = new URL(server.url).port;
    const created = await server.request('/mgmt/v1/registries', { method: 'POST', body: JSON.stringify({ name: 'contoso' }), headers: { 'content-type': 'application/json' } });
    assert.equal(created.status, 201);
    const image = await pushImage(server, 'hello-world', 'v1', imageOf(), `contoso.localhost:${port}`);
    const get = await server.request('/v2/hello-world/manifests/v1', { host: `contoso.localhost:${port}`, headers: { accept: OCI_MANIFEST } });
    assert.equal(get.status, 200);
    assert.equal(get.headers.get('docker-content-digest'), image.digest);
    const layer = await server.request(`/v2/hello-world/blobs/${image.layers[0]!.digest}`, { host: `contoso.localhost:${port}` });
    assert.equal(sha256(Buffer.from(await layer.arrayBuffer())), image.layers[0]!.digest);
    assert.deepEqual(await (await server.request('/v2/hello-world/tags/list', { host: `contoso.localhost:${port}` })).json(), { name: 'hello-world', tags: ['v1'] });
    await assertError(await server.request('/v2/hello-world/tags/list'), 404, 'NAME_UNKNOWN');
    assert.equal((await server.request(`/v2/hello-world/manifests/${image.digest}`, { method: 'DELETE', host: `contoso.localhost:${port}` })).status, 202);
    await assertError(await server.request('/v2/hello-world/manifests/v1', { host: `contoso.localhost:${port}` }), 404, 'MANIFEST_UNKNOWN');
  });
});
