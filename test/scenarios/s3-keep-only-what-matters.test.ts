/**
 * Scenario S3 — keep only what matters, through the CLI a user types: a 0-day retention policy
 * leaves only the tagged manifest of ten pushes; `berth purge --dry-run` lists exactly what a real
 * run deletes (`--untagged-only` vs `--untagged`); locked images survive both; deleting an image
 * shrinks `show-usage` by its own layers while shared layers stay; `berth gc run` while pushes go
 * on never breaks a push.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertCliError, startCliBerth, type CliBerth } from '../cli/cli-harness.ts';
import { imageOf, pushImage, randomBlob, type Image } from '../helpers/oci-http.ts';

interface PurgeReport {
  dryRun: boolean;
  tags: { repository: string; tag: string }[];
  manifests: { repository: string; digest: string }[];
  failed: unknown[];
}

interface ManifestListing {
  digest: string;
  tags: string[];
}

interface Usage {
  value: { name: string; currentValue: number }[];
}

const REGISTRY = 'contoso';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('S3: keep only what matters', () => {
  let cli: CliBerth;
  let host: string;

  const push = (repo: string, tag: string, image: Image = imageOf()) => pushImage(cli.server, repo, tag, image, host);
  const manifests = (repo: string) =>
    cli.json<ManifestListing[]>(['repository', 'show-manifests', '-n', REGISTRY, '--repository', repo, '-o', 'json']);
  const digests = async (repo: string) => (await manifests(repo)).map((m) => m.digest).sort();
  const sizeInUse = async () => {
    const usage = await cli.json<Usage>(['show-usage', '-n', REGISTRY, '-o', 'json']);
    return usage.value.find((entry) => entry.name === 'Size')!.currentValue;
  };

  before(async () => {
    cli = await startCliBerth({ retention: { intervalSeconds: 0.2 }, gc: { enabled: false, gracePeriodSeconds: 2 } });
    await cli.berth(['create', '-n', REGISTRY]);
    host = cli.loginServer(REGISTRY);
  });
  after(() => cli?.close());

  test('a 0-day retention policy: ten pushes of app:latest leave only the tagged manifest', async () => {
    await cli.berth(['config', 'retention', 'update', '-r', REGISTRY, '--status', 'enabled', '--days', '0', '--type', 'UntaggedManifests']);
    let last: Image | undefined;
    for (let i = 0; i < 10; i++) last = await push('app', 'latest');
    const deadline = Date.now() + 15_000;
    while ((await digests('app')).length > 1 && Date.now() < deadline) await sleep(100);
    const left = await manifests('app');
    assert.deepEqual(left.map((m) => [m.digest, m.tags]), [[last!.digest, ['latest']]]);
    await cli.berth(['config', 'retention', 'update', '-r', REGISTRY, '--status', 'disabled']);
  });

  test('purge: the dry run lists exactly what the real run deletes; locked images survive both', async () => {
    const pushed: Image[] = [];
    for (let i = 0; i < 6; i++) pushed.push(await push('web', 'latest'));
    const [writeLocked, deleteLocked] = [pushed[0]!, pushed[1]!];
    await cli.berth(['repository', 'update', '-n', REGISTRY, '-t', `web@${writeLocked.digest}`, '--write-enabled', 'false']);
    await cli.berth(['repository', 'update', '-n', REGISTRY, '-t', `web@${deleteLocked.digest}`, '--delete-enabled', 'false']);
    const deletable = pushed.slice(2, 5).map((image) => image.digest).sort();
    const tagged = pushed[5]!.digest;

    const args = ['purge', '-r', REGISTRY, '--filter', 'web:.*', '--ago', '0d', '-o', 'json'];
    const untaggedOnly = await cli.json<PurgeReport>([...args, '--untagged-only', '--dry-run']);
    assert.deepEqual(untaggedOnly.tags, []);
    assert.deepEqual(untaggedOnly.manifests.map((m) => m.digest).sort(), deletable);

    const withTags = await cli.json<PurgeReport>([...args, '--untagged', '--dry-run']);
    assert.deepEqual(withTags.tags.map((t) => `${t.repository}:${t.tag}`), ['web:latest']);
    assert.deepEqual(withTags.manifests.map((m) => m.digest).sort(), [...deletable, tagged].sort());
    assert.equal((await digests('web')).length, 6, 'dry runs delete nothing');

    const real = await cli.json<PurgeReport>([...args, '--untagged-only']);
    assert.deepEqual(real.failed, []);
    assert.deepEqual(real.manifests.map((m) => m.digest).sort(), deletable, 'the real run deletes what its dry run listed');
    assert.deepEqual(await digests('web'), [writeLocked.digest, deleteLocked.digest, tagged].sort());

    const realWithTags = await cli.json<PurgeReport>([...args, '--untagged']);
    assert.deepEqual(realWithTags.manifests.map((m) => m.digest), [tagged]);
    assert.deepEqual(await digests('web'), [writeLocked.digest, deleteLocked.digest].sort(), 'locked images survive both kinds of run');
  });

  test('show-usage shrinks by an image’s own layers when it is deleted; a shared layer stays counted', async () => {
    const shared = randomBlob(40_000);
    const own = randomBlob(60_000);
    const alone = await push('usage/alone', 'v1', imageOf({ layers: [own] }));
    const sharing = await push('usage/sharing', 'v1', imageOf({ layers: [shared] }));
    await push('usage/keeper', 'v1', imageOf({ layers: [shared] }));
    const before = await sizeInUse();

    await cli.berth(['repository', 'delete', '-n', REGISTRY, '--image', 'usage/alone:v1', '--yes']);
    const afterAlone = await sizeInUse();
    assert.ok(before - afterAlone >= own.data.length, `usage fell by ${before - afterAlone}, expected at least the ${own.data.length}-byte layer`);

    await cli.berth(['repository', 'delete', '-n', REGISTRY, '--image', `usage/sharing@${sharing.digest}`, '--yes']);
    const afterSharing = await sizeInUse();
    assert.ok(afterAlone - afterSharing < shared.data.length, 'the shared layer is still counted while another image holds it');
    assert.ok(afterSharing >= shared.data.length);
    assert.notEqual(alone.digest, sharing.digest);
  });

  test('garbage collection while pushes continue: no push fails and every image pulls intact', async () => {
    const pushes: Promise<Image>[] = [];
    let stop = false;
    const pusher = (async () => {
      for (let i = 0; i < 60 && !stop; i++) {
        const image = push('gc/busy', `t${i}`, imageOf({ layers: [randomBlob(2000 + i)] }));
        pushes.push(image);
        await image;
      }
    })();
    for (let run = 0; run < 4; run++) {
      const report = await cli.json<{ dryRun: boolean }>(['gc', 'run', '-o', 'json']);
      assert.equal(report.dryRun, false);
      await sleep(300);
    }
    stop = true;
    await pusher;
    const images = await Promise.all(pushes);
    assert.ok(images.length > 0);
    for (const [i, image] of images.entries()) {
      const manifest = await cli.server.request(`/v2/gc/busy/manifests/t${i}`, { host, headers: { accept: image.mediaType } });
      assert.equal(manifest.status, 200, `t${i}`);
      for (const blob of [image.config, ...image.layers]) {
        const response = await cli.server.request(`/v2/gc/busy/blobs/${blob.digest}`, { host });
        assert.equal(response.status, 200, `t${i} ${blob.digest}`);
        assert.deepEqual(Buffer.from(await response.arrayBuffer()), blob.data);
      }
    }
  });

  test('a purge filter that does not compile is refused and deletes nothing', async () => {
    const before = await digests('app');
    assertCliError(await cli.berth(['purge', '-r', REGISTRY, '--filter', 'app:(', '--ago', '0d'], { allowFailure: true }), /does not compile/);
    assert.deepEqual(await digests('app'), before);
  });
});
