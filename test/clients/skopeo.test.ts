import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startBerth, startReferenceRegistry, type BerthProcess, type RegistryProcess } from '../helpers/berth-process.ts';
import { CommandError, makeTempDir, removeTempDir, startAll } from '../helpers/exec.ts';
import {
  dirDigest,
  layoutDigest,
  remoteManifest,
  skopeo,
  skopeoCopy,
  testImages,
  type TestImages,
} from '../helpers/images.ts';

interface InspectOutput {
  Name: string;
  Digest: string;
  RepoTags: string[];
  Architecture: string;
  Layers: string[];
}

/** `--creds user:password`, or nothing for a registry without authentication. */
function credsFlags(flag: string, creds: string | undefined): string[] {
  return creds === undefined ? [] : [flag, creds];
}

async function inspect(reference: string, creds: string | undefined, flags: readonly string[] = []): Promise<InspectOutput> {
  const { stdout } = await skopeo(['inspect', ...flags, '--tls-verify=false', ...credsFlags('--creds', creds), `docker://${reference}`]);
  return JSON.parse(stdout) as InspectOutput;
}

async function listTags(repository: string, creds: string | undefined): Promise<string[]> {
  const { stdout } = await skopeo(['list-tags', '--tls-verify=false', ...credsFlags('--creds', creds), `docker://${repository}`]);
  return (JSON.parse(stdout) as { Tags: string[] }).Tags;
}

/** The failing skopeo command's stderr, or an assertion error if it succeeded. */
async function failureOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CommandError) return error.result.stderr;
    throw error;
  }
  assert.fail('the command succeeded but should have failed');
}

/**
 * The distribution operations every registry must get right; run against Berth (as its owner)
 * and, for parity, against the reference registry (which has no authentication).
 */
function describeDistributionParity(name: string, start: () => Promise<RegistryProcess & { creds?: string }>): void {
  describe(`skopeo against ${name}`, () => {
    let registry: (RegistryProcess & { creds?: string }) | undefined;
    let images: TestImages;
    let work: string | undefined;
    let host: string;
    let creds: string | undefined;
    const push = (source: string, destination: string, flags: readonly string[] = []) =>
      skopeoCopy(source, destination, [...credsFlags('--dest-creds', creds), ...flags]);
    const pull = (source: string, destination: string, flags: readonly string[] = []) =>
      skopeoCopy(source, destination, [...credsFlags('--src-creds', creds), ...flags]);

    before(async () => {
      await startAll(
        start().then((started) => (registry = started)),
        testImages().then((built) => (images = built)),
        makeTempDir('skopeo-test').then((dir) => (work = dir)),
      );
      host = registry!.host;
      creds = registry!.creds;
    });
    after(async () => {
      await registry?.stop();
      if (work) await removeTempDir(work);
    });

    test('skopeo copy oci:<layout>:latest docker://<registry>/library/busybox:1, and back to an OCI layout, preserves the digest', async () => {
      await push(images.single.ref, `docker://${host}/library/busybox:1`);
      assert.equal((await remoteManifest(`${host}/library/busybox:1`, creds)).digest, images.single.digest);

      const back = join(work!, 'single-back');
      await pull(`docker://${host}/library/busybox:1`, `oci:${back}:1`);
      assert.equal(await layoutDigest(back, '1'), images.single.digest);
    });

    test('skopeo copy --all of an OCI image index keeps the index digest both ways', async () => {
      await push(images.ociIndex.ref, `docker://${host}/multi/busybox:oci-index`, ['--all']);
      const remote = await remoteManifest(`${host}/multi/busybox:oci-index`, creds);
      assert.equal(remote.digest, images.ociIndex.digest);
      assert.equal(remote.mediaType, 'application/vnd.oci.image.index.v1+json');

      const back = join(work!, 'index-back');
      await pull(`docker://${host}/multi/busybox:oci-index`, `oci:${back}:multi`, ['--all']);
      assert.equal(await layoutDigest(back, 'multi'), images.ociIndex.digest);
    });

    test('skopeo copy --all of a Docker manifest list keeps the list digest both ways', async () => {
      await push(images.dockerList.ref, `docker://${host}/multi/busybox:docker-list`, ['--all']);
      const remote = await remoteManifest(`${host}/multi/busybox:docker-list`, creds);
      assert.equal(remote.digest, images.dockerList.digest);
      assert.equal(remote.mediaType, 'application/vnd.docker.distribution.manifest.list.v2+json');

      const back = join(work!, 'list-back');
      await pull(`docker://${host}/multi/busybox:docker-list`, `dir:${back}`, ['--all']);
      assert.equal(await dirDigest(back), images.dockerList.digest);
    });

    test('skopeo list-tags lists every pushed tag', async () => {
      const tags = await listTags(`${host}/multi/busybox`, creds);
      assert.deepEqual([...tags].sort(), ['docker-list', 'oci-index']);
    });

    test('skopeo delete docker://<registry>/<repo>:<tag>, then skopeo inspect fails with manifest unknown', async () => {
      await push(images.single.ref, `docker://${host}/deleted/busybox:gone`);
      await skopeo(['delete', '--tls-verify=false', ...credsFlags('--creds', creds), `docker://${host}/deleted/busybox:gone`]);
      const stderr = await failureOf(inspect(`${host}/deleted/busybox:gone`, creds));
      assert.match(stderr, /manifest unknown/i);
      const byDigest = await failureOf(inspect(`${host}/deleted/busybox@${images.single.digest}`, creds));
      assert.match(byDigest, /manifest unknown/i);
    });
  });
}

