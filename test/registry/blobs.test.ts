import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestBerth, type TestBerth } from '../helper.ts';
import { assertError, pushBlob, randomBlob, sha256 } from '../helpers/oci-http.ts';

describe('blobs: GET/HEAD/DELETE /v2/<name>/blobs/<digest>', () => {
  let server: TestBerth;
  before(async () => {
    server = await startTestBerth();
  });
  after(() => server.close());

  it('GET /v2/ answers 200 with the API version header', async () => {
    const response = await server.request('/v2/');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('docker-distribution-api-version'), 'registry/2.0');
    assert.deepEqual(await response.json(), {});
  });

  it('HEAD and GET return the blob with digest and length', async () => {
    const blob = randomBlob(3000);
    await pushBlob(server, 'lib/app', blob);
    const head = await server.request(`/v2/lib/app/blobs/${blob.digest}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('docker-content-digest'), blob.digest);
    assert.equal(head.headers.get('content-length'), '3000');
    const get = await server.request(`/v2/lib/app/blobs/${blob.digest}`);
    assert.equal(get.status, 200);
    assert.equal(get.headers.get('content-length'), '3000');
    assert.equal(sha256(Buffer.from(await get.arrayBuffer())), blob.digest);
  });

  it('Range reads return 206 with Content-Range, and 416 when unsatisfiable', async () => {
    const blob = randomBlob(1000);
    await pushBlob(server, 'lib/range', blob);
    const part = await server.request(`/v2/lib/range/blobs/${blob.digest}`, { headers: { range: 'bytes=10-19' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), 'bytes 10-19/1000');
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), blob.data.subarray(10, 20));
    const open = await server.request(`/v2/lib/range/blobs/${blob.digest}`, { headers: { range: 'bytes=990-' } });
    assert.equal(open.status, 206);
    assert.deepEqual(Buffer.from(await open.arrayBuffer()), blob.data.subarray(990));
    const suffix = await server.request(`/v2/lib/range/blobs/${blob.digest}`, { headers: { range: 'bytes=-5' } });
    assert.deepEqual(Buffer.from(await suffix.arrayBuffer()), blob.data.subarray(995));
    const beyond = await server.request(`/v2/lib/range/blobs/${blob.digest}`, { headers: { range: 'bytes=1000-1001' } });
    assert.equal(beyond.headers.get('content-range'), 'bytes */1000');
    await assertError(beyond, 416, 'RANGE_INVALID');
  });

  it('blobs larger than one send buffer arrive whole and in ranges, also to concurrent readers', async () => {
    const blob = randomBlob(3 * 512 * 1024 + 4321);
    await pushBlob(server, 'lib/large', blob);
    const wholes = await Promise.all(
      Array.from({ length: 6 }, () => server.request(`/v2/lib/large/blobs/${blob.digest}`).then(async (r) => Buffer.from(await r.arrayBuffer()))),
    );
    for (const whole of wholes) assert.equal(sha256(whole), blob.digest);
    const start = 512 * 1024 - 7;
    const end = 2 * 512 * 1024 + 9;
    const part = await server.request(`/v2/lib/large/blobs/${blob.digest}`, { headers: { range: `bytes=${start}-${end}` } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-length'), String(end - start + 1));
    assert.equal(part.headers.get('docker-distribution-api-version'), 'registry/2.0');
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), blob.data.subarray(start, end + 1));
  });

  it('unknown blobs are BLOB_UNKNOWN (404), also on HEAD', async () => {
    const missing = sha256('missing');
    await assertError(await server.request(`/v2/lib/app/blobs/${missing}`), 404, 'BLOB_UNKNOWN');
    const head = await server.request(`/v2/lib/app/blobs/${missing}`, { method: 'HEAD' });
    assert.equal(head.status, 404);
  });

  it('a blob is visible only in the repository it was pushed to', async () => {
    const blob = randomBlob(100);
    await pushBlob(server, 'team/one', blob);
    await assertError(await server.request(`/v2/team/two/blobs/${blob.digest}`), 404, 'BLOB_UNKNOWN');
  });

  it('malformed digests are DIGEST_INVALID and bad names NAME_INVALID', async () => {
    await assertError(await server.request('/v2/lib/app/blobs/sha256:xyz'), 400, 'DIGEST_INVALID');
    await assertError(await server.request('/v2/lib/app/blobs/md5:abc'), 400, 'DIGEST_INVALID');
    await assertError(await server.request(`/v2/Lib/App/blobs/${sha256('x')}`), 400, 'NAME_INVALID');
    await assertError(await server.request(`/v2/a/../b/blobs/${sha256('x')}`), 400, 'NAME_INVALID');
    await assertError(await server.request(`/v2/a/%2e%2e/b/blobs/${sha256('x')}`), 400, 'NAME_INVALID');
    await assertError(await server.request(`/v2/a/..%2Fb/blobs/${sha256('x')}`), 400, 'NAME_INVALID');
  });

  it('DELETE unlinks the blob from the repository (202), then it is unknown', async () => {
    const blob = randomBlob(64);
    await pushBlob(server, 'lib/del', blob);
    await pushBlob(server, 'lib/keep', blob);
    const response = await server.request(`/v2/lib/del/blobs/${blob.digest}`, { method: 'DELETE' });
    assert.equal(response.status, 202);
    await assertError(await server.request(`/v2/lib/del/blobs/${blob.digest}`), 404, 'BLOB_UNKNOWN');
    assert.equal((await server.request(`/v2/lib/keep/blobs/${blob.digest}`)).status, 200, 'other repositories keep it');
    await assertError(await server.request(`/v2/lib/del/blobs/${blob.digest}`, { method: 'DELETE' }), 404, 'BLOB_UNKNOWN');
  });

  it('unsupported methods and unknown endpoints answer in OCI error JSON', async () => {
    await assertError(await server.request(`/v2/lib/app/blobs/${sha256('x')}`, { method: 'PUT', body: 'x' }), 405, 'UNSUPPORTED');
    const unknown = await server.request('/v2/lib/app/unknown');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.headers.get('docker-distribution-api-version'), 'registry/2.0');
  });
});
