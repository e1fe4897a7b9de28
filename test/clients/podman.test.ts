import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startBerth, type BerthProcess } from '../helpers/berth-process.ts';
import { startAll } from '../helpers/exec.ts';
import { createPodmanEnv, type PodmanEnv } from '../helpers/podman.ts';
import { hostArch, remoteManifest, skopeoCopy, testImages, type TestImages } from '../helpers/images.ts';

describe('podman against Berth', () => {
  let berth: BerthProcess | undefined;
  let podman: PodmanEnv | undefined;
  let images: TestImages;
  let pulled: string;

  before(async () => {
    await startAll(
      startBerth().then((started) => (berth = started)),
      testImages().then((built) => (images = built)),
    );
    podman = await createPodmanEnv([berth!.host]);
    pulled = `${berth!.host}/podman/busybox:1`;
    await skopeoCopy(images.single.ref, `docker://${pulled}`, ['--dest-creds', berth!.creds]);
  });
  after(async () => {
    await podman?.cleanup();
    await berth?.stop();
  });

  test('podman login -u owner --password-stdin 127.0.0.1:<port>', async () => {
    const { stdout } = await podman!.podman(['login', '-u', berth!.owner.username, '--password-stdin', berth!.host], { input: berth!.owner.password });
    assert.match(stdout, /Login Succeeded/);
  });

  test('podman pull 127.0.0.1:<port>/podman/busybox:1 gets the pushed image', async () => {
    await podman!.podman(['pull', '--quiet', pulled]);
    const { stdout } = await podman!.podman(['image', 'inspect', '--format', '{{.Digest}}', pulled]);
    assert.equal(stdout.trim(), images.single.digest);
  });

  test('podman run --rm --network none 127.0.0.1:<port>/podman/busybox:1 prints its /arch.txt', async () => {
    const { stdout } = await podman!.podman(['run', '--rm', '--network', 'none', pulled]);
    assert.equal(stdout, `${hostArch()}\n`);
  });

  test('podman push --format oci … 127.0.0.1:<port>/podman/pushed:oci', async () => {
    const pushed = `${berth!.host}/podman/pushed:oci`;
    const digestFile = join(podman!.dir, 'pushed.digest');
    await podman!.podman(['push', '--quiet', '--format', 'oci', '--digestfile', digestFile, pulled, pushed]);
    const remote = await remoteManifest(pushed, berth!.creds);
    assert.equal(remote.digest, (await readFile(digestFile, 'utf8')).trim());
    assert.equal(remote.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  });
});
