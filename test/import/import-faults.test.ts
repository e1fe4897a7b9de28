/**
 * The import service against a scripted source registry (a small node:http server) for faults a
 * real registry rarely shows on demand: a download that breaks off or stalls (retried from the
 * start), bytes that do not match their digest, more bytes than declared, a manifest that is not
 * what its digest says. Each ends in success after a retry or a clear error, with nothing visible.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ImportService } from '../../src/import/import-service.ts';
import { importPipeline } from '../../src/import/outbound.ts';
import { openMetaStore } from '../../src/meta/index.ts';
import type { MetaStore } from '../../src/meta/meta-store.ts';
import { BlobService } from '../../src/services/blobs.ts';
import { ManifestService } from '../../src/services/manifests.ts';
import { UploadService } from '../../src/services/uploads.ts';
import { openBlobStore } from '../../src/store/index.ts';

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

interface Blob {
  digest: string;
  data: Buffer;
}

/** How the scripted source answers one blob GET: the number of the attempt is 1-based. */
type BlobBehaviour = (attempt: number, blob: Blob, response: http.ServerResponse) => void;

const whole: BlobBehaviour = (_attempt, blob, response) => {
  response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(blob.data.length) });
  response.end(blob.data);
};

function imageOf(layerSize: number): { config: Blob; layer: Blob; manifest: Buffer; digest: string } {
  const blob = (data: Buffer): Blob => ({ digest: sha256(data), data });
  const config = blob(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } })));
  const layer = blob(randomBytes(layerSize));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.data.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer.digest, size: layer.data.length }],
    }),
  );
  return { config, layer, manifest, digest: sha256(manifest) };
}

