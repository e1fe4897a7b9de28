import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { utimes } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openBlobStore, type BlobStore } from '../../src/store/index.ts';
import type { GcReport } from '../../src/services/gc.ts';
import { startTestBerth, type TestBerth } from '../helper.ts';
import { storedBlobs } from '../helpers/stored-blobs.ts';
import { assignRole, createUser, mgmt, mgmtOk } from '../helpers/identity.ts';
import { assertError, blobOf, imageOf, pushBlob, pushImage, putManifest, randomBlob, sha256, type Blob, type Image } from '../helpers/oci-http.ts';

/** Long enough that no push on a busy test machine takes longer from blob to manifest. */
const GRACE_SECONDS = 2;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function storeOf(server: TestBerth): BlobStore {
  return openBlobStore({ driver: 'fs', root: path.join(server.dataDir, 'storage') });
}


async function gcRun(server: TestBerth, dryRun = false): Promise<GcReport> {
  return mgmtOk<GcReport>(server, 200, 'POST', '/gc/runs', { dryRun });
}

/** `docker pull`: the manifest by tag, then every blob, each checked against its digest. */
async function assertPullable(server: TestBerth, repo: string, tag: string, image: Image): Promise<void> {
  const manifest = await server.request(`/v2/${repo}/manifests/${tag}`, { headers: { accept: image.mediaType } });
  assert.equal(manifest.status, 200, `${repo}:${tag}: ${await manifest.clone().text()}`);
  assert.equal(sha256(Buffer.from(await manifest.arrayBuffer())), image.digest);
  for (const blob of [image.config, ...image.layers]) {
    const response = await server.request(`/v2/${repo}/blobs/${blob.digest}`);
    assert.equal(response.status, 200, `${repo}@${blob.digest}: ${await response.clone().text()}`);
    assert.equal(sha256(Buffer.from(await response.arrayBuffer())), blob.digest, `${repo}@${blob.digest} intact`);
  }
}

function digestsOf(images: Image[]): string[] {
  return [...new Set(images.flatMap((image) => [image.config.digest, ...image.layers.map((layer) => layer.digest)]))].sort();
}

interface Usage {
  value: { name: string; limit: number | null; currentValue: number; unit: string }[];
}

async function usageOf(server: TestBerth, registry = 'default'): Promise<Record<string, { limit: number | null; currentValue: number; unit: string }>> {
  const usage = await mgmtOk<Usage>(server, 200, 'GET', `/registries/${registry}/usage`);
  return Object.fromEntries(usage.value.map(({ name, ...rest }) => [name, rest]));
}

function sizeOf(image: Image): number {
  return image.manifest.length + image.config.size + image.layers.reduce((total, layer) => total + layer.size, 0);
}

