import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startBerth, type BerthProcess } from '../helpers/berth-process.ts';
import { makeTempDir, removeTempDir, run, startAll, type CommandResult } from '../helpers/exec.ts';
import { buildahStorageArgs, remoteManifest, testImages, type TestImages } from '../helpers/images.ts';

describe('buildah against Berth', () => {
  let berth: BerthProcess | undefined;
  let images: TestImages;
  let work: string | undefined;
  let host: string;

  /**
   * buildah with a private vfs store (chroot isolation needs no user namespaces or cgroups) and a
   * private auth file written by `buildah login`.
   */
  const buildahWith = (args: string[], input?: string): Promise<CommandResult> =>
    run('buildah', [...buildahStorageArgs(join(work!, 'storage')), ...args], {
      env: { TMPDIR: work!, REGISTRY_AUTH_FILE: join(work!, 'auth.json') },
      input,
    });
  const buildah = (...args: string[]): Promise<CommandResult> => buildahWith(args);

  before(async () => {
    await startAll(
      startBerth().then((started) => (berth = started)),
      testImages().then((built) => (images = built)),
      makeTempDir('buildah-test').then((dir) => (work = dir)),
    );
    host = berth!.host;
  });

  test('buildah login --tls-verify=false -u owner --password-stdin <berth>', async () => {
    const { stdout } = await buildahWith(['login', '--tls-verify=false', '-u', berth!.owner.username, '--password-stdin', host], berth!.owner.password);
    assert.match(stdout, /Login Succeeded/);
  });
  after(async () => {
    await berth?.stop();
    if (work) await removeTempDir(work);
  });

  test('buildah push localhost/busybox:1 docker://<berth>/buildah/busybox:1', async () => {
    const container = (await buildah('from', 'scratch')).stdout.trim();
    await buildah('copy', '--quiet', container, `${images.rootfsDir}/`, '/');
    await buildah('config', '--cmd', '["sh"]', container);
    await buildah('commit', '--quiet', '--rm', container, 'localhost/busybox:1');
    const digestFile = join(work!, 'pushed.digest');
    await buildah('push', '--quiet', '--tls-verify=false', '--digestfile', digestFile, 'localhost/busybox:1', `docker://${host}/buildah/busybox:1`);
    const pushedDigest = (await readFile(digestFile, 'utf8')).trim();
    assert.equal((await remoteManifest(`${host}/buildah/busybox:1`, berth!.creds)).digest, pushedDigest);
  });

  test('buildah pull docker://<berth>/buildah/busybox:1 gives back the same image', async () => {
    const before = (await buildah('inspect', '--type', 'image', '--format', '{{.FromImageID}}', 'localhost/busybox:1')).stdout.trim();
    await buildah('rmi', '--all', '--force');
    const pulledId = (await buildah('pull', '--quiet', '--tls-verify=false', `docker://${host}/buildah/busybox:1`)).stdout.trim();
    assert.equal(pulledId, before);
  });

  test('buildah bud --isolation chroot <context> (FROM <berth>/buildah/busybox:1, RUN echo … > /x), push, pull: the pulled image holds /x', async () => {
    const context = join(work!, 'context');
    await run('mkdir', ['-p', context]);
    await writeFile(
      join(context, 'Containerfile'),
      `FROM ${host}/buildah/busybox:1\nRUN echo built-by-buildah > /x\nCMD ["cat", "/x"]\n`,
    );
    await buildah('bud', '--quiet', '--isolation', 'chroot', '--tls-verify=false', '-t', 'localhost/built:1', context);
    await buildah('push', '--quiet', '--tls-verify=false', 'localhost/built:1', `docker://${host}/buildah/built:1`);

    await buildah('rmi', '--all', '--force');
    await buildah('pull', '--quiet', '--tls-verify=false', `docker://${host}/buildah/built:1`);
    // Read /x from the pulled image's root filesystem rather than through `buildah run`, whose
    // captured stdout is not dependable when it is a pipe.
    const container = (await buildah('from', '--quiet', `${host}/buildah/built:1`)).stdout.trim();
    try {
      const rootfs = (await buildah('mount', container)).stdout.trim();
      assert.equal(await readFile(join(rootfs, 'x'), 'utf8'), 'built-by-buildah\n');
    } finally {
      await buildah('rm', container);
    }
  });
});
