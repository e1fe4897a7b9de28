/**
 * Scenario S1 — a private registry in one command: the server the README starts prints the
 * owner's credential once; buildah logs in and pushes, skopeo copies a multi-arch image, podman
 * pulls, skopeo inspects and lists tags; a kill -9 during a push and a restart leave every earlier
 * image intact and pullable.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startBerth, type BerthProcess } from '../helpers/berth-process.ts';
import { makeTempDir, removeTempDir, run, startAll, type CommandResult } from '../helpers/exec.ts';
import { buildahStorageArgs, remoteManifest, skopeo, skopeoCopy, testImages, type TestImages } from '../helpers/images.ts';
import { createPodmanEnv, type PodmanEnv } from '../helpers/podman.ts';

const OWNER_LINE = /Installation owner created: username "owner", password "([^"]+)" \(shown once\)/g;

describe('S1: a private registry in one command', () => {
  let berth: BerthProcess;
  let images: TestImages;
  let work: string;
  let podman: PodmanEnv;
  let password: string;
  let creds: string;

  const buildah = (args: string[], input?: string): Promise<CommandResult> =>
    run('buildah', [...buildahStorageArgs(join(work, 'storage')), ...args], {
      env: { TMPDIR: work, REGISTRY_AUTH_FILE: join(work, 'auth.json') },
      input,
    });

  before(async () => {
    // No BERTH_OWNER_PASSWORD: the owner's password is generated and printed, as after `npm start`.
    await startAll(
      startBerth({ env: { BERTH_OWNER_PASSWORD: '' } }).then((started) => (berth = started)),
      testImages().then((built) => (images = built)),
      makeTempDir('s1').then((dir) => (work = dir)),
    );
    podman = await createPodmanEnv([berth.host]);
  });

  after(async () => {
    await berth?.stop();
    await podman?.cleanup();
    if (work) await removeTempDir(work);
  });

  test('the installation owner credential is printed once on first start', async () => {
    const printed = [...(await readFile(berth.logFile, 'utf8')).matchAll(OWNER_LINE)];
    assert.equal(printed.length, 1, await berth.logTail());
    password = printed[0]![1]!;
    creds = `owner:${password}`;
  });

  test('buildah login, then buildah push of a busybox image', async () => {
    const { stdout } = await buildah(['login', '--tls-verify=false', '-u', 'owner', '--password-stdin', berth.host], password);
    assert.match(stdout, /Login Succeeded/);
    const container = (await buildah(['from', 'scratch'])).stdout.trim();
    await buildah(['copy', '--quiet', container, `${images.rootfsDir}/`, '/']);
    await buildah(['config', '--cmd', '["sh"]', container]);
    await buildah(['commit', '--quiet', '--rm', container, 'localhost/s1/busybox:1']);
    await buildah(['push', '--quiet', '--tls-verify=false', 'localhost/s1/busybox:1', `docker://${berth.host}/s1/busybox:1`]);
    assert.ok((await remoteManifest(`${berth.host}/s1/busybox:1`, creds)).digest.startsWith('sha256:'));
  });

  test('skopeo copy --all of a multi-arch image keeps its index digest', async () => {
    await skopeoCopy(images.ociIndex.ref, `docker://${berth.host}/s1/multi:1`, ['--all', '--dest-tls-verify=false', '--dest-creds', creds]);
    assert.equal((await remoteManifest(`${berth.host}/s1/multi:1`, creds)).digest, images.ociIndex.digest);
  });

  test('podman pull, skopeo inspect and skopeo list-tags', async () => {
    await podman.podman(['login', '--tls-verify=false', '-u', 'owner', '--password-stdin', berth.host], { input: password });
    await podman.podman(['pull', '--quiet', `${berth.host}/s1/multi:1`]);
    const inspected = JSON.parse((await skopeo(['inspect', '--tls-verify=false', '--creds', creds, `docker://${berth.host}/s1/multi:1`])).stdout) as { Digest: string };
    assert.ok(inspected.Digest.startsWith('sha256:'));
    const tags = JSON.parse((await skopeo(['list-tags', '--tls-verify=false', '--creds', creds, `docker://${berth.host}/s1/busybox`])).stdout) as { Tags: string[] };
    assert.deepEqual(tags.Tags, ['1']);
  });

  test('kill -9 during a push and a restart leave every earlier image intact; the credential is not printed again', async () => {
    const before = {
      busybox: (await remoteManifest(`${berth.host}/s1/busybox:1`, creds)).digest,
      multi: (await remoteManifest(`${berth.host}/s1/multi:1`, creds)).digest,
    };
    await startUploadAndKill(berth, creds);
    await berth.restart();

    assert.equal([...(await readFile(berth.logFile, 'utf8')).matchAll(OWNER_LINE)].length, 1, 'shown once, never again');
    assert.equal((await remoteManifest(`${berth.host}/s1/busybox:1`, creds)).digest, before.busybox);
    assert.equal((await remoteManifest(`${berth.host}/s1/multi:1`, creds)).digest, before.multi);
    await skopeoCopy(`docker://${berth.host}/s1/multi:1`, `oci:${join(work, 'pulled')}:multi`, ['--all', '--src-tls-verify=false', '--src-creds', creds]);
    await buildah(['rmi', '--all', '--force']);
    await buildah(['pull', '--quiet', '--tls-verify=false', `docker://${berth.host}/s1/busybox:1`]);
  });
});

/** Opens an upload, streams part of a large PATCH, and kills the server while the bytes flow. */
async function startUploadAndKill(berth: BerthProcess, creds: string): Promise<void> {
  const authorization = `Basic ${Buffer.from(creds).toString('base64')}`;
  const location = await new Promise<string>((resolve, reject) => {
    const request = http.request(`${berth.url}/v2/s1/big/blobs/uploads/`, { method: 'POST', headers: { authorization } }, (response) => {
      response.resume();
      const header = response.headers.location;
      if (response.statusCode === 202 && header) resolve(header);
      else reject(new Error(`POST upload answered ${response.statusCode}`));
    });
    request.on('error', reject);
    request.end();
  });
  const patch = http.request(new URL(location, berth.url), { method: 'PATCH', headers: { authorization, 'content-type': 'application/octet-stream' } });
  patch.on('error', () => undefined);
  const chunk = Buffer.alloc(4 * 1024 * 1024, 7);
  for (let written = 0; written < 32; written++) {
    if (!patch.write(chunk)) await new Promise((resolve) => patch.once('drain', resolve));
  }
  await berth.kill9();
  patch.destroy();
}
