import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { startTestBerth, type TestBerth } from '../helper.ts';
import { assertError, blobOf, pushBlob, randomBlob, sha256 } from '../helpers/oci-http.ts';

/** The upload files the server keeps (sessions that have received bytes). */
async function uploadFiles(dataDir: string): Promise<string[]> {
  try {
    return await readdir(path.join(dataDir, 'storage', 'uploads'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

describe('uploads: /v2/<name>/blobs/uploads/', () => {
  let server: TestBerth;
  before(async () => {
    server = await startTestBerth();
  });
  after(() => server.close());

  async function open(repo: string): Promise<string> {
    const response = await server.request(`/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    assert.equal(response.status, 202);
    assert.match(response.headers.get('docker-upload-uuid') ?? '', /^[0-9a-f-]{36}-[A-Za-z0-9_-]{22}$/);
    assert.equal(response.headers.get('range'), '0-0');
    return response.headers.get('location') ?? '';
  }

  it('monolithic POST ?digest= stores the blob (201, Location, digest)', async () => {
    const blob = randomBlob(4096);
    const response = await server.request(`/v2/mono/blobs/uploads/?digest=${blob.digest}`, { method: 'POST', body: blob.data, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(response.status, 201);
    assert.equal(response.headers.get('location'), `/v2/mono/blobs/${blob.digest}`);
    assert.equal(response.headers.get('docker-content-digest'), blob.digest);
    assert.equal((await server.request(`/v2/mono/blobs/${blob.digest}`, { method: 'HEAD' })).status, 200);
  });

  it('a new session announces OCI-Chunk-Min-Length (1 MiB), and chunks below it are still accepted', async () => {
    const opened = await server.request('/v2/chunkmin/blobs/uploads/', { method: 'POST' });
    assert.equal(opened.status, 202);
    assert.equal(opened.headers.get('oci-chunk-min-length'), String(1024 * 1024));
    const blob = randomBlob(2000);
    const location = opened.headers.get('location') ?? '';
    const chunk = await server.request(location, { method: 'PATCH', body: blob.data.subarray(0, 1000), headers: { 'content-range': '0-999' } });
    assert.equal(chunk.status, 202);
    assert.equal(chunk.headers.get('oci-chunk-min-length'), null, 'announced when the session opens only');
    const done = await server.request(`${location}?digest=${blob.digest}`, { method: 'PUT', body: blob.data.subarray(1000), headers: { 'content-range': '1000-1999' } });
    assert.equal(done.status, 201);
    const monolithic = randomBlob(10);
    const created = await server.request(`/v2/chunkmin/blobs/uploads/?digest=${monolithic.digest}`, { method: 'POST', body: monolithic.data });
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('oci-chunk-min-length'), null, 'nothing to announce when no session opens');
  });

  it('monolithic POST with a wrong digest is DIGEST_INVALID and stores nothing', async () => {
    const blob = randomBlob(100);
    const wrong = sha256('other');
    await assertError(await server.request(`/v2/mono/blobs/uploads/?digest=${wrong}`, { method: 'POST', body: blob.data }), 400, 'DIGEST_INVALID');
    await assertError(await server.request(`/v2/mono/blobs/${wrong}`), 404, 'BLOB_UNKNOWN');
    await assertError(await server.request(`/v2/mono/blobs/${blob.digest}`), 404, 'BLOB_UNKNOWN');
  });

  it('chunked PATCHes with Content-Range, status GET, then PUT', async () => {
    const blob = randomBlob(300_000);
    const location = await open('chunked');
    const first = await server.request(location, { method: 'PATCH', body: blob.data.subarray(0, 100_000), headers: { 'content-range': '0-99999', 'content-type': 'application/octet-stream' } });
    assert.equal(first.status, 202);
    assert.equal(first.headers.get('range'), '0-99999');
    const status = await server.request(location);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), '0-99999');
    assert.equal(status.headers.get('location'), location);

    const replay = await server.request(location, { method: 'PATCH', body: blob.data.subarray(0, 100_000), headers: { 'content-range': '0-99999' } });
    assert.equal(replay.status, 416, 'out-of-order chunk is refused');
    assert.equal(replay.headers.get('range'), '0-99999');

    const second = await server.request(location, { method: 'PATCH', body: blob.data.subarray(100_000, 200_000), headers: { 'content-range': '100000-199999' } });
    assert.equal(second.status, 202);
    const done = await server.request(`${location}?digest=${blob.digest}`, { method: 'PUT', body: blob.data.subarray(200_000), headers: { 'content-range': '200000-299999' } });
    assert.equal(done.status, 201);
    assert.equal(done.headers.get('docker-content-digest'), blob.digest);
    const get = await server.request(`/v2/chunked/blobs/${blob.digest}`);
    assert.equal(sha256(Buffer.from(await get.arrayBuffer())), blob.digest);
    await assertError(await server.request(location), 404, 'BLOB_UPLOAD_UNKNOWN');
  });

  it('a streamed PATCH without Content-Range, then PUT without a body', async () => {
    const blob = randomBlob(200_000);
    const location = await open('streamed');
    assert.equal((await server.request(location, { method: 'PATCH', body: blob.data })).status, 202);
    const done = await server.request(`${location}?digest=${blob.digest}`, { method: 'PUT' });
    assert.equal(done.status, 201);
  });

  it('a chunk whose length differs from Content-Range is refused and undone', async () => {
    const blob = randomBlob(1000);
    const location = await open('short');
    await assertError(await server.request(location, { method: 'PATCH', body: blob.data.subarray(0, 500), headers: { 'content-range': '0-999' } }), 400, 'BLOB_UPLOAD_INVALID');
    assert.equal((await server.request(location)).headers.get('range'), '0-0');
    assert.equal((await server.request(location, { method: 'PATCH', body: blob.data, headers: { 'content-range': '0-999' } })).status, 202);
    assert.equal((await server.request(`${location}?digest=${blob.digest}`, { method: 'PUT' })).status, 201);
  });

  it('PUT with a mismatching digest is DIGEST_INVALID; without digest too', async () => {
    const blob = randomBlob(100);
    const location = await open('badput');
    await server.request(location, { method: 'PATCH', body: blob.data });
    await assertError(await server.request(`${location}?digest=${sha256('nope')}`, { method: 'PUT' }), 400, 'DIGEST_INVALID');
    await assertError(await server.request(location, { method: 'PUT' }), 400, 'DIGEST_INVALID');
    await assertError(await server.request(`/v2/badput/blobs/${sha256('nope')}`), 404, 'BLOB_UNKNOWN');
    assert.equal((await server.request(`${location}?digest=${blob.digest}`, { method: 'PUT' })).status, 201, 'the session is still usable');
  });

  it('sha512 digests are accepted', async () => {
    const blob = randomBlob(5000);
    const digest = `sha512:${createHash('sha512').update(blob.data).digest('hex')}`;
    const location = await open('sha512');
    const done = await server.request(`${location}?digest=${digest}`, { method: 'PUT', body: blob.data });
    assert.equal(done.status, 201);
    const get = await server.request(`/v2/sha512/blobs/${digest}`);
    assert.equal(get.status, 200);
    assert.deepEqual(Buffer.from(await get.arrayBuffer()), blob.data);
  });

  it('DELETE cancels a session (204), then it is BLOB_UPLOAD_UNKNOWN', async () => {
    const location = await open('cancel');
    assert.equal((await server.request(location, { method: 'DELETE' })).status, 204);
    await assertError(await server.request(location), 404, 'BLOB_UPLOAD_UNKNOWN');
    await assertError(await server.request(location, { method: 'PATCH', body: 'x' }), 404, 'BLOB_UPLOAD_UNKNOWN');
    await assertError(await server.request(location, { method: 'DELETE' }), 404, 'BLOB_UPLOAD_UNKNOWN');
  });

  it('unknown or malformed session ids are BLOB_UPLOAD_UNKNOWN; sessions are bound to their repository', async () => {
    await assertError(await server.request('/v2/x/blobs/uploads/00000000-0000-0000-0000-000000000000'), 404, 'BLOB_UPLOAD_UNKNOWN');
    await assertError(await server.request(`/v2/x/blobs/uploads/00000000-0000-0000-0000-000000000000-${'A'.repeat(22)}`), 404, 'BLOB_UPLOAD_UNKNOWN');
    await assertError(await server.request('/v2/x/blobs/uploads/..%2F..%2Fetc'), 404, 'BLOB_UPLOAD_UNKNOWN');
    const location = await open('owner');
    await assertError(await server.request(location.replace('/owner/', '/thief/')), 404, 'BLOB_UPLOAD_UNKNOWN');
  });

  it('cross-repository mount links an existing blob (201) and falls back to a session (202)', async () => {
    const blob = randomBlob(777);
    await pushBlob(server, 'source/repo', blob);
    const mounted = await server.request(`/v2/target/repo/blobs/uploads/?mount=${blob.digest}&from=source/repo`, { method: 'POST' });
    assert.equal(mounted.status, 201);
    assert.equal(mounted.headers.get('location'), `/v2/target/repo/blobs/${blob.digest}`);
    assert.equal((await server.request(`/v2/target/repo/blobs/${blob.digest}`)).status, 200);

    const missing = sha256('not there');
    const fallback = await server.request(`/v2/target/repo/blobs/uploads/?mount=${missing}&from=source/repo`, { method: 'POST' });
    assert.equal(fallback.status, 202);
    assert.match(fallback.headers.get('location') ?? '', /\/v2\/target\/repo\/blobs\/uploads\//);

    const other = randomBlob(10);
    await pushBlob(server, 'source/other', other);
    const anywhere = await server.request(`/v2/target/three/blobs/uploads/?mount=${other.digest}`, { method: 'POST' });
    assert.equal(anywhere.status, 201, 'mount without from finds the blob in the same registry');
  });

  it('mount never reaches another registry', async () => {
    await server.request('/mgmt/v1/registries', { method: 'POST', body: JSON.stringify({ name: 'berthtest1' }), headers: { 'content-type': 'application/json' } });
    const blob = randomBlob(50);
    await pushBlob(server, 'shared/src', blob, 'berthtest1.localhost');
    const attempt = await server.request(`/v2/shared/dst/blobs/uploads/?mount=${blob.digest}&from=shared/src`, { method: 'POST' });
    assert.equal(attempt.status, 202);
  });

  it('concurrent uploads of the same blob both succeed and leave one intact blob', async () => {
    const blob = randomBlob(500_000);
    await Promise.all(Array.from({ length: 6 }, (_, index) => pushBlob(server, `race/r${index % 2}`, blob)));
    for (const repo of ['race/r0', 'race/r1']) {
      const get = await server.request(`/v2/${repo}/blobs/${blob.digest}`);
      assert.equal(sha256(Buffer.from(await get.arrayBuffer())), blob.digest);
    }
  });

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

  it('abandoned sessions have their bytes reclaimed', async () => {
    const location = await open('expire');
    await server.request(location, { method: 'PATCH', body: Buffer.alloc(1000) });
    const reclaimed = await server.berth.uploads.expireAbandonedUploads(Date.now() + 48 * 3600_000);
    assert.ok(reclaimed.some((upload) => location.endsWith(`/${upload.id}`)));
  });
});

describe('uploads: uploads.chunkMinBytes', () => {
  it('0 announces no minimum chunk length', async () => {
    const server = await startTestBerth({ uploads: { chunkMinBytes: 0 } });
    try {
      const opened = await server.request('/v2/nomin/blobs/uploads/', { method: 'POST' });
      assert.equal(opened.status, 202);
      assert.equal(opened.headers.get('oci-chunk-min-length'), null);
    } finally {
      await server.close();
    }
  });
});
