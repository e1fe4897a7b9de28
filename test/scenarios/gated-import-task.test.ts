/**
 * The seed walkthrough's gating task, run unchanged against local registries: `publicregistry`
 * stands in for Docker Hub (its `node:15-alpine` built by `berth build`), the task
 * `base-import-node` in `baseartifacts` builds a test image from it, runs `test.sh`, and only when
 * the test passes pushes `node:15-alpine` and `node:15-alpine-{{.Run.ID}}`. Its context is a
 * private git repository; the git token and the publicregistry credential come from the secret
 * store by the key-vault URLs the seed uses.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startCliBerth, type CliBerth } from '../cli/cli-harness.ts';
import type { CommandResult } from '../helpers/exec.ts';
import { startGitServer, type GitServer, type GitTestRepository } from '../helpers/git-server.ts';
import { OWNER } from '../helper.ts';
import { skopeoCopy, testImages } from '../helpers/images.ts';
import { gatingTaskFile, TEST_DOCKERFILE, TEST_SH } from './walkthrough-files.ts';

const GIT_TOKEN = 'ghp-local-test-token-4f1c9a';
const VAULT = 'berthkv';



const runIdOf = (result: CommandResult): string => {
  const match = /Queued a run with ID: (\w+)/.exec(result.stdout);
  assert.ok(match, result.stdout);
  return match[1]!;
};

describe('the seed walkthrough’s gated import task, unchanged', () => {
  let cli: CliBerth;
  let git: GitServer;
  let repo: GitTestRepository;
  let scratch: string;
  let publicHost: string;

  const tags = async (registry: string, repository: string) =>
    (await cli.json<{ name: string }[]>(['repository', 'show-tags', '-n', registry, '--repository', repository, '--detail', '-o', 'json'])).map((tag) => tag.name).sort();
  const digestOf = async (registry: string, image: string) => {
    const { digest } = (await cli.json<{ tag: { digest: string } }>(['repository', 'show', '-n', registry, '-t', image, '-o', 'json'])).tag;
    assert.match(digest, /^sha256:[0-9a-f]{64}$/);
    return digest;
  };

  /** `berth build` of the simulated public node image, with the given background colour. */
  const publishNode = async (colour: string) => {
    const folder = path.join(scratch, `node-${colour}`);
    await rm(folder, { recursive: true, force: true });
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, 'Dockerfile'), `FROM ${publicHost}/upstream/busybox:1\nENV BACKGROUND_COLOR ${colour}\n`);
    await cli.berth(['build', '-r', 'publicregistry', '-t', 'node:15-alpine', '--no-logs', folder]);
  };

  before(async () => {
    cli = await startCliBerth();
    scratch = await mkdtemp(path.join(tmpdir(), 'berth-gated-'));
    git = await startGitServer({ token: GIT_TOKEN });
    for (const name of ['publicregistry', 'baseartifacts']) await cli.berth(['create', '-n', name]);
    publicHost = cli.loginServer('publicregistry');
    const images = await testImages();
    await skopeoCopy(images.single.ref, `docker://${publicHost}/upstream/busybox:1`, ['--dest-creds', `${OWNER.username}:${OWNER.password}`]);

    const taskFile = await gatingTaskFile();
    repo = await git.createRepo('base-image-node-import', { 'acr-task.yaml': taskFile, Dockerfile: TEST_DOCKERFILE, 'test.sh': TEST_SH });
    await chmod(path.join(repo.path, 'test.sh'), 0o755);
    await repo.commit({}, 'make test.sh executable');
  });

  after(async () => {
    await git?.stop();
    await cli?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  test('secrets, a pull token for publicregistry and the task, as the walkthrough creates them', async () => {
    await cli.berth(['secret', 'set', '--vault-name', VAULT, '--name', 'github-token', '--value', GIT_TOKEN]);
    const token = await cli.json<{ credentials: { passwords: { value: string }[] } }>([
      'token', 'create', '-n', 'baseartifacts-pull', '-r', 'publicregistry', '--repository', 'node', 'content/read', '-o', 'json',
    ]);
    await cli.berth(['secret', 'set', '--vault-name', VAULT, '--name', 'registry-publicregistry-user', '--value', 'baseartifacts-pull']);
    await cli.berth(['secret', 'set', '--vault-name', VAULT, '--name', 'registry-publicregistry-password', '--value', token.credentials.passwords[0]!.value]);
    const gitToken = (await cli.berth(['secret', 'show', '--vault-name', VAULT, '--name', 'github-token', '--query', 'value', '-o', 'tsv'])).stdout.trim();
    assert.equal(gitToken, GIT_TOKEN);

    await cli.berth([
      'task', 'create', '-n', 'base-import-node', '-r', 'baseartifacts', '-f', 'acr-task.yaml',
      '--context', `${git.url('base-image-node-import')}#main`, '--git-access-token', gitToken,
      '--set', `REGISTRY_FROM_URL=${publicHost}/`, '--assign-identity',
      // Run by hand here; scenario S6 covers the base-image trigger.
      '--base-image-trigger-enabled', 'false',
    ]);
    await cli.berth([
      'task', 'credential', 'add', '-n', 'base-import-node', '-r', 'baseartifacts', '--login-server', publicHost,
      '-u', `https://${VAULT}.vault.azure.net/secrets/registry-publicregistry-user`,
      '-p', `https://${VAULT}.vault.azure.net/secrets/registry-publicregistry-password`,
    ]);
  });

  let greenDigest: string;
  let greenRun: string;

  test('a green upstream image passes the gate and is imported under the stable and the unique tag', async () => {
    await publishNode('Green');
    const result = await cli.berth(['task', 'run', '-n', 'base-import-node', '-r', 'baseartifacts'], { allowFailure: true });
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    greenRun = runIdOf(result);
    assert.match(result.stdout, /Validation Complete - No Known Errors/);
    assert.doesNotMatch(result.stdout, new RegExp(GIT_TOKEN));
    assert.deepEqual(await tags('baseartifacts', 'node'), ['15-alpine', `15-alpine-${greenRun}`].sort());
    greenDigest = await digestOf('baseartifacts', 'node:15-alpine');
    assert.equal(greenDigest, await digestOf('publicregistry', 'node:15-alpine'));
  });

  test('a red upstream image fails the gate: nothing is imported and the stable tag keeps the green image', async () => {
    await publishNode('Red');
    const result = await cli.berth(['task', 'run', '-n', 'base-import-node', '-r', 'baseartifacts'], { allowFailure: true });
    assert.notEqual(result.code, 0);
    const redRun = runIdOf(result);
    assert.match(result.stdout, /ERROR: Invalid Color:.* Red/);
    assert.match(result.stdout, /Step ID: push-base-image skipped/);
    assert.deepEqual(await tags('baseartifacts', 'node'), ['15-alpine', `15-alpine-${greenRun}`].sort());
    assert.equal(await digestOf('baseartifacts', 'node:15-alpine'), greenDigest);

    const runs = await cli.json<{ runId: string; task: string; status: string; trigger: string }[]>(['task', 'list-runs', '-r', 'baseartifacts', '-o', 'json']);
    assert.deepEqual(
      runs.map((run) => [run.runId, run.task, run.status, run.trigger]),
      [
        [redRun, 'base-import-node', 'Failed', 'Manual'],
        [greenRun, 'base-import-node', 'Succeeded', 'Manual'],
      ],
    );
  });
});
