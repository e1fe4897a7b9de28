import assert from 'node:assert/strict';
import { createCipheriv, createHash } from 'node:crypto';
import http from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ownerAuthorization, startBerth, type BerthProcess } from '../helpers/berth-process.ts';
import { makeTempDir, removeTempDir, startAll } from '../helpers/exec.ts';
import { dirDigest, layoutDigest, skopeoCopy, testImages, type TestImages } from '../helpers/images.ts';

const MiB = 1024 * 1024;
const CHUNK_SIZE = 8 * MiB;
const BLOB_SIZE = 256 * MiB;
/** Complete PATCHes before the one the server is killed in the middle of. */
const CHUNKS_BEFORE_CRASH = 12;
const REPOSITORY = 'crash/big';
/** Raw requests authenticate as the installation owner, with Basic credentials. */
const AUTH = { authorization: ownerAuthorization() };

/** The test blob's bytes at [offset, offset + length): an AES-CTR keystream, so any range is cheap to regenerate. */
function blobBytes(offset: number, length: number): Buffer {
  const block = Math.floor(offset / 16);
  const iv = Buffer.alloc(16);
  iv.writeBigUInt64BE(BigInt(block), 8);
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), iv);
  const skip = offset - block * 16;
  return cipher.update(Buffer.alloc(skip + length)).subarray(skip);
}

function blobDigest(): string {
  const hash = createHash('sha256');
  for (let offset = 0; offset < BLOB_SIZE; offset += CHUNK_SIZE) hash.update(blobBytes(offset, CHUNK_SIZE));
  return `sha256:${hash.digest('hex')}`;
}

interface UploadState {
  /** Absolute upload URL from the last Location header. */
  location: string;
  /** Bytes the server has confirmed. */
  offset: number;
}

/** Parses `Range: 0-<last>` of an upload response into the next offset. */
function nextOffset(response: Response): number {
  const range = response.headers.get('range');
  const match = range ? /^0-(\d+)$/.exec(range) : null;
  assert.ok(match, `upload response without a valid Range header (got ${String(range)})`);
  return Number(match[1]) + 1;
}

async function patchChunk(state: UploadState, length: number): Promise<UploadState> {
  const response = await fetch(state.location, {
    method: 'PATCH',
    headers: {
      ...AUTH,
      'content-type': 'application/octet-stream',
      'content-range': `${state.offset}-${state.offset + length - 1}`,
    },
    body: new Uint8Array(blobBytes(state.offset, length)),
  });
  assert.equal(response.status, 202, `PATCH ${state.location} (${state.offset}+${length}): ${await response.text()}`);
  const offset = nextOffset(response);
  assert.equal(offset, state.offset + length);
  return { location: new URL(response.headers.get('location')!, state.location).href, offset };
}

/**
 * Sends the headers and half the body of the next chunk's PATCH, and resolves once the server has
 * had time to read those bytes; the request is left open for the crash to cut.
 */
async function startHalfPatch(state: UploadState): Promise<void> {
  const request = http.request(state.location, {
    method: 'PATCH',
    headers: {
      ...AUTH,
      'content-type': 'application/octet-stream',
      'content-range': `${state.offset}-${state.offset + CHUNK_SIZE - 1}`,
      'content-length': String(CHUNK_SIZE),
    },
  });
  request.on('error', () => {
    // Expected: the server dies while the request is open.
  });
  request.on('response', (response) => response.resume());
  await new Promise<void>((resolveWrite) => request.write(blobBytes(state.offset, CHUNK_SIZE / 2), () => resolveWrite()));
  await new Promise((r) => setTimeout(r, 300));
}

