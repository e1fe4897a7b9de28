/**
 * Tiny unique images (one config, one layer, an OCI manifest) and pushing them in docker's order:
 * layer then config, each a HEAD, a POST and a PUT with the digest and the body (docker itself
 * sends the bytes in a PATCH before an empty PUT); then the manifest PUT.
 */
import { randomBytes } from 'node:crypto';
import { OCI_IMAGE_CONFIG, OCI_MANIFEST } from '../src/oci/media-types.ts';
import type { RegistryClient } from './client.ts';
import { sha256Digest } from './data.ts';

const layerMediaType = 'application/vnd.oci.image.layer.v1.tar+gzip';

export interface SmallImage {
  config: Buffer;
  configDigest: string;
  layer: Buffer;
  layerDigest: string;
  manifest: Buffer;
  manifestDigest: string;
}

export function makeSmallImage(id: string, layerBytes: number): SmallImage {
  const layer = randomBytes(layerBytes);
  const layerDigest = sha256Digest(layer);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Labels: { 'bench.id': id } },
      rootfs: { type: 'layers', diff_ids: [layerDigest] },
    }),
  );
  const configDigest = sha256Digest(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_IMAGE_CONFIG, digest: configDigest, size: config.length },
      layers: [{ mediaType: layerMediaType, digest: layerDigest, size: layer.length }],
    }),
  );
  return { config, configDigest, layer, layerDigest, manifest, manifestDigest: sha256Digest(manifest) };
}

export async function pushSmallImage(client: RegistryClient, repository: string, tag: string, image: SmallImage): Promise<void> {
  await client.pushSmallBlob(repository, image.layer, image.layerDigest);
  await client.pushSmallBlob(repository, image.config, image.configDigest);
  await client.putManifest(repository, tag, image.manifest, OCI_MANIFEST);
}