describe('berth gc run: online garbage collection', () => {
  let server: TestBerth;
  before(async () => {
    server = await startTestBerth({ gc: { enabled: false, gracePeriodSeconds: GRACE_SECONDS } });
  });
  after(() => server.close());

  it('a dry run reports exactly what the run then reclaims; referenced and shared blobs stay', async () => {
    const shared = randomBlob(3000);
    const gone = await pushImage(server, 'gc/app', 'old', imageOf({ layers: [shared, randomBlob(2000)] }));
    const kept = await pushImage(server, 'gc/app', 'new', imageOf({ layers: [shared, randomBlob(2500)] }));
    const abandoned = randomBlob(1500);
    await pushBlob(server, 'gc/abandoned', abandoned);
    const deleted = await server.request(`/v2/gc/app/manifests/${gone.digest}`, { method: 'DELETE' });
    assert.equal(deleted.status, 202);

    // A file in storage that the metadata never heard of (a crash between publishing and linking).
    const store = storeOf(server);
    const orphan = randomBlob(700);
    const writer = await store.openUpload(randomUUID());
    await writer.append(
      (async function* () {
        yield orphan.data;
      })(),
    );
    await writer.commit(orphan.digest);
    const old = new Date(Date.now() - 3600_000);
    const blobPath = (digest: string) => path.join(server.dataDir, 'storage', 'blobs', 'sha256', digest.slice(7, 9), digest.slice(7));
    await utimes(blobPath(orphan.digest), old, old);
    // An upload session abandoned two days ago.
    const session = await server.request('/v2/gc/abandoned/blobs/uploads/', { method: 'POST' });
    const sessionId = session.headers.get('location')!.split('/').at(-1)!;
    await server.request(session.headers.get('location')!, { method: 'PATCH', body: Buffer.alloc(100) });
    const twoDaysAgo = new Date(Date.now() - 48 * 3600_000);
    await utimes(path.join(server.dataDir, 'storage', 'uploads', sessionId), twoDaysAgo, twoDaysAgo);

    const early = await gcRun(server, true);
    assert.deepEqual(early.deletedBlobs.map((blob) => blob.digest), [orphan.digest], 'within the grace period only the old orphan goes');
    assert.deepEqual(early.unlinkedBlobs, []);

    await sleep(GRACE_SECONDS * 1000 + 100);
    const garbage = [gone.config, gone.layers[1]!, abandoned, orphan];
    const dry = await gcRun(server, true);
    assert.equal(dry.dryRun, true);
    assert.equal(dry.gracePeriodSeconds, GRACE_SECONDS);
    assert.deepEqual(dry.deletedBlobs, garbage.map((blob) => ({ digest: blob.digest, size: blob.size })).sort((a, b) => a.digest.localeCompare(b.digest)));
    assert.deepEqual(
      dry.unlinkedBlobs.map((link) => `${link.repository}@${link.digest}`).sort(),
      [`gc/abandoned@${abandoned.digest}`, ...[gone.config, gone.layers[1]!].map((blob) => `gc/app@${blob.digest}`)].sort(),
    );
    assert.deepEqual(dry.expiredUploads, [{ id: sessionId, size: 100 }]);
    assert.equal(dry.reclaimedBytes, garbage.reduce((total, blob) => total + blob.size, 0) + 100);
    for (const blob of garbage) assert.ok((await storedBlobs(server.dataDir)).includes(blob.digest), 'a dry run deletes nothing');

    const real = await gcRun(server);
    assert.equal(real.dryRun, false);
    assert.deepEqual({ ...real, dryRun: true, startedAt: '', finishedAt: '' }, { ...dry, startedAt: '', finishedAt: '' });
    const remaining = await storedBlobs(server.dataDir);
    for (const blob of garbage) assert.ok(!remaining.includes(blob.digest), `${blob.digest} reclaimed`);
    assert.deepEqual(remaining, digestsOf([kept]));
    await assertPullable(server, 'gc/app', 'new', kept);
    await assertError(await server.request(`/v2/gc/abandoned/blobs/${abandoned.digest}`, { method: 'HEAD' }), 404, '');

    const again = await gcRun(server);
    assert.deepEqual([again.unlinkedBlobs, again.deletedBlobs, again.expiredUploads, again.reclaimedBytes], [[], [], [], 0]);
    // A collected blob can be pushed again.
    await pushImage(server, 'gc/app', 'old', gone);
    await assertPullable(server, 'gc/app', 'old', gone);
  });

  it('keeps a blob that a client confirmed (HEAD) after its link aged, so its manifest put still works', async () => {
    const layer = randomBlob(900);
    const image = imageOf({ layers: [layer] });
    for (const blob of [image.config, layer]) await pushBlob(server, 'gc/slow', blob);
    await sleep(GRACE_SECONDS * 1000 + 100);
    for (const blob of [image.config, layer]) {
      const head = await server.request(`/v2/gc/slow/blobs/${blob.digest}`, { method: 'HEAD' });
      assert.equal(head.status, 200);
    }
    const report = await gcRun(server);
    assert.ok(!report.deletedBlobs.some((blob) => blob.digest === layer.digest));
    const put = await putManifest(server, 'gc/slow', 'v1', image.manifest, image.mediaType);
    assert.equal(put.status, 201, await put.text());
    await assertPullable(server, 'gc/slow', 'v1', image);
  });

  it('is for the installation owner only', async () => {
    await createUser(server, 'gcuser', 'gc-user-password-1');
    await assignRole(server, 'gcuser', 'Owner', '/registries/default');
    const response = await mgmt(server, 'POST', '/gc/runs', {}, { username: 'gcuser', password: 'gc-user-password-1' });
    assert.equal(response.status, 403, response.text);
    assert.equal((await mgmt(server, 'POST', '/gc/runs', undefined, 'none')).status, 401);
    assert.equal((await mgmtOk<GcReport>(server, 200, 'POST', '/gc/runs')).dryRun, false, 'a POST without a body runs a collection');
  });
});

