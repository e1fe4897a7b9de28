import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { copyFile, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, run, type CommandResult, type RunOptions } from './exec.ts';

/**
 * Offline test images built from Debian's static busybox, once per test process and kept in a
 * scratch directory removed when the process exits.
 */
export interface TestImages {
  /** A root filesystem: /bin/busybox with applet links, /tmp, /etc. */
  rootfsDir: string;
  /** The same root filesystem as a tar, for `docker import`. */
  rootfsTar: string;
  /** The host architecture's image as an OCI manifest; `/arch.txt` holds its architecture. */
  single: LocalImage;
  /** An OCI image index of amd64 and arm64 images (OCI manifests), in an OCI layout. */
  ociIndex: LocalImage;
  /** A Docker manifest list of amd64 and arm64 Docker v2 schema 2 images, in a `dir:` directory. */
  dockerList: LocalImage;
}

export interface LocalImage {
  /** containers-image transport reference: `oci:<dir>:<tag>` or `dir:<dir>`. */
  ref: string;
  /** Digest of the top-level manifest or index. */
  digest: string;
  mediaType: string;
  /** For an index or list: its images in order. */
  children: ChildImage[];
}

export interface ChildImage {
  architecture: string;
  digest: string;
  layers: string[];
}

export const MULTI_ARCH = ['amd64', 'arm64'] as const;

/** Busybox applets linked into the test root filesystem. */
const APPLETS = ['sh', 'ls', 'echo', 'cat', 'true', 'false', 'uname', 'id', 'mkdir', 'rm', 'test', 'sleep', 'wc'];

let built: Promise<TestImages> | undefined;

export function testImages(): Promise<TestImages> {
  built ??= buildTestImages();
  return built;
}

/** The OCI architecture name of this machine. */
export function hostArch(): string {
  const names: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' };
  return names[process.arch] ?? process.arch;
}

/** Global buildah flags for a private vfs store under `dir` (nothing shared with the host's store). */
export function buildahStorageArgs(dir: string): string[] {
  return ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), '--storage-driver', 'vfs'];
}

/** Digest of the manifest an OCI layout tags with `tag`. */
export async function layoutDigest(layoutDir: string, tag: string): Promise<string> {
  const index = JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8')) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!entry) throw new Error(`no tag ${tag} in ${layoutDir}/index.json`);
  return entry.digest;
}

/** Digest of the manifest stored in a `dir:` transport directory. */
export async function dirDigest(dir: string): Promise<string> {
  return sha256Digest(await readFile(join(dir, 'manifest.json')));
}