describeDistributionParity('Berth', () => startBerth());
describeDistributionParity('the reference registry (Distribution 2.8)', startReferenceRegistry);

describe('skopeo against Berth: inspecting multi-arch images and separate registries', () => {
  let berth: BerthProcess | undefined;
  let images: TestImages;
  let host: string;

  before(async () => {
    await startAll(
      startBerth().then((started) => (berth = started)),
      testImages().then((built) => (images = built)),
    );
    host = berth!.host;
    await skopeoCopy(images.ociIndex.ref, `docker://${host}/multi/busybox:oci-index`, ['--all', '--dest-creds', berth!.creds]);
  });
  after(async () => {
    await berth?.stop();
  });

  test('skopeo inspect docker://<berth>/multi/busybox:oci-index describes the host architecture image', async () => {
    const info = await inspect(`${host}/multi/busybox:oci-index`, berth!.creds);
    const amd64 = images.ociIndex.children.find((child) => child.architecture === 'amd64')!;
    assert.equal(info.Name, `${host}/multi/busybox`);
    assert.equal(info.Digest, images.ociIndex.digest);
    assert.deepEqual(info.RepoTags, ['oci-index']);
    assert.equal(info.Architecture, 'amd64');
    assert.deepEqual(info.Layers, amd64.layers);
  });

  test('skopeo inspect --raw returns the index exactly as pushed', async () => {
    const { stdout } = await skopeo(['inspect', '--raw', '--tls-verify=false', '--creds', berth!.creds, `docker://${host}/multi/busybox:oci-index`]);
    const index = JSON.parse(stdout) as { mediaType: string; manifests: { digest: string }[] };
    assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.deepEqual(
      index.manifests.map((m) => m.digest),
      images.ociIndex.children.map((child) => child.digest),
    );
    assert.equal((await remoteManifest(`${host}/multi/busybox:oci-index`, berth!.creds)).digest, images.ociIndex.digest);
  });

  test('skopeo inspect --override-arch arm64 describes the arm64 image', async () => {
    const info = await inspect(`${host}/multi/busybox:oci-index`, berth!.creds, ['--override-arch', 'arm64']);
    const arm64 = images.ociIndex.children.find((child) => child.architecture === 'arm64')!;
    assert.equal(info.Architecture, 'arm64');
    assert.deepEqual(info.Layers, arm64.layers);
  });

  test('skopeo copy docker://<berth>/… docker://contoso.localhost:<port>/… copies into the registry contoso', async () => {
    const contoso = await berth!.createRegistry('contoso');
    assert.equal(contoso, `contoso.localhost:${berth!.port}`);
    await skopeoCopy(`docker://${host}/multi/busybox:oci-index`, `docker://${contoso}/team/app:1`, ['--all', '--src-creds', berth!.creds, '--dest-creds', berth!.creds]);
    assert.equal((await remoteManifest(`${contoso}/team/app:1`, berth!.creds)).digest, images.ociIndex.digest);
    assert.deepEqual(await listTags(`${contoso}/team/app`, berth!.creds), ['1']);
  });

  test('skopeo list-tags on the other registry fails: repositories do not leak between registries', async () => {
    const contoso = berth!.registryHost('contoso');
    assert.deepEqual(await listTags(`${contoso}/team/app`, berth!.creds), ['1']);
    assert.deepEqual(await listTags(`${host}/multi/busybox`, berth!.creds), ['oci-index']);
    assert.match(await failureOf(listTags(`${host}/team/app`, berth!.creds)), /404|not found|name unknown/i);
    assert.match(await failureOf(listTags(`${contoso}/multi/busybox`, berth!.creds)), /404|not found|name unknown/i);
    assert.match(await failureOf(inspect(`${contoso}/multi/busybox:oci-index`, berth!.creds)), /manifest unknown|name unknown|not found/i);
  });
});