describe('import faults against a scripted source registry', () => {
  let dir: string;
  let meta: MetaStore;
  let service: ImportService;
  let source: http.Server;
  let host: string;
  let image: ReturnType<typeof imageOf>;
  let manifestBody: (() => Buffer) | undefined;
  let manifestStalls = false;
  let layerBehaviour: BlobBehaviour;
  const layerGets: number[] = [];

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'berth-import-faults-'));
    meta = await openMetaStore({ url: `sqlite:${path.join(dir, 'berth.db')}` });
    await meta.createRegistry('default');
    const store = openBlobStore({ driver: 'fs', root: path.join(dir, 'storage') });
    const blobs = new BlobService(meta, store);
    service = new ImportService({
      meta,
      blobs,
      manifests: new ManifestService(meta, blobs),
      uploads: new UploadService(meta, store, { ttlMs: 3600_000, sessionKey: randomBytes(32) }),
      pipeline: importPipeline({ version: 'test', headersTimeoutMs: 2_000 }),
      installationRegistryOf: async () => undefined,
      stallTimeoutMs: 300,
      transferRetry: { maxRetries: 2, baseDelayMs: 10, maxDelayMs: 20 },
    });
    source = http.createServer((request, response) => {
      const url = request.url ?? '';
      if (url.includes('/manifests/')) {
        const body = manifestBody?.() ?? image.manifest;
        response.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': String(body.length) });
        if (manifestStalls) response.write(body.subarray(0, 10));
        else response.end(body);
      } else if (url.endsWith(image.layer.digest)) {
        layerGets.push(Date.now());
        layerBehaviour(layerGets.length, image.layer, response);
      } else if (url.endsWith(image.config.digest)) {
        whole(1, image.config, response);
      } else {
        response.writeHead(404, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown' }] }));
      }
    });
    await new Promise<void>((resolve) => source.listen(0, '127.0.0.1', resolve));
    host = `127.0.0.1:${(source.address() as AddressInfo).port}`;
  });

  beforeEach(() => {
    image = imageOf(256 * 1024);
    manifestBody = undefined;
    manifestStalls = false;
    layerBehaviour = whole;
    layerGets.length = 0;
  });

  after(async () => {
    await service?.close();
    source?.closeAllConnections();
    await new Promise((resolve) => source?.close(resolve));
    await meta?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function runImport(tag: string) {
    const plan = await service.plan({ registry: 'default', source: `${host}/app:1`, targetTags: [`app:${tag}`] });
    const job = service.start(plan);
    await service.finished(job.id);
    return job;
  }

  it('a download that breaks off halfway is retried from the start and the byte count starts over', async () => {
    layerBehaviour = (attempt, blob, response) => {
      if (attempt > 1) return whole(attempt, blob, response);
      response.writeHead(200, { 'content-length': String(blob.data.length) });
      response.write(blob.data.subarray(0, blob.data.length / 2), () => response.destroy());
    };
    const job = await runImport('broken-off');
    assert.equal(job.status, 'Succeeded', job.error ?? '');
    assert.equal(layerGets.length, 2);
    assert.equal(job.progress.bytes.copied, job.progress.bytes.total, 'bytes of the failed attempt are not counted');
    assert.ok(await meta.getManifestByTag('default', 'app', 'broken-off'));
  });

  it('a download that stalls is abandoned after the stall limit and retried', async () => {
    layerBehaviour = (attempt, blob, response) => {
      if (attempt > 1) return whole(attempt, blob, response);
      response.writeHead(200, { 'content-length': String(blob.data.length) });
      response.write(blob.data.subarray(0, 1024));
    };
    const job = await runImport('stalled');
    assert.equal(job.status, 'Succeeded', job.error ?? '');
    assert.equal(layerGets.length, 2);
    assert.ok(layerGets[1]! - layerGets[0]! >= 300, 'the second attempt came after the stall limit');
  });

  it('gives up after the retries, saying what broke, with nothing visible', async () => {
    layerBehaviour = (_attempt, blob, response) => {
      response.writeHead(200, { 'content-length': String(blob.data.length) });
      response.write(blob.data.subarray(0, 10), () => response.destroy());
    };
    const job = await runImport('gave-up');
    assert.equal(job.status, 'Failed');
    assert.match(job.error ?? '', new RegExp(`blob ${image.layer.digest}: the download broke off.*a blob of the image ${image.digest}`));
    assert.equal(layerGets.length, 3, 'the first attempt and two retries');
    assert.equal(await meta.getManifestByTag('default', 'app', 'gave-up'), undefined);
  });

  it('bytes that do not match the digest are refused', async () => {
    layerBehaviour = (_attempt, blob, response) => {
      const wrong = Buffer.from(blob.data);
      wrong[0] = wrong[0]! ^ 0xff;
      response.writeHead(200, { 'content-length': String(wrong.length) });
      response.end(wrong);
    };
    const job = await runImport('wrong-digest');
    assert.equal(job.status, 'Failed');
    assert.match(job.error ?? '', new RegExp(`blob ${image.layer.digest}: the source sent content with another digest`));
    assert.equal(layerGets.length, 1, 'a digest mismatch is not retried');
    assert.equal(await meta.getRepositoryBlob('default', 'app', image.layer.digest), undefined, 'the bad bytes were not kept');
  });

  it('more bytes than the manifest declares are cut off', async () => {
    layerBehaviour = (_attempt, blob, response) => {
      response.writeHead(200);
      response.end(Buffer.concat([blob.data, Buffer.alloc(4096)]));
    };
    const job = await runImport('too-long');
    assert.equal(job.status, 'Failed');
    assert.match(job.error ?? '', new RegExp(`more than the ${image.layer.data.length} bytes its manifest declares`));
  });

  it('a manifest fetched by digest must have that digest', async () => {
    manifestBody = () => Buffer.from(image.manifest.toString('utf8').replace('"schemaVersion":2', '"schemaVersion": 2'));
    const plan = await service.plan({ registry: 'default', source: `${host}/app@${image.digest}`, untaggedTargetRepositories: ['app'] });
    const job = service.start(plan);
    await service.finished(job.id);
    assert.equal(job.status, 'Failed');
    assert.match(job.error ?? '', new RegExp(`manifest whose digest is sha256:[0-9a-f]{64}, not ${image.digest}`));
  });

  it('a source that is not a registry answers with something the error quotes', async () => {
    manifestBody = () => Buffer.from('<html>hello</html>');
    const job = await runImport('not-a-manifest');
    assert.equal(job.status, 'Failed');
    assert.match(job.error ?? '', /cannot be imported: manifest is not valid JSON/);
  });

  it('a manifest whose answer stalls fails after the stall limit', async () => {
    manifestStalls = true;
    const job = await runImport('stalled-manifest');
    assert.equal(job.status, 'Failed');
    assert.match(job.error ?? '', /manifest 1: no complete answer within 0\.3 s/);
  });

  it('closing the service stops a running import: it fails saying so, nothing visible (runs last: the service stays closed)', async () => {
    let firstGet!: () => void;
    const started = new Promise<void>((resolve) => (firstGet = resolve));
    layerBehaviour = (_attempt, blob, response) => {
      response.writeHead(200, { 'content-length': String(blob.data.length) });
      response.write(blob.data.subarray(0, 1024), () => firstGet());
    };
    const plan = await service.plan({ registry: 'default', source: `${host}/app:1`, targetTags: ['app:stopped'] });
    const job = service.start(plan);
    await started;
    await service.close();
    assert.equal(job.status, 'Failed');
    assert.match(job.error ?? '', /server shut down before the import finished/);
    assert.equal(layerGets.length, 1, 'not retried while stopping');
    assert.equal(await meta.getManifestByTag('default', 'app', 'stopped'), undefined);
    assert.throws(() => service.start(plan), /shutting down/);
  });
});