export function sha256Digest(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

async function buildTestImages(): Promise<TestImages> {
  const dir = await makeTempDir('berth-test-images');
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));

  const rootfsDir = join(dir, 'rootfs');
  await makeBusyboxRootfs(rootfsDir);
  const rootfsTar = join(dir, 'rootfs.tar');
  await run('tar', ['-C', rootfsDir, '-cf', rootfsTar, '.']);

  const buildah = (...args: string[]) =>
    run('buildah', [...buildahStorageArgs(join(dir, 'buildah')), ...args], { env: { TMPDIR: dir } });

  const archImages = new Map<string, string>();
  for (const arch of new Set([hostArch(), ...MULTI_ARCH])) {
    const archFile = join(dir, `arch-${arch}.txt`);
    await writeFile(archFile, `${arch}\n`);
    const container = (await buildah('from', 'scratch')).stdout.trim();
    await buildah('copy', '--quiet', container, `${rootfsDir}/`, '/');
    await buildah('copy', '--quiet', container, archFile, '/arch.txt');
    await buildah('config', '--arch', arch, '--os', 'linux', '--cmd', '["cat","/arch.txt"]', container);
    const name = `localhost/berth-test/busybox:${arch}`;
    await buildah('commit', '--quiet', container, name);
    await buildah('rm', container);
    archImages.set(arch, name);
  }

  const singleLayout = join(dir, 'single');
  await buildah('push', '--quiet', archImages.get(hostArch())!, `oci:${singleLayout}:latest`);

  const list = 'localhost/berth-test/busybox:list';
  await buildah('manifest', 'create', list);
  for (const arch of MULTI_ARCH) {
    await buildah('manifest', 'add', list, `containers-storage:${archImages.get(arch)!}`);
  }
  const indexLayout = join(dir, 'index');
  await buildah('manifest', 'push', '--quiet', '--all', '--format', 'oci', list, `oci:${indexLayout}:multi`);
  // buildah writes Docker lists with uncompressed layers; a registry push would compress them and
  // change every digest, so compress once here to get a list that copies byte for byte.
  const uncompressedList = join(dir, 'docker-list-uncompressed');
  await buildah('manifest', 'push', '--quiet', '--all', '--format', 'v2s2', list, `dir:${uncompressedList}`);
  const dockerListDir = join(dir, 'docker-list');
  await run('skopeo', ['copy', '--quiet', '--all', '--dest-compress', `dir:${uncompressedList}`, `dir:${dockerListDir}`]);

  const indexDigest = await layoutDigest(indexLayout, 'multi');
  const layoutBlob = (digest: string) => readFile(join(indexLayout, 'blobs', ...digest.split(':')));
  const dockerListDigest = await dirDigest(dockerListDir);
  const dirManifest = (digest: string) =>
    readFile(join(dockerListDir, digest === dockerListDigest ? 'manifest.json' : `${digest.split(':')[1]}.manifest.json`));
  return {
    rootfsDir,
    rootfsTar,
    single: {
      ref: `oci:${singleLayout}:latest`,
      digest: await layoutDigest(singleLayout, 'latest'),
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      children: [],
    },
    ociIndex: {
      ref: `oci:${indexLayout}:multi`,
      digest: indexDigest,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      children: await childImages(indexDigest, layoutBlob),
    },
    dockerList: {
      ref: `dir:${dockerListDir}`,
      digest: dockerListDigest,
      mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json',
      children: await childImages(dockerListDigest, dirManifest),
    },
  };
}

async function childImages(indexDigest: string, readManifest: (digest: string) => Promise<Buffer>): Promise<ChildImage[]> {
  const index = JSON.parse((await readManifest(indexDigest)).toString('utf8')) as {
    manifests: { digest: string; platform: { architecture: string } }[];
  };
  return Promise.all(
    index.manifests.map(async ({ digest, platform }) => {
      const manifest = JSON.parse((await readManifest(digest)).toString('utf8')) as { layers: { digest: string }[] };
      return { architecture: platform.architecture, digest, layers: manifest.layers.map((layer) => layer.digest) };
    }),
  );
}

async function makeBusyboxRootfs(rootfsDir: string): Promise<void> {
  for (const sub of ['bin', 'tmp', 'etc']) await mkdir(join(rootfsDir, sub), { recursive: true });
  await copyFile('/bin/busybox', join(rootfsDir, 'bin/busybox'));
  for (const applet of APPLETS) await symlink('busybox', join(rootfsDir, 'bin', applet));
  await writeFile(join(rootfsDir, 'etc/passwd'), 'root:x:0:0:root:/:/bin/sh\n');
}

/** `skopeo` with TLS verification off: Berth serves plain http to tests. */
export function skopeo(args: readonly string[], options?: RunOptions): Promise<CommandResult> {
  return run('skopeo', args, options);
}

/** `skopeo copy` with plain http on both sides. */
export function skopeoCopy(source: string, destination: string, flags: readonly string[] = []): Promise<CommandResult> {
  return skopeo(['copy', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false', ...flags, source, destination]);
}

/** The raw manifest of `docker://<reference>` (`skopeo inspect --raw`, with `--creds user:password` if given) and its digest. */
export async function remoteManifest(reference: string, creds?: string): Promise<{ digest: string; mediaType: string; raw: string }> {
  const credsFlags = creds === undefined ? [] : ['--creds', creds];
  const { stdout } = await skopeo(['inspect', '--raw', '--tls-verify=false', ...credsFlags, `docker://${reference}`]);
  const { mediaType } = JSON.parse(stdout) as { mediaType?: string };
  return { digest: sha256Digest(stdout), mediaType: mediaType ?? '', raw: stdout };
}