describe('garbage collection during concurrent pushes', () => {
  let server: TestBerth;
  before(async () => {
    server = await startTestBerth({ gc: { enabled: false, gracePeriodSeconds: GRACE_SECONDS } });
  });
  after(() => server.close());

  it('pushes, mounts and deletes continuously while collections run with a tiny grace period; every kept image then pulls intact', async () => {
    const grace = GRACE_SECONDS * 1000;
    // Layers used by images that get deleted again: their blobs turn to garbage and are pushed anew
    // while collections run, racing the sweep of their previous copies.
    const recycled = Array.from({ length: 6 }, (_, i) => blobOf(`recycled layer ${i} `.repeat(200)));
    const base = randomBlob(4000);
    const baseImage = await pushImage(server, 'stress/base', 'base', imageOf({ layers: [base] }));
    const kept: { repo: string; tag: string; image: Image }[] = [];
    const failures: string[] = [];
    let pushes = 0;
    let collections = 0;
    const deadline = Date.now() + 3 * grace;

    const pusher = async (worker: number) => {
      for (let round = 0; Date.now() < deadline && round < 10_000; round += 1) {
        const repo = `stress/w${worker}`;
        const keep = round % 3 === 0;
        const layers: Blob[] = keep ? [base, randomBlob(1000 + round)] : [base, recycled[(worker + round) % recycled.length]!, randomBlob(1000 + round)];
        const image = imageOf({ layers });
        try {
          // The shared base layer by cross-repository mount, as docker does; the rest uploaded.
          const mount = await server.request(`/v2/${repo}/blobs/uploads/?mount=${base.digest}&from=stress/base`, { method: 'POST' });
          if (mount.status !== 201) await pushBlob(server, repo, base);
          for (const blob of [image.config, ...layers.slice(1)]) await pushBlob(server, repo, blob);
          const tag = `r${round}`;
          const put = await putManifest(server, repo, tag, image.manifest, image.mediaType);
          if (put.status !== 201) throw new Error(`manifest put answered ${put.status}: ${await put.text()}`);
          pushes += 1;
          if (keep) {
            kept.push({ repo, tag, image });
          } else {
            const deleted = await server.request(`/v2/${repo}/manifests/${image.digest}`, { method: 'DELETE' });
            if (deleted.status !== 202) throw new Error(`delete answered ${deleted.status}`);
          }
        } catch (error) {
          failures.push(`${repo} round ${round}: ${(error as Error).message}`);
        }
      }
    };
    const collector = async () => {
      while (Date.now() < deadline) {
        await gcRun(server);
        collections += 1;
        await sleep(20);
      }
    };
    await Promise.all([pusher(0), pusher(1), pusher(2), collector()]);
    assert.deepEqual(failures, [], `${failures.length} of ${pushes + failures.length} pushes failed`);
    assert.ok(pushes >= 20 && collections >= 5, `${pushes} pushes, ${collections} collections`);

    for (const { repo, tag, image } of kept) await assertPullable(server, repo, tag, image);

    // Quiet now: after the grace period one more run leaves exactly the referenced blobs.
    await sleep(grace + 100);
    await gcRun(server);
    const referenced = digestsOf([...kept.map((entry) => entry.image), baseImage]);
    assert.deepEqual(await storedBlobs(server.dataDir), referenced, 'every referenced blob is stored, and nothing else');
    for (const { repo, tag, image } of kept) await assertPullable(server, repo, tag, image);
  });

});

