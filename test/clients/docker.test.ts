import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startBerth, type BerthProcess } from '../helpers/berth-process.ts';
import { startDockerEngine, type DockerEngine } from '../helpers/docker-engine.ts';
import { makeTempDir, removeTempDir, startAll } from '../helpers/exec.ts';
import { remoteManifest, testImages, type TestImages } from '../helpers/images.ts';

/** The digest `docker push` and `docker pull` print ("digest: sha256:…", "Digest: sha256:…"). */
function printedDigest(output: string): string {
  const match = /digest: (sha256:[0-9a-f]{64})/i.exec(output);
  assert.ok(match, `no digest in docker output:\n${output}`);
  return match[1]!;
}

describe('docker against Berth', () => {
  let berth: BerthProcess | undefined;
  let engine: DockerEngine | undefined;
  let images: TestImages;
  let work: string | undefined;
  let imported: string;
  let importedDigest: string;

  before(async () => {
    await startAll(
      startBerth().then((started) => (berth = started)),
      startDockerEngine().then((started) => (engine = started)),
      testImages().then((built) => (images = built)),
      makeTempDir('docker-test').then((dir) => (work = dir)),
    );
    imported = `${berth!.host}/docker/busybox:imported`;
  });

  test('docker login -u owner --password-stdin 127.0.0.1:<port> (token flow: POST /oauth2/token grant_type=password)', async () => {
    const { stdout } = await engine!.docker(['login', '-u', berth!.owner.username, '--password-stdin', berth!.host], { input: berth!.owner.password });
    assert.match(stdout, /Login Succeeded/);
  });
  after(async () => {
    await Promise.all([engine?.stop(), berth?.stop()]);
    if (work) await removeTempDir(work);
  });

  test('docker import busybox-rootfs.tar, docker push 127.0.0.1:<port>/docker/busybox:imported', async () => {
    await engine!.docker(['import', images.rootfsTar, imported]);
    const push = await engine!.docker(['push', imported]);
    importedDigest = printedDigest(push.stdout);
    assert.equal((await remoteManifest(imported, berth!.creds)).digest, importedDigest);
  });

  test('docker rmi, docker pull 127.0.0.1:<port>/docker/busybox:imported gives the pushed digest', async () => {
    await engine!.docker(['rmi', imported]);
    const pull = await engine!.docker(['pull', imported]);
    assert.equal(printedDigest(pull.stdout), importedDigest);
    const { stdout } = await engine!.docker(['image', 'inspect', '--format', '{{json .RepoDigests}}', imported]);
    assert.deepEqual(JSON.parse(stdout), [`${berth!.host}/docker/busybox@${importedDigest}`]);
  });

  test('docker run --rm --network none 127.0.0.1:<port>/docker/busybox:imported cat /etc/passwd', async () => {
    const { stdout } = await engine!.docker(['run', '--rm', '--network', 'none', imported, 'cat', '/etc/passwd']);
    assert.equal(stdout, 'root:x:0:0:root:/:/bin/sh\n');
  });

  test('docker build --network host (FROM the pushed image, RUN echo), docker push, rmi, pull, run: the file is there', async () => {
    const context = join(work!, 'context');
    await mkdir(context);
    await writeFile(join(context, 'Dockerfile'), `FROM ${imported}\nRUN echo built-by-docker > /built.txt\n`);
    const built = `${berth!.host}/docker/built:1`;
    await engine!.docker(['build', '--network', 'host', '-t', built, context]);
    const pushedDigest = printedDigest((await engine!.docker(['push', built])).stdout);
    assert.equal((await remoteManifest(built, berth!.creds)).digest, pushedDigest);

    await engine!.docker(['rmi', built, imported]);
    assert.equal(printedDigest((await engine!.docker(['pull', built])).stdout), pushedDigest);
    const { stdout } = await engine!.docker(['run', '--rm', '--network', 'none', built, 'cat', '/built.txt']);
    assert.equal(stdout, 'built-by-docker\n');
  });
});
