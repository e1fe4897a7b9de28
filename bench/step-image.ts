/**
 * A tiny image for task steps, made offline from the host's static busybox: one gzip'd layer with
 * `/bin/busybox` and a few applet links, `PATH=/bin`. Written to a scratch file (layer) and
 * pushed with a HEAD, a POST and a PUT per blob; the layer streams from the file.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, stat, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { create as createTar } from 'tar';
import { OCI_IMAGE_CONFIG, OCI_MANIFEST } from '../src/oci/media-types.ts';
import type { RegistryClient } from './client.ts';
import { sha256Digest } from './data.ts';

const layerMediaType = 'application/vnd.oci.image.layer.v1.tar+gzip';
const applets = ['sh', 'true', 'echo', 'sleep'];

/** The OCI architecture name of this machine, as a step image must declare it to run here. */
export function hostArchitecture(): string {
  const names: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' };
  return names[process.arch] ?? process.arch;
}

/**
 * Builds the image under `scratchDir` and pushes it as `repository:tag`; returns the layer's size.
 * A `variant` becomes a label of the image's config, so each variant is a new image (a tag that
 * moves) sharing the one layer.
 */
export async function pushStepImage(client: RegistryClient, repository: string, tag: string, scratchDir: string, variant?: string): Promise<number> {
  const dir = await mkdtemp(join(scratchDir, 'berth-bench-step-image-'));
  try {
    const rootfs = join(dir, 'rootfs');
    await mkdir(join(rootfs, 'bin'), { recursive: true });
    await mkdir(join(rootfs, 'tmp'));
    await copyFile('/bin/busybox', join(rootfs, 'bin', 'busybox'));
    for (const applet of applets) await symlink('busybox', join(rootfs, 'bin', applet));

    const layerFile = join(dir, 'layer.tar.gz');
    const diffId = hashing();
    const compressed = hashing();
    await pipeline(createTar({ cwd: rootfs, portable: true }, ['bin', 'tmp']), diffId.tap, createGzip(), compressed.tap, createWriteStream(layerFile));
    const layerDigest = compressed.digest();
    const layerSize = (await stat(layerFile)).size;

    const config = Buffer.from(
      JSON.stringify({
        architecture: hostArchitecture(),
        os: 'linux',
        config: { Env: ['PATH=/bin'], Cmd: ['sh'], ...(variant === undefined ? {} : { Labels: { 'berth.bench.variant': variant } }) },
        rootfs: { type: 'layers', diff_ids: [diffId.digest()] },
      }),
    );
    const configDigest = sha256Digest(config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: OCI_IMAGE_CONFIG, digest: configDigest, size: config.length },
        layers: [{ mediaType: layerMediaType, digest: layerDigest, size: layerSize }],
      }),
    );

    if (!(await client.blobExists(repository, layerDigest))) {
      const location = await client.startUpload(repository);
      await client.completeUpload(repository, location, layerDigest, createReadStream(layerFile), layerSize);
    }
    await client.pushSmallBlob(repository, config, configDigest);
    await client.putManifest(repository, tag, manifest, OCI_MANIFEST);
    return layerSize;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A pass-through stream that hashes what flows through it. */
function hashing(): { tap: Transform; digest(): string } {
  const hash = createHash('sha256');
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  return { tap, digest: () => `sha256:${hash.digest('hex')}` };
}
