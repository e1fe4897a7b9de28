/** Raw Distribution API steps for tests: push blobs and manifests the way clients do. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { TestBerth } from '../helper.ts';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

export function sha256(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export interface Blob {
  digest: string;
  size: number;
  data: Buffer;
}

export function blobOf(data: Buffer | string): Blob {
  const bytes = Buffer.from(data);
  return { digest: sha256(bytes), size: bytes.length, data: bytes };
}

export function randomBlob(size = 1024): Blob {
  return blobOf(randomBytes(size));
}

/** POST + PUT with the whole body, as docker does. */
export async function pushBlob(server: TestBerth, repo: string, blob: Blob, host?: string): Promise<void> {
  const start = await server.request(`/v2/${repo}/blobs/uploads/`, { method: 'POST', host });
  assert.equal(start.status, 202, await start.text());
  const location = start.headers.get('location');
  assert.ok(location);
  const put = await server.request(`${location}?digest=${blob.digest}`, {
    method: 'PUT',
    host,
    body: blob.data,
    headers: { 'content-type': 'application/octet-stream' },
  });
  assert.equal(put.status, 201, await put.text());
}

export interface Image {
  config: Blob;
  layers: Blob[];
  manifest: Buffer;
  digest: string;
  mediaType: string;
}

export function imageOf(options: { layers?: Blob[]; config?: Blob; mediaType?: string; extra?: Record<string, unknown> } = {}): Image {
  const config = options.config ?? blobOf(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, nonce: randomBytes(8).toString('hex') }));
  const layers = options.layers ?? [randomBlob(512)];
  const mediaType = options.mediaType ?? OCI_MANIFEST;
  const docker = mediaType === DOCKER_MANIFEST;
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      config: { mediaType: docker ? 'application/vnd.docker.container.image.v1+json' : OCI_CONFIG, digest: config.digest, size: config.size },
      layers: layers.map((layer) => ({
        mediaType: docker ? 'application/vnd.docker.image.rootfs.diff.tar.gzip' : OCI_LAYER,
        digest: layer.digest,
        size: layer.size,
      })),
      ...options.extra,
    }),
  );
  return { config, layers, manifest, digest: sha256(manifest), mediaType };
}

export async function putManifest(server: TestBerth, repo: string, reference: string, body: Buffer, mediaType: string, host?: string): Promise<Response> {
  return server.request(`/v2/${repo}/manifests/${reference}`, {
    method: 'PUT',
    host,
    body,
    headers: { 'content-type': mediaType },
  });
}

/** Pushes an image's blobs and manifest under `tag`. */
export async function pushImage(server: TestBerth, repo: string, tag: string, image: Image = imageOf(), host?: string): Promise<Image> {
  for (const blob of [image.config, ...image.layers]) await pushBlob(server, repo, blob, host);
  const response = await putManifest(server, repo, tag, image.manifest, image.mediaType, host);
  assert.equal(response.status, 201, await response.text());
  return image;
}

/** Asserts an OCI error response: status and first error code. */
export async function assertError(response: Response, status: number, code: string): Promise<void> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  if (text) {
    const body = JSON.parse(text) as { errors: { code: string; message: string }[] };
    assert.equal(body.errors[0]?.code, code, text);
    assert.ok(body.errors[0]?.message, 'error has a message');
  }
}
