/**
 * Upload sessions as a client sees them: a new session stores nothing until its first bytes, a
 * finished or cancelled one is unknown from then on, and both kinds survive a restart.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.ts';
import { basicAuthorization } from '../../src/oauth/credentials.ts';
import { startBerth, type Berth } from '../../src/server.ts';
import { OWNER, startTestBerth, type TestBerth } from '../helper.ts';
import { rawRequest } from '../helpers/http-request.ts';
import { assertError, blobOf, randomBlob } from '../helpers/oci-http.ts';

async function uploadFiles(dataDir: string): Promise<string[]> {
  try {
    return await readdir(path.join(dataDir, 'storage', 'uploads'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

describe('upload sessions', () => {
  let server: TestBerth;
  before(async () => {
    server = await startTestBerth();
  });
  after(() => server.close());

  async function open(repo: string): Promise<string> {
    const response = await server.request(`/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    assert.equal(response.status, 202);
    return response.headers.get('location') ?? '';
  }

  it('a new session stores nothing until its first bytes; a small blob sent whole never does', async () => {
    const before = await uploadFiles(server.dataDir);
    const location = await open('sessions/lazy');
    assert.deepEqual(await uploadFiles(server.dataDir), before);
    const status = await server.request(location);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), '0-0');
    const blob = randomBlob(2000);
    const put = await server.request(`${location}?digest=${blob.digest}`, { method: 'PUT', body: blob.data });
    assert.equal(put.status, 201);
    assert.deepEqual(await uploadFiles(server.dataDir), before);
    const get = await server.request(`/v2/sessions/lazy/blobs/${blob.digest}`);
    assert.deepEqual(Buffer.from(await get.arrayBuffer()), blob.data);
  });

  it('the first PATCH stores the bytes; the session then reports them', async () => {
    const location = await open('sessions/patched');
    const blob = randomBlob(100_000);
    const patch = await server.request(location, { method: 'PATCH', body: blob.data.subarray(0, 60_000), headers: { 'content-range': '0-59999' } });
    assert.equal(patch.status, 202);
    assert.equal(patch.headers.get('range'), '0-59999');
    assert.equal((await server.request(location)).headers.get('range'), '0-59999');
    const put = await server.request(`${location}?digest=${blob.digest}`, { method: 'PUT', body: blob.data.subarray(60_000) });
    assert.equal(put.status, 201);
  });

  it('a PUT without a body on a new session is the empty blob', async () => {
    const empty = blobOf('');
    const location = await open('sessions/empty');
    await assertError(await server.request(`${location}?digest=${randomBlob(1).digest}`, { method: 'PUT' }), 400, 'DIGEST_INVALID');
    const put = await server.request(`${location}?digest=${empty.digest}`, { method: 'PUT' });
    assert.equal(put.status, 201, 'a refused digest leaves the session open');
    assert.equal((await server.request(`/v2/sessions/empty/blobs/${empty.digest}`, { method: 'HEAD' })).headers.get('content-length'), '0');
  });

  it('a first chunk that does not start at 0 is refused with the range the session has', async () => {
    const location = await open('sessions/order');
    const response = await server.request(location, { method: 'PATCH', body: 'abc', headers: { 'content-range': '5-7' } });
    await assertError(response, 416, 'BLOB_UPLOAD_INVALID');
    assert.equal((await server.request(location)).status, 204);
  });

  for (const [label, size] of [
    ['a small blob', 500],
    ['a blob in the blob store', 50_000],
  ] as const) {
    it(`a finished session is unknown afterwards (${label})`, async () => {
      const blob = randomBlob(size);
      const location = await open('sessions/finished');
      assert.equal((await server.request(`${location}?digest=${blob.digest}`, { method: 'PUT', body: blob.data })).status, 201);
      await assertError(await server.request(location), 404, 'BLOB_UPLOAD_UNKNOWN');
      await assertError(await server.request(location, { method: 'PATCH', body: 'more' }), 404, 'BLOB_UPLOAD_UNKNOWN');
      await assertError(await server.request(`${location}?digest=${blob.digest}`, { method: 'PUT', body: blob.data }), 404, 'BLOB_UPLOAD_UNKNOWN');
      await assertError(await server.request(location, { method: 'DELETE' }), 404, 'BLOB_UPLOAD_UNKNOWN');
    });
  }

  it('a cancelled session with bytes is unknown afterwards, and its bytes are gone', async () => {
    const before = await uploadFiles(server.dataDir);
    const location = await open('sessions/cancelled');
    await server.request(location, { method: 'PATCH', body: randomBlob(1000).data });
    assert.equal((await uploadFiles(server.dataDir)).length, before.length + 1);
    assert.equal((await server.request(location, { method: 'DELETE' })).status, 204);
    assert.deepEqual(await uploadFiles(server.dataDir), before);
    await assertError(await server.request(location), 404, 'BLOB_UPLOAD_UNKNOWN');
    await assertError(await server.request(location, { method: 'PATCH', body: 'x' }), 404, 'BLOB_UPLOAD_UNKNOWN');
  });
});

describe('upload sessions across a restart', () => {
  let dataDir: string;
  let berth: Berth | undefined;
  const authorization = basicAuthorization(OWNER.username, OWNER.password);

  async function start(): Promise<Berth> {
    berth = await startBerth(loadConfig({ listen: '127.0.0.1:0', data: dataDir, logLevel: 'warn' }, {}), { owner: OWNER });
    return berth;
  }

  function request(target: Berth, pathname: string, init: { method?: string; body?: Buffer } = {}): Promise<Response> {
    return rawRequest(target.url, pathname, { ...init, headers: { authorization } });
  }

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'berth-sessions-'));
  });
  after(async () => {
    await berth?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('sessions with and without bytes carry on after a restart; finished ones stay finished', async () => {
    const first = await start();
    const open = async () => (await request(first, '/v2/restart/app/blobs/uploads/', { method: 'POST' })).headers.get('location')!;
    const empty = await open();
    const partial = await open();
    const finished = await open();
    const big = randomBlob(80_000);
    const small = randomBlob(300);
    assert.equal((await request(first, partial, { method: 'PATCH', body: big.data.subarray(0, 30_000) })).status, 202);
    assert.equal((await request(first, `${finished}?digest=${small.digest}`, { method: 'PUT', body: small.data })).status, 201);
    await first.close();
    berth = undefined;

    const second = await start();
    assert.equal((await request(second, empty)).headers.get('range'), '0-0');
    assert.equal((await request(second, partial)).headers.get('range'), '0-29999');
    await assertError(await request(second, finished), 404, 'BLOB_UPLOAD_UNKNOWN');
    const other = randomBlob(700);
    assert.equal((await request(second, `${empty}?digest=${other.digest}`, { method: 'PUT', body: other.data })).status, 201);
    assert.equal((await request(second, `${partial}?digest=${big.digest}`, { method: 'PUT', body: big.data.subarray(30_000) })).status, 201);
    for (const blob of [big, small, other]) {
      const get = await request(second, `/v2/restart/app/blobs/${blob.digest}`);
      assert.deepEqual(Buffer.from(await get.arrayBuffer()), blob.data);
    }
  });
});
