/**
 * Small blobs are kept in the metadata database (services/inline-blobs.ts): pushed whole or in
 * chunks they read back byte for byte, ranges included, with no file in the blob store and no
 * upload left behind; one byte over the limit, a blob goes to the blob store as before.
 */
import assert from 'node:assert/strict';
import { access, readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { INLINE_BLOB_MAX_BYTES } from '../../src/services/inline-blobs.ts';
import { startTestBerth, type TestBerth } from '../helper.ts';
import { assertError, randomBlob, type Blob } from '../helpers/oci-http.ts';
import { storedBlobs } from '../helpers/stored-blobs.ts';

describe('small blobs kept in the metadata database', () => {
  let server: TestBerth;
  before(async () => {
    server = await startTestBerth();
  });
  after(() => server.close());

  function blobFile(digest: string): string {
    const hex = digest.slice('sha256:'.length);
    return path.join(server.dataDir, 'storage', 'blobs', 'sha256', hex.slice(0, 2), hex);
  }

  async function hasFile(digest: string): Promise<boolean> {
    return access(blobFile(digest)).then(
      () => true,
      () => false,
    );
  }

  /** Whether the upload session at `location` still has bytes in the blob store. */
  async function uploadLeft(location: string): Promise<boolean> {
    const uploads = await readdir(path.join(server.dataDir, 'storage', 'uploads')).catch((): string[] => []);
    return uploads.includes(location.split('/').at(-1)!);
  }

  async function open(repo: string): Promise<string> {
    const response = await server.request(`/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    assert.equal(response.status, 202);
    return response.headers.get('location')!;
  }

  /** The blob reads back whole and in a range, and HEAD tells its size. */
  async function assertReadable(repo: string, blob: Blob): Promise<void> {
    const head = await server.request(`/v2/${repo}/blobs/${blob.digest}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(blob.size));
    assert.equal(head.headers.get('docker-content-digest'), blob.digest);
    const whole = await server.request(`/v2/${repo}/blobs/${blob.digest}`);
    assert.equal(whole.status, 200);
    assert.deepEqual(Buffer.from(await whole.arrayBuffer()), blob.data);
    const part = await server.request(`/v2/${repo}/blobs/${blob.digest}`, { headers: { range: 'bytes=10-19' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 10-19/${blob.size}`);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), blob.data.subarray(10, 20));
    const beyond = await server.request(`/v2/${repo}/blobs/${blob.digest}`, { headers: { range: `bytes=${blob.size}-` } });
    assert.equal(beyond.status, 416);
  }

  it('a small blob pushed in one request (POST ?digest=) has no file and reads back', async () => {
    const blob = randomBlob(2000);
    const response = await server.request(`/v2/inline/mono/blobs/uploads/?digest=${blob.digest}`, { method: 'POST', body: blob.data });
    assert.equal(response.status, 201);
    assert.equal(await hasFile(blob.digest), false);
    assert.ok((await storedBlobs(server.dataDir)).includes(blob.digest));
    await assertReadable('inline/mono', blob);
  });

  it('a small blob pushed as docker does (POST, then PUT with the body) leaves no upload behind', async () => {
    const blob = randomBlob(1024);
    const location = await open('inline/docker');
    const done = await server.request(`${location}?digest=${blob.digest}`, { method: 'PUT', body: blob.data });
    assert.equal(done.status, 201);
    assert.equal(await hasFile(blob.digest), false);
    assert.equal(await uploadLeft(location), false);
    await assertError(await server.request(location), 404, 'BLOB_UPLOAD_UNKNOWN');
    await assertReadable('inline/docker', blob);
  });

  it('a small blob sent in chunks (PATCH, PATCH, PUT without a body) ends in the database too', async () => {
    const blob = randomBlob(3000);
    const location = await open('inline/chunks');
    const first = await server.request(location, { method: 'PATCH', body: blob.data.subarray(0, 1000), headers: { 'content-range': '0-999' } });
    assert.equal(first.status, 202);
    const second = await server.request(location, { method: 'PATCH', body: blob.data.subarray(1000), headers: { 'content-range': '1000-2999' } });
    assert.equal(second.status, 202);
    assert.equal((await server.request(`${location}?digest=${blob.digest}`, { method: 'PUT' })).status, 201);
    assert.equal(await hasFile(blob.digest), false);
    assert.equal(await uploadLeft(location), false);
    await assertReadable('inline/chunks', blob);
  });

  it('a final chunk whose length differs from its Content-Range is refused and stores nothing', async () => {
    const blob = randomBlob(500);
    const location = await open('inline/short');
    await assertError(
      await server.request(`${location}?digest=${blob.digest}`, { method: 'PUT', body: blob.data, headers: { 'content-range': '0-999' } }),
      400,
      'BLOB_UPLOAD_INVALID',
    );
    await assertError(await server.request(`/v2/inline/short/blobs/${blob.digest}`), 404, 'BLOB_UNKNOWN');
    assert.ok(!(await storedBlobs(server.dataDir)).includes(blob.digest));
  });

  it('up to the limit in the database, one byte more in the blob store', async () => {
    const largest = randomBlob(INLINE_BLOB_MAX_BYTES);
    const over = randomBlob(INLINE_BLOB_MAX_BYTES + 1);
    for (const blob of [largest, over]) {
      const location = await open('inline/limit');
      assert.equal((await server.request(`${location}?digest=${blob.digest}`, { method: 'PUT', body: blob.data })).status, 201);
      assert.equal(await uploadLeft(location), false);
      await assertReadable('inline/limit', blob);
    }
    assert.equal(await hasFile(largest.digest), false);
    assert.equal(await hasFile(over.digest), true);
  });

  it('an empty blob is kept too, and reads back empty', async () => {
    const empty = randomBlob(0);
    assert.equal((await server.request(`/v2/inline/empty/blobs/uploads/?digest=${empty.digest}`, { method: 'POST', body: empty.data })).status, 201);
    const head = await server.request(`/v2/inline/empty/blobs/${empty.digest}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '0');
    const get = await server.request(`/v2/inline/empty/blobs/${empty.digest}`);
    assert.equal(get.status, 200);
    assert.equal((await get.arrayBuffer()).byteLength, 0);
    assert.equal(await hasFile(empty.digest), false);
  });

  it('a small blob mounts into another repository and stays readable there when its source lets go', async () => {
    const blob = randomBlob(800);
    assert.equal((await server.request(`/v2/inline/source/blobs/uploads/?digest=${blob.digest}`, { method: 'POST', body: blob.data })).status, 201);
    const mounted = await server.request(`/v2/inline/target/blobs/uploads/?mount=${blob.digest}&from=inline/source`, { method: 'POST' });
    assert.equal(mounted.status, 201);
    assert.equal((await server.request(`/v2/inline/source/blobs/${blob.digest}`, { method: 'DELETE' })).status, 202);
    await assertError(await server.request(`/v2/inline/source/blobs/${blob.digest}`), 404, 'BLOB_UNKNOWN');
    await assertReadable('inline/target', blob);
  });
});
