import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { OWNER, startTestBerth, type TestBerth } from '../helper.ts';
import { assertError, imageOf, pushImage, randomBlob } from '../helpers/oci-http.ts';
import { storedBlobs } from '../helpers/stored-blobs.ts';

const run = promisify(execFile);
const berthBin = path.resolve(import.meta.dirname, '../../bin/berth.js');

async function countStored(server: TestBerth): Promise<number> {
  return (await storedBlobs(server.dataDir)).length;
}

describe('many registries in one process', () => {
  let server: TestBerth;
  before(async () => {
    server = await startTestBerth();
    for (const name of ['contoso', 'baseartifacts']) {
      const response = await server.request('/mgmt/v1/registries', { method: 'POST', body: JSON.stringify({ name }), headers: { 'content-type': 'application/json' } });
      assert.equal(response.status, 201);
    }
  });
  after(() => server.close());

  it('routes by Host: repositories, tags and catalog never leak between registries', async () => {
    const port = new URL(server.url).port;
    const contoso = `contoso.localhost:${port}`;
    const base = `baseartifacts.localhost:${port}`;
    await pushImage(server, 'hello-world', 'v1', imageOf(), contoso);
    await pushImage(server, 'node', '15-alpine', imageOf(), base);
    assert.equal((await server.request('/v2/hello-world/manifests/v1', { host: contoso })).status, 200);
    await assertError(await server.request('/v2/hello-world/manifests/v1', { host: base }), 404, 'MANIFEST_UNKNOWN');
    await assertError(await server.request('/v2/hello-world/manifests/v1'), 404, 'MANIFEST_UNKNOWN');
    await assertError(await server.request('/v2/hello-world/tags/list', { host: base }), 404, 'NAME_UNKNOWN');
    assert.deepEqual(await (await server.request('/v2/_catalog', { host: contoso })).json(), { repositories: ['hello-world'] });
    assert.deepEqual(await (await server.request('/v2/_catalog', { host: base })).json(), { repositories: ['node'] });
    assert.deepEqual(await (await server.request('/v2/_catalog')).json(), { repositories: [] });
  });

  it('a host naming an unknown registry is NAME_UNKNOWN; other hosts reach the default registry', async () => {
    const port = new URL(server.url).port;
    await assertError(await server.request('/v2/_catalog', { host: `nosuchregistry.localhost:${port}` }), 404, 'NAME_UNKNOWN');
    assert.equal((await server.request('/v2/', { host: `localhost:${port}` })).status, 200);
    assert.equal((await server.request('/v2/', { host: `default.localhost:${port}` })).status, 200);
  });

  it('blob bytes are stored once even when several registries hold them', async () => {
    const port = new URL(server.url).port;
    const layer = randomBlob(100_000);
    const before = await countStored(server);
    await pushImage(server, 'shared', 'v1', imageOf({ layers: [layer] }), `contoso.localhost:${port}`);
    const afterFirst = await countStored(server);
    await pushImage(server, 'shared', 'v1', imageOf({ layers: [layer] }), `baseartifacts.localhost:${port}`);
    const afterSecond = await countStored(server);
    assert.equal(afterFirst - before, 2, 'config and layer');
    assert.equal(afterSecond - afterFirst, 1, 'only the new config; the layer is shared');
  });

  it('the management API creates, lists, shows and deletes registries', async () => {
    const port = new URL(server.url).port;
    const created = await server.request('/mgmt/v1/registries', { method: 'POST', body: JSON.stringify({ name: 'publicregistry' }), headers: { 'content-type': 'application/json' } });
    assert.equal(created.status, 201);
    const shown = (await (await server.request('/mgmt/v1/registries/publicregistry')).json()) as Record<string, unknown>;
    assert.equal(shown.id, '/registries/publicregistry');
    assert.equal(shown.loginServer, `publicregistry.localhost:${port}`);
    assert.equal(shown.adminUserEnabled, false);
    assert.match(String(shown.creationDate), /^\d{4}-\d{2}-\d{2}T/);
    const listed = (await (await server.request('/mgmt/v1/registries')).json()) as { value: { name: string }[] };
    assert.deepEqual(listed.value.map((entry) => entry.name).sort(), ['baseartifacts', 'contoso', 'default', 'publicregistry']);

    const duplicate = await server.request('/mgmt/v1/registries', { method: 'POST', body: JSON.stringify({ name: 'publicregistry' }), headers: { 'content-type': 'application/json' } });
    assert.equal(duplicate.status, 409);
    assert.match(duplicate.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const invalid = await server.request('/mgmt/v1/registries', { method: 'POST', body: JSON.stringify({ name: 'Bad_Name' }), headers: { 'content-type': 'application/json' } });
    assert.equal(invalid.status, 400);
    assert.match(((await invalid.json()) as { detail: string }).detail, /5 to 50/);

    await pushImage(server, 'gone', 'v1', imageOf(), `publicregistry.localhost:${port}`);
    assert.equal((await server.request('/mgmt/v1/registries/publicregistry', { method: 'DELETE' })).status, 204);
    assert.equal((await server.request('/mgmt/v1/registries/publicregistry')).status, 404);
    await assertError(await server.request('/v2/gone/tags/list', { host: `publicregistry.localhost:${port}` }), 404, 'NAME_UNKNOWN');
    assert.equal((await server.request('/mgmt/v1/registries/default', { method: 'DELETE' })).status, 400, 'the default registry stays');
  });

  it('berth create|list|show|delete -n work against BERTH_SERVER', async () => {
    const env = { ...process.env, BERTH_SERVER: server.url, BERTH_USERNAME: OWNER.username, BERTH_PASSWORD: OWNER.password };
    const created = JSON.parse((await run('node', [berthBin, 'create', '-n', 'clitest1'], { env })).stdout) as { name: string; loginServer: string };
    assert.equal(created.name, 'clitest1');
    const shown = JSON.parse((await run('node', [berthBin, 'show', '-n', 'clitest1'], { env })).stdout) as { id: string };
    assert.equal(shown.id, '/registries/clitest1');
    const tsv = (await run('node', [berthBin, 'list', '-o', 'tsv'], { env })).stdout;
    assert.match(tsv, /^\/registries\/clitest1\tclitest1\t/m);
    await run('node', [berthBin, 'delete', '-n', 'clitest1', '--yes'], { env });
    await assert.rejects(run('node', [berthBin, 'show', '-n', 'clitest1'], { env }), (error: { stderr: string; code: number }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr, /registry clitest1 does not exist/);
      return true;
    });
  });
});