describe('berth show-usage and storage quota', () => {
  let server: TestBerth;
  before(async () => {
    server = await startTestBerth({ gc: { enabled: false, gracePeriodSeconds: GRACE_SECONDS } });
    await mgmtOk(server, 201, 'POST', '/registries', { name: 'quotaregistry', sku: 'Basic' });
  });
  after(() => server.close());

  it('counts shared layers once and shrinks at once when an image is deleted', async () => {
    const shared = randomBlob(10_000);
    const first = await pushImage(server, 'usage/app', 'one', imageOf({ layers: [shared, randomBlob(4000)] }));
    const second = await pushImage(server, 'usage/other', 'two', imageOf({ layers: [shared, randomBlob(6000)] }));
    await pushBlob(server, 'usage/app', randomBlob(50_000));
    const before = await usageOf(server);
    assert.equal(before.Size!.currentValue, sizeOf(first) + sizeOf(second) - shared.size, 'the shared layer once; unreferenced uploads not at all');
    assert.equal(before.Size!.unit, 'Bytes');
    assert.equal(before.Size!.limit, 100 * 1024 ** 3, 'the Standard SKU default');
    assert.deepEqual([before.Repositories!.currentValue, before.Manifests!.currentValue, before.Tags!.currentValue], [2, 2, 2]);
    assert.deepEqual(before.Webhooks, { limit: 10, currentValue: 0, unit: 'Count' });
    assert.deepEqual(before.ScopeMaps, { limit: 500, currentValue: 0, unit: 'Count' });
    assert.deepEqual(before.Tokens, { limit: 500, currentValue: 0, unit: 'Count' });

    const deleted = await server.request(`/v2/usage/app/manifests/${first.digest}`, { method: 'DELETE' });
    assert.equal(deleted.status, 202);
    const after = await usageOf(server);
    assert.equal(after.Size!.currentValue, sizeOf(second), 'only what the deleted image alone referenced is gone');
    assert.deepEqual([after.Repositories!.currentValue, after.Manifests!.currentValue, after.Tags!.currentValue], [1, 1, 1]);
    await assertPullable(server, 'usage/other', 'two', second);

    await sleep(GRACE_SECONDS * 1000 + 100);
    await gcRun(server);
    await assertPullable(server, 'usage/other', 'two', second);
    const remaining = await storedBlobs(server.dataDir);
    assert.ok(!remaining.includes(first.layers[1]!.digest), "the deleted image's own layer is collected");
    assert.ok(remaining.includes(shared.digest), 'the shared layer stays');
  });

  it('refuses a blob or manifest that would exceed the quota with DENIED, and lets content already held through', async () => {
    const host = 'quotaregistry.localhost';
    assert.equal((await usageOf(server, 'quotaregistry')).Size!.limit, 10 * 1024 ** 3, 'the Basic SKU default');
    await mgmtOk(server, 200, 'PUT', '/registries/quotaregistry/storage-quota', { storageQuotaBytes: 20_000 });
    assert.equal((await usageOf(server, 'quotaregistry')).Size!.limit, 20_000);

    const small = await pushImage(server, 'q/app', 'small', imageOf({ layers: [randomBlob(8000)] }), host);

    // One blob too big on its own: refused at the upload's completion.
    const big = randomBlob(15_000);
    const start = await server.request('/v2/q/app/blobs/uploads/', { method: 'POST', host });
    const refused = await server.request(`${start.headers.get('location')}?digest=${big.digest}`, { method: 'PUT', host, body: big.data });
    const error = (await refused.clone().json()) as { errors: { code: string; message: string }[] };
    await assertError(refused, 403, 'DENIED');
    assert.match(error.errors[0]!.message, /storage quota exceeded: registry quotaregistry uses \d.* of its 19\.5 KiB quota/);
    await assertError(await server.request(`/v2/q/app/blobs/${big.digest}`, { method: 'HEAD', host }), 404, '');
    // The same through a monolithic POST.
    await assertError(
      await server.request(`/v2/q/app/blobs/uploads/?digest=${big.digest}`, { method: 'POST', host, body: big.data, headers: { 'content-type': 'application/octet-stream' } }),
      403,
      'DENIED',
    );

    // Blobs that fit one by one but not together: refused at the manifest.
    const pair = imageOf({ layers: [randomBlob(6000), randomBlob(6000)] });
    for (const blob of [pair.config, ...pair.layers]) await pushBlob(server, 'q/app', blob, host);
    const put = await putManifest(server, 'q/app', 'pair', pair.manifest, pair.mediaType, host);
    const putError = (await put.clone().json()) as { errors: { code: string; message: string }[] };
    await assertError(put, 403, 'DENIED');
    assert.match(putError.errors[0]!.message, /storage quota exceeded/);
    await assertError(await server.request(`/v2/q/app/manifests/pair`, { host }), 404, 'MANIFEST_UNKNOWN');

    // Lowering the quota below what is held refuses nothing already there.
    await mgmtOk(server, 200, 'PUT', '/registries/quotaregistry/storage-quota', { storageQuotaBytes: 1 });
    const again = await putManifest(server, 'q/app', 'small-again', small.manifest, small.mediaType, host);
    assert.equal(again.status, 201, await again.text());
    const otherRepo = await putManifest(server, 'q/copy', 'small', small.manifest, small.mediaType, host);
    assert.equal(otherRepo.status, 400, 'another repository still needs the blobs linked (MANIFEST_BLOB_UNKNOWN)');
    for (const blob of [small.config, ...small.layers]) {
      const mount = await server.request(`/v2/q/copy/blobs/uploads/?mount=${blob.digest}&from=q/app`, { method: 'POST', host });
      assert.equal(mount.status, 201);
    }
    assert.equal((await putManifest(server, 'q/copy', 'small', small.manifest, small.mediaType, host)).status, 201);

    // Raising it lets the refused push through.
    await mgmtOk(server, 200, 'PUT', '/registries/quotaregistry/storage-quota', { storageQuotaBytes: 1024 ** 3 });
    assert.equal((await putManifest(server, 'q/app', 'pair', pair.manifest, pair.mediaType, host)).status, 201);
  });

  it('needs the installation owner to set a quota, and reading a registry to show usage', async () => {
    await createUser(server, 'quotauser', 'quota-user-password-1');
    await assignRole(server, 'quotauser', 'Owner', '/registries/quotaregistry');
    const auth = { username: 'quotauser', password: 'quota-user-password-1' };
    assert.equal((await mgmt(server, 'PUT', '/registries/quotaregistry/storage-quota', { storageQuotaBytes: 10 ** 12 }, auth)).status, 403);
    assert.equal((await mgmt(server, 'GET', '/registries/quotaregistry/usage', undefined, auth)).status, 200);
    assert.equal((await mgmt(server, 'GET', '/registries/default/usage', undefined, auth)).status, 403);
    assert.equal((await mgmt(server, 'GET', '/registries/nosuchregistry/usage')).status, 404);
    assert.equal((await mgmt(server, 'PUT', '/registries/nosuchregistry/storage-quota', { storageQuotaBytes: 1 })).status, 404);
    assert.equal((await mgmt(server, 'PUT', '/registries/quotaregistry/storage-quota', { storageQuotaBytes: -1 })).status, 400);
  });
});
