import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { access, mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ownerAuthorization, startBerth, type BerthProcess } from '../helpers/berth-process.ts';
import { storedBlobs } from '../helpers/stored-blobs.ts';

const AUTH = { authorization: ownerAuthorization() };
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
/** Files in storage that no metadata knows, so the collection has thousands of blobs to delete. */
const ORPHANS = 6000;
const IMAGES = 40;
const GRACE_SECONDS = 1;

interface Blob {
  digest: string;
  data: Buffer;
}

interface Image {
  repo: string;
  tag: string;
  digest: string;
  manifest: Buffer;
  blobs: Blob[];
}

function blobOf(data: Buffer): Blob {
  return { digest: `sha256:${createHash('sha256').update(data).digest('hex')}`, data };
}

async function pushBlob(berth: BerthProcess, repo: string, blob: Blob): Promise<void> {
  const started = await fetch(`${berth.url}/v2/${repo}/blobs/uploads/?digest=${blob.digest}`, {
    method: 'POST',
    headers: { ...AUTH, 'content-type': 'application/octet-stream' },
    body: new Uint8Array(blob.data),
  });
  assert.equal(started.status, 201, await started.text());
}

async function pushImage(berth: BerthProcess, repo: string, tag: string, blobs: Blob[]): Promise<Image> {
  for (const blob of blobs) await pushBlob(berth, repo, blob);
  const [config, ...layers] = blobs;
  const descriptor = (mediaType: string, blob: Blob) => ({ mediaType, digest: blob.digest, size: blob.data.length });
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: descriptor('application/vnd.oci.image.config.v1+json', config!),
      layers: layers.map((layer) => descriptor('application/vnd.oci.image.layer.v1.tar+gzip', layer)),
    }),
  );
  const put = await fetch(`${berth.url}/v2/${repo}/manifests/${tag}`, {
    method: 'PUT',
    headers: { ...AUTH, 'content-type': OCI_MANIFEST },
    body: new Uint8Array(manifest),
  });
  assert.equal(put.status, 201, await put.text());
  return { repo, tag, digest: blobOf(manifest).digest, manifest, blobs };
}

/** `docker pull`: the manifest by tag, then every blob, each checked against its digest. */
async function assertPullable(berth: BerthProcess, image: Image): Promise<void> {
  const manifest = await fetch(`${berth.url}/v2/${image.repo}/manifests/${image.tag}`, { headers: { ...AUTH, accept: OCI_MANIFEST } });
  assert.equal(manifest.status, 200, `${image.repo}:${image.tag}`);
  assert.equal(blobOf(Buffer.from(await manifest.arrayBuffer())).digest, image.digest);
  for (const blob of image.blobs) {
    const response = await fetch(`${berth.url}/v2/${image.repo}/blobs/${blob.digest}`, { headers: AUTH });
    assert.equal(response.status, 200, `${image.repo}@${blob.digest} after the crash`);
    assert.equal(blobOf(Buffer.from(await response.arrayBuffer())).digest, blob.digest);
  }
}

function blobPath(berth: BerthProcess, digest: string): string {
  const hex = digest.slice('sha256:'.length);
  return join(berth.dataDir, 'storage', 'blobs', 'sha256', hex.slice(0, 2), hex);
}


async function gcRun(berth: BerthProcess): Promise<Response> {
  return fetch(`${berth.url}/mgmt/v1/gc/runs`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: '{}' });
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

describe('kill -9 during a garbage collection, then restart', () => {
  let berth: BerthProcess;
  const kept: Image[] = [];
  const garbage = new Set<string>();
  const orphanFiles: string[] = [];

  before(async () => {
    berth = await startBerth({ env: { BERTH_GC_GRACE_PERIOD_SECONDS: String(GRACE_SECONDS) } });
  });
  after(async () => {
    await berth?.stop();
  });

  test('push 40 images sharing a base layer, delete 30 of them, and leave 6,000 unknown files in storage', async () => {
    const base = blobOf(randomBytes(4096));
    for (let i = 0; i < IMAGES; i += 1) {
      const repo = `crash/gc${i % 4}`;
      // A small layer (kept in the metadata database) and a larger one (a file in the blob store).
      const image = await pushImage(berth, repo, `v${i}`, [blobOf(randomBytes(200)), base, blobOf(randomBytes(40_000 + i))]);
      if (i % 4 === 0) {
        kept.push(image);
        continue;
      }
      const deleted = await fetch(`${berth.url}/v2/${repo}/manifests/${image.digest}`, { method: 'DELETE', headers: AUTH });
      assert.equal(deleted.status, 202);
      garbage.add(image.blobs[0]!.digest).add(image.blobs[2]!.digest);
    }
    const old = new Date(Date.now() - 3600_000);
    for (let i = 0; i < ORPHANS; i += 1) {
      const orphan = blobOf(randomBytes(64));
      const path = blobPath(berth, orphan.digest);
      await mkdir(join(path, '..'), { recursive: true });
      await writeFile(path, orphan.data, { mode: 0o444 });
      await utimes(path, old, old);
      garbage.add(orphan.digest);
      orphanFiles.push(orphan.digest);
    }
    await new Promise((resolve) => setTimeout(resolve, GRACE_SECONDS * 1000 + 200));
  });

  test('POST /mgmt/v1/gc/runs, and kill -9 once the first blob is deleted', async (t) => {
    const first = orphanFiles.sort()[0]!;
    const running = gcRun(berth).catch(() => undefined);
    const deadline = Date.now() + 60_000;
    while ((await exists(blobPath(berth, first))) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
    await berth.kill9();
    await running;
    const left = (await storedBlobs(berth.dataDir)).filter((digest) => garbage.has(digest)).length;
    t.diagnostic(`killed with ${left} of ${garbage.size} garbage blobs still stored`);
    assert.ok(left > 0, 'the collection was cut short');
    await berth.restart();
  });

  test('after the restart every kept image pulls intact', async () => {
    for (const image of kept) await assertPullable(berth, image);
  });

  test('the next run completes: only the blobs of kept images remain, and a further run finds nothing', async () => {
    const response = await gcRun(berth);
    assert.equal(response.status, 200, await response.clone().text());
    const report = (await response.json()) as { deletedBlobs: { digest: string }[] };
    assert.ok(report.deletedBlobs.length > 0);
    const referenced = [...new Set(kept.flatMap((image) => image.blobs.map((blob) => blob.digest)))].sort();
    assert.deepEqual(await storedBlobs(berth.dataDir), referenced);
    for (const image of kept) await assertPullable(berth, image);
    const again = (await (await gcRun(berth)).json()) as { deletedBlobs: unknown[]; unlinkedBlobs: unknown[] };
    assert.deepEqual([again.deletedBlobs, again.unlinkedBlobs], [[], []]);
  });
});
