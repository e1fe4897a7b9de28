/**
 * `berth mirror` end to end on a real server, task engine and executor: `publicregistry` stands in
 * for Docker Hub (its `node:15-alpine` built by `berth build` with a background colour), and a
 * mirror in `contoso` lets through only the images whose colour is not Red. An external source is
 * a Distribution registry with a password, polled every second.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { assertCliError, OWNER, startCliBerth, type CliBerth } from '../cli/cli-harness.ts';
import { startReferenceRegistry, type RegistryProcess } from '../helpers/berth-process.ts';
import { skopeoCopy, testImages, type TestImages } from '../helpers/images.ts';

const SOURCE_USER = { username: 'puller', password: 'puller-secret-9e2' };
const VALIDATE = '{{.Values.STAGED_IMAGE}} sh -c "test \\"$BACKGROUND_COLOR\\" != Red"';

interface Mirror {
  name: string;
  watch: string;
  image: string;
  currentDigest: string | null;
  lastSourceDigest: string | null;
  sourceCredentials: { userName: string | null; password: null };
}

interface Entry {
  id: number;
  digest: string;
  status: string;
  runId: string | null;
  uniqueTag: string | null;
  message: string | null;
}

describe('berth mirror: the gate as one object', () => {
  let cli: CliBerth;
  let scratch: string;
  let publicHost: string;
  let images: TestImages;

  const tags = async (registry: string, repository: string) =>
    (await cli.json<{ name: string }[]>(['repository', 'show-tags', '-n', registry, '--repository', repository, '--detail', '-o', 'json'])).map((tag) => tag.name).sort();
  const digestOf = async (registry: string, image: string) =>
    (await cli.json<{ tag: { digest: string } }>(['repository', 'show', '-n', registry, '-t', image, '-o', 'json'])).tag.digest;
  const history = (name: string, registry = 'contoso') => cli.json<Entry[]>(['mirror', 'history', '-n', name, '-r', registry]);
  const runs = (registry = 'contoso') => cli.json<{ runId: string; status: string }[]>(['task', 'list-runs', '-r', registry, '-o', 'json']);

  /** Waits (at most `seconds`) until the newest history entry of `digest` is final. */
  const settled = async (name: string, digest: string, seconds = 90): Promise<Entry> => {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
      const entry = (await history(name)).find((candidate) => candidate.digest === digest);
      if (entry && ['Promoted', 'Failed'].includes(entry.status)) return entry;
      if (Date.now() > deadline) throw new Error(`mirror ${name}: ${digest} not settled within ${seconds} s: ${JSON.stringify(await history(name))}`);
      await delay(250);
    }
  };

  /** `berth build` of the simulated public node image, with the given background colour. */
  const publishNode = async (colour: string): Promise<string> => {
    const folder = path.join(scratch, `node-${colour}`);
    await rm(folder, { recursive: true, force: true });
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, 'Dockerfile'), `FROM ${publicHost}/upstream/busybox:1\nENV BACKGROUND_COLOR ${colour}\n`);
    await cli.berth(['build', '-r', 'publicregistry', '-t', 'node:15-alpine', '--no-logs', folder]);
    return digestOf('publicregistry', 'node:15-alpine');
  };

  before(async () => {
    cli = await startCliBerth();
    scratch = await mkdtemp(path.join(tmpdir(), 'berth-mirror-'));
    for (const name of ['publicregistry', 'contoso']) await cli.berth(['create', '-n', name]);
    publicHost = cli.loginServer('publicregistry');
    images = await testImages();
    await skopeoCopy(images.single.ref, `docker://${publicHost}/upstream/busybox:1`, ['--dest-creds', `${OWNER.username}:${OWNER.password}`]);
  });

  after(async () => {
    await cli?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  let green: string;
  let greenEntry: Entry;

  test('create: the current upstream digest is staged, validated by a run and promoted with a unique tag within seconds', async () => {
    green = await publishNode('Green');
    const created = await cli.json<Mirror>([
      'mirror', 'create', '-n', 'node', '-r', 'contoso', '--source', 'publicregistry/node:15-alpine', '--image', 'node:15-alpine',
      '--validate-cmd', VALIDATE, '--keep-unique-tags', '1',
    ]);
    assert.equal(created.watch, 'Events');
    assert.equal(created.image, 'node:15-alpine');

    greenEntry = await settled('node', green);
    assert.equal(greenEntry.status, 'Promoted', JSON.stringify(greenEntry));
    assert.ok(greenEntry.runId);
    assert.equal(greenEntry.uniqueTag, `15-alpine-${greenEntry.runId}`);
    assert.equal(await digestOf('contoso', 'node:15-alpine'), green);
    assert.deepEqual(await tags('contoso', 'node'), ['15-alpine', greenEntry.uniqueTag].sort());
    assert.equal(await digestOf('contoso', `staging/node:staged-${green.slice(7, 19)}`), green);
    assert.deepEqual((await runs()).map((run) => [run.runId, run.status]), [[greenEntry.runId, 'Succeeded']]);

    const shown = await cli.json<Mirror>(['mirror', 'show', '-n', 'node', '-r', 'contoso']);
    assert.equal(shown.currentDigest, green);
    assert.equal(shown.lastSourceDigest, green);
    const table = await cli.berth(['mirror', 'list', '-r', 'contoso', '-o', 'table']);
    assert.match(table.stdout, /NAME\s+SOURCE\s+IMAGE\s+WATCH\s+VALIDATION\s+CURRENT/);
    assert.match(table.stdout, /node\s+publicregistry\/node:15-alpine\s+node:15-alpine\s+Events\s+Cmd/);
  });

  test('a Red upstream fails validation: the target keeps Green, the history says Failed with the run', async () => {
    const red = await publishNode('Red');
    const entry = await settled('node', red);
    assert.equal(entry.status, 'Failed');
    assert.match(entry.message ?? '', new RegExp(`validation run ${entry.runId} ended Failed`));
    assert.equal(await digestOf('contoso', 'node:15-alpine'), green);
    assert.deepEqual(await tags('contoso', 'node'), ['15-alpine', greenEntry.uniqueTag].sort());
    const table = await cli.berth(['mirror', 'history', '-n', 'node', '-r', 'contoso', '-o', 'table']);
    assert.match(table.stdout, /ID\s+STATUS\s+DIGEST\s+RUN ID\s+UNIQUE TAG/);
    assert.match(table.stdout, new RegExp(`Failed\\s+${red.slice(0, 19)}\\s+${entry.runId}`));

    // The same digest pushed again, and unrelated pushes: nothing is tried again.
    await cli.berth(['import', '-n', 'publicregistry', '--registry', 'publicregistry', '--source', 'node:15-alpine', '--image', 'node:15-alpine', '--force']);
    await cli.berth(['import', '-n', 'publicregistry', '--registry', 'publicregistry', '--source', 'node:15-alpine', '--image', 'other:1']);
    await delay(3000);
    assert.equal((await history('node')).length, 2);
    assert.equal((await runs()).length, 2);
  });

  let green2: string;

  test('a new Green digest is promoted; keep-unique-tags 1 prunes the older unique tag', async () => {
    green2 = await publishNode('Green');
    assert.notEqual(green2, green);
    const entry = await settled('node', green2);
    assert.equal(entry.status, 'Promoted', JSON.stringify(entry));
    assert.equal(await digestOf('contoso', 'node:15-alpine'), green2);
    assert.deepEqual(await tags('contoso', 'node'), ['15-alpine', entry.uniqueTag].sort());
  });

  test('rollback moves the target tag back to the previous promoted digest, and --to forward again', async () => {
    const back = await cli.json<Entry>(['mirror', 'rollback', '-n', 'node', '-r', 'contoso']);
    assert.equal(back.status, 'RolledBack');
    assert.equal(back.digest, green);
    assert.equal(await digestOf('contoso', 'node:15-alpine'), green);
    assert.equal((await cli.json<Mirror>(['mirror', 'show', '-n', 'node', '-r', 'contoso'])).currentDigest, green);
    assertCliError(await cli.berth(['mirror', 'rollback', '-n', 'node', '-r', 'contoso'], { allowFailure: true }), /promoted nothing before/);

    const forward = await cli.json<Entry>(['mirror', 'rollback', '-n', 'node', '-r', 'contoso', '--to', green2]);
    assert.equal(forward.digest, green2);
    assert.equal(await digestOf('contoso', 'node:15-alpine'), green2);
    assertCliError(await cli.berth(['mirror', 'rollback', '-n', 'node', '-r', 'contoso', '--to', 'no-such-tag'], { allowFailure: true }), /never promoted no-such-tag/);
  });

  test('a task file validates too, and sees the source image', async () => {
    const file = path.join(scratch, 'acr-task.yaml');
    await writeFile(
      file,
      ['version: v1.1.0', 'steps:', '  - cmd: {{.Values.STAGED_IMAGE}} sh -c "test \\"$BACKGROUND_COLOR\\" = Green && echo source={{.Values.SOURCE_IMAGE}}"', ''].join('\n'),
    );
    await cli.json<Mirror>(['mirror', 'create', '-n', 'nodefile', '-r', 'contoso', '--source', `${publicHost}/node:15-alpine`, '--image', 'node-file:15-alpine', '--validate-file', file]);
    const entry = await settled('nodefile', green2);
    assert.equal(entry.status, 'Promoted', JSON.stringify(entry));
    assert.equal(await digestOf('contoso', 'node-file:15-alpine'), green2);
    const log = await cli.berth(['task', 'logs', '-r', 'contoso', '--run-id', entry.runId!]);
    assert.match(log.stdout, new RegExp(`source=${publicHost}/node:15-alpine`));
  });

  test('bad input: unknown source registry, bad --source, missing validate file, flags for external sources only', async () => {
    const create = (args: string[]) => cli.berth(['mirror', 'create', '-n', 'bad', '-r', 'contoso', '--image', 'bad:1', ...args], { allowFailure: true });
    assertCliError(await create(['--source', 'nosuchregistry/node:15-alpine']), /source registry nosuchregistry does not exist/);
    assertCliError(await create(['--source', 'node:15-alpine']), /names no registry/);
    assertCliError(await create(['--source', 'publicregistry/Node::x']), /invalid/);
    assertCliError(await create(['--source', `publicregistry/node@sha256:${'a'.repeat(64)}`]), /names a digest/);
    assertCliError(await create(['--source', 'publicregistry/node:15-alpine', '--validate-file', path.join(scratch, 'missing.yaml')]), /--validate-file .*missing\.yaml: ENOENT/);
    assertCliError(await create(['--source', 'publicregistry/node:15-alpine', '--schedule', '0 * * * *']), /--schedule applies to external sources only/);
    assertCliError(await create(['--source', 'contoso/bad:1']), /the same tag/);
    assertCliError(await cli.berth(['mirror', 'show', '-n', 'nosuch', '-r', 'contoso'], { allowFailure: true }), /mirror nosuch not found/);
    assert.deepEqual((await cli.json<Mirror[]>(['mirror', 'list', '-r', 'contoso'])).map((mirror) => mirror.name), ['node', 'nodefile']);
  });

  describe('an external source, polled', () => {
    let external: RegistryProcess;

    before(async () => {
      external = await startReferenceRegistry({ htpasswdUser: SOURCE_USER });
      await skopeoCopy(images.single.ref, `docker://${external.host}/ext/app:1`, ['--dest-creds', `${SOURCE_USER.username}:${SOURCE_USER.password}`]);
    });
    after(() => external?.stop());

    test('each new digest is imported with the source credentials and promoted (no validation)', async () => {
      await cli.berth(['secret', 'set', '--vault-name', 'berthkv', '--name', 'ext-password', '--value', SOURCE_USER.password]);
      const created = await cli.json<Mirror>([
        'mirror', 'create', '-n', 'extapp', '-r', 'contoso', '--source', `${external.host}/ext/app:1`, '--image', 'ext-app:1', '--poll-interval', '1',
        '--source-username', SOURCE_USER.username, '--source-password', 'https://berthkv.vault.azure.net/secrets/ext-password',
      ]);
      assert.equal(created.watch, 'Polling');
      assert.deepEqual(created.sourceCredentials, { userName: SOURCE_USER.username, password: null });
      const first = await settled('extapp', images.single.digest, 30);
      assert.equal(first.status, 'Promoted', JSON.stringify(first));
      assert.equal(await digestOf('contoso', 'ext-app:1'), images.single.digest);

      await skopeoCopy(images.ociIndex.ref, `docker://${external.host}/ext/app:1`, ['--all', '--dest-creds', `${SOURCE_USER.username}:${SOURCE_USER.password}`]);
      const second = await settled('extapp', images.ociIndex.digest, 30);
      assert.equal(second.status, 'Promoted', JSON.stringify(second));
      assert.equal(await digestOf('contoso', 'ext-app:1'), images.ociIndex.digest);
      assert.equal((await history('extapp')).length, 2);
    });
  });
});