describe('kill -9 during a chunked push to Berth', () => {
  let berth: BerthProcess | undefined;
  let images: TestImages;
  let work: string | undefined;
  let upload: UploadState;
  let digest: string;

  before(async () => {
    await startAll(
      startBerth().then((started) => (berth = started)),
      testImages().then((built) => (images = built)),
      makeTempDir('crash-test').then((dir) => (work = dir)),
    );
    digest = blobDigest();
  });
  after(async () => {
    await berth?.stop();
    if (work) await removeTempDir(work);
  });

  test('skopeo copy (single image, --all OCI index, --all Docker list) to Berth before the crash', async () => {
    const host = berth!.host;
    const creds = ['--dest-creds', berth!.creds];
    await skopeoCopy(images.single.ref, `docker://${host}/crash/single:1`, creds);
    await skopeoCopy(images.ociIndex.ref, `docker://${host}/crash/multi:oci-index`, ['--all', ...creds]);
    await skopeoCopy(images.dockerList.ref, `docker://${host}/crash/multi:docker-list`, ['--all', ...creds]);
  });

  test('POST + PATCH /v2/crash/big/blobs/uploads/… in 8 MiB chunks, kill -9 in the middle of a PATCH', async () => {
    const started = await fetch(`${berth!.url}/v2/${REPOSITORY}/blobs/uploads/`, { method: 'POST', headers: AUTH });
    assert.equal(started.status, 202, await started.text());
    upload = { location: new URL(started.headers.get('location')!, berth!.url).href, offset: 0 };
    for (let i = 0; i < CHUNKS_BEFORE_CRASH; i++) upload = await patchChunk(upload, CHUNK_SIZE);
    assert.equal(upload.offset, CHUNKS_BEFORE_CRASH * CHUNK_SIZE);

    await startHalfPatch(upload);
    await berth!.kill9();
    await berth!.restart();
  });

  test('after the restart, skopeo copy docker://<berth>/crash/… to local layouts gives every earlier digest', async () => {
    const host = berth!.host;
    const creds = ['--src-creds', berth!.creds];
    const single = join(work!, 'single');
    await skopeoCopy(`docker://${host}/crash/single:1`, `oci:${single}:1`, creds);
    assert.equal(await layoutDigest(single, '1'), images.single.digest);

    const index = join(work!, 'index');
    await skopeoCopy(`docker://${host}/crash/multi:oci-index`, `oci:${index}:multi`, ['--all', ...creds]);
    assert.equal(await layoutDigest(index, 'multi'), images.ociIndex.digest);

    const list = join(work!, 'list');
    await skopeoCopy(`docker://${host}/crash/multi:docker-list`, `dir:${list}`, ['--all', ...creds]);
    assert.equal(await dirDigest(list), images.dockerList.digest);
  });

  test('after the restart, the interrupted upload resumes from its Range to the right digest, or is BLOB_UPLOAD_UNKNOWN', async (t) => {
    const blobUrl = `${berth!.url}/v2/${REPOSITORY}/blobs/${digest}`;
    assert.equal((await fetch(blobUrl, { method: 'HEAD', headers: AUTH })).status, 404, 'an unfinished blob must not be visible');

    const status = await fetch(upload.location, { headers: AUTH });
    if (status.status === 404) {
      const body = (await status.json()) as { errors?: { code: string }[] };
      assert.equal(body.errors?.[0]?.code, 'BLOB_UPLOAD_UNKNOWN');
      t.diagnostic('the interrupted upload is gone: 404 BLOB_UPLOAD_UNKNOWN');
      return;
    }
    assert.equal(status.status, 204, `GET ${upload.location}: ${status.status} ${await status.text()}`);
    upload = {
      location: new URL(status.headers.get('location') ?? upload.location, upload.location).href,
      offset: nextOffset(status),
    };
    assert.ok(
      upload.offset >= CHUNKS_BEFORE_CRASH * CHUNK_SIZE && upload.offset <= (CHUNKS_BEFORE_CRASH + 1) * CHUNK_SIZE,
      `resumed at ${upload.offset}: the confirmed chunks must be kept and nothing unsent claimed`,
    );
    t.diagnostic(`the interrupted upload resumes at byte ${upload.offset}`);

    while (upload.offset < BLOB_SIZE) {
      upload = await patchChunk(upload, Math.min(CHUNK_SIZE, BLOB_SIZE - upload.offset));
    }
    const completeUrl = new URL(upload.location);
    completeUrl.searchParams.set('digest', digest);
    const completed = await fetch(completeUrl, { method: 'PUT', headers: { ...AUTH, 'content-length': '0' } });
    assert.equal(completed.status, 201, `PUT ${completeUrl}: ${await completed.text()}`);
    assert.equal(completed.headers.get('docker-content-digest'), digest);

    const blob = await fetch(blobUrl, { headers: AUTH });
    assert.equal(blob.status, 200);
    assert.equal(blob.headers.get('content-length'), String(BLOB_SIZE));
    const hash = createHash('sha256');
    for await (const chunk of blob.body!) hash.update(chunk);
    assert.equal(`sha256:${hash.digest('hex')}`, digest);
  });
});
