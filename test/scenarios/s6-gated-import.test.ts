/**
 * Scenario S6 — gated import of public content, as the seed walkthrough runs it, with three
 * registries on one server and local git repositories standing in for GitHub:
 * - `node-public` (publicregistry) builds `node:15-alpine` from *base-image-node* on every commit,
 *   FROM `upstream/node:15-alpine`, pushed beforehand in place of Docker Hub's;
 * - `base-import-node` (baseartifacts) runs the walkthrough's gating `acr-task.yaml` whenever
 *   publicregistry's `node:15-alpine` changes, reading it with a pull-only token kept as secrets;
 * - `hello-world` (contoso) builds FROM baseartifacts' `node:15-alpine` and serves a page showing
 *   the background colour from a detached step.
 * A Green commit flows through all three; a Red one fails the gate and never reaches hello-world.
 */
import assert from 'node:assert/strict';
import { chmod } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startCliBerth, type CliBerth } from '../cli/cli-harness.ts';
import { freePort } from '../helpers/berth-process.ts';
import { startGitServer, type GitServer, type GitTestRepository } from '../helpers/git-server.ts';
import { OWNER } from '../helper.ts';
import { skopeoCopy, testImages } from '../helpers/images.ts';
import { gatingTaskFile, TEST_DOCKERFILE, TEST_SH } from './walkthrough-files.ts';

const GIT_TOKEN = 'ghp-s6-local-token-9b2e';
const VAULT = 'walkthroughkv';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Run {
  runId: string;
  task: string | null;
  status: string;
  trigger: string;
}


const nodeDockerfile = (colour: string) => `ARG REGISTRY_NAME=
FROM \${REGISTRY_NAME}upstream/node:15-alpine
ENV BACKGROUND_COLOR ${colour}
`;

const NODE_TASK = `version: v1.1.0
steps:
  - build: -t $Registry/node:15-alpine --build-arg REGISTRY_NAME=$Registry/ .
  - push: ["$Registry/node:15-alpine"]
`;

const HELLO_DOCKERFILE = `ARG REGISTRY_FROM_URL=
FROM \${REGISTRY_FROM_URL}node:15-alpine
ARG BUILD_ID=
ENV BUILD_ID=\${BUILD_ID}
CMD sh -c 'mkdir -p /srv && echo "background: $BACKGROUND_COLOR, build $BUILD_ID" > /srv/index.html && exec httpd -f -p 8080 -h /srv'
`;

const helloTask = (port: number) => `version: v1.1.0
steps:
  - build: -t $Registry/hello-world:$ID --build-arg REGISTRY_FROM_URL={{.Values.REGISTRY_FROM_URL}} --build-arg BUILD_ID=$ID .
  - push: ["$Registry/hello-world:$ID"]
  - id: deploy
    cmd: $Registry/hello-world:$ID
    detach: true
    ports: ["127.0.0.1:${port}:8080"]
`;

describe('S6: gated import of public content, end to end', () => {
  let cli: CliBerth;
  let git: GitServer;
  let baseImageNode: GitTestRepository;
  let port: number;
  const host = (registry: string) => cli.loginServer(registry);

  const runs = (registry: string) => cli.json<Run[]>(['task', 'list-runs', '-r', registry, '-o', 'json']);
  /** Waits (bounded) until `registry` has a finished run of `task` beyond the `known` ones. */
  const nextRun = async (registry: string, task: string, known: Set<string>, timeoutMs = 120_000): Promise<Run> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const fresh = (await runs(registry)).filter((run) => run.task === task && !known.has(run.runId));
      const done = fresh.find((run) => !['Queued', 'Running'].includes(run.status));
      if (done) {
        known.add(done.runId);
        return done;
      }
      assert.ok(Date.now() < deadline, `no new run of ${task} in ${registry} within ${timeoutMs} ms`);
      await sleep(250);
    }
  };
  const runIds = async (registry: string) => new Set((await runs(registry)).map((run) => run.runId));
  const page = async (): Promise<string | undefined> => {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/index.html`, { signal: AbortSignal.timeout(2000) });
      return response.ok ? (await response.text()).trim() : undefined;
    } catch {
      return undefined;
    }
  };
  const pageShows = async (expected: string, timeoutMs = 30_000): Promise<string | undefined> => {
    const deadline = Date.now() + timeoutMs;
    let body = await page();
    while (body !== expected && Date.now() < deadline) {
      await sleep(250);
      body = await page();
    }
    return body;
  };
  const secretUri = (name: string) => `https://${VAULT}.vault.azure.net/secrets/${name}`;

  /** A pull-only token for `registry`'s `repository`, kept as two secrets; returns their URIs. */
  const pullTokenSecrets = async (registry: string, repository: string) => {
    const token = await cli.json<{ credentials: { passwords: { value: string }[] } }>([
      'token', 'create', '-n', `${registry}-pull`, '-r', registry, '--repository', repository, 'content/read', '-o', 'json',
    ]);
    await cli.berth(['secret', 'set', '--vault-name', VAULT, '--name', `registry-${registry}-user`, '--value', `${registry}-pull`]);
    await cli.berth(['secret', 'set', '--vault-name', VAULT, '--name', `registry-${registry}-password`, '--value', token.credentials.passwords[0]!.value]);
    return { user: secretUri(`registry-${registry}-user`), password: secretUri(`registry-${registry}-password`) };
  };

  before(async () => {
    cli = await startCliBerth({ tasks: { gitPollSeconds: 1 } });
    git = await startGitServer({ token: GIT_TOKEN });
    port = await freePort();
    for (const name of ['publicregistry', 'baseartifacts', 'contoso']) await cli.berth(['create', '-n', name]);
    const images = await testImages();
    await skopeoCopy(images.single.ref, `docker://${host('publicregistry')}/upstream/node:15-alpine`, ['--dest-creds', `${OWNER.username}:${OWNER.password}`]);
    await cli.berth(['secret', 'set', '--vault-name', VAULT, '--name', 'github-token', '--value', GIT_TOKEN]);

    baseImageNode = await git.createRepo('base-image-node', { 'acr-task.yaml': NODE_TASK, Dockerfile: nodeDockerfile('Green') });
    const gating = await gatingTaskFile();
    const importRepo = await git.createRepo('base-image-node-import', { 'acr-task.yaml': gating, Dockerfile: TEST_DOCKERFILE, 'test.sh': TEST_SH });
    await chmod(path.join(importRepo.path, 'test.sh'), 0o755);
    await importRepo.commit({}, 'make test.sh executable');
    await git.createRepo('hello-world', { 'acr-task.yaml': helloTask(port), Dockerfile: HELLO_DOCKERFILE });
  });

  after(async () => {
    await cli?.berth(['task', 'stop-detached', '-n', 'hello-world', '-r', 'contoso'], { allowFailure: true });
    await git?.stop();
    await cli?.close();
  });

  const gitToken = ['--git-access-token', secretUri('github-token')];
  /** What hello-world's detached container serves now. */
  let served = '';

  test('the three tasks, created as the walkthrough does, each run once by hand', async () => {
    await cli.berth(['task', 'create', '-n', 'node-public', '-r', 'publicregistry', '-f', 'acr-task.yaml', '--context', `${git.url('base-image-node')}#main`, ...gitToken, '--assign-identity']);
    const publicRuns = await runIds('publicregistry');
    await cli.berth(['task', 'run', '-n', 'node-public', '-r', 'publicregistry']);
    await nextRun('publicregistry', 'node-public', publicRuns);

    const publicPull = await pullTokenSecrets('publicregistry', 'node');
    await cli.berth([
      'task', 'create', '-n', 'base-import-node', '-r', 'baseartifacts', '-f', 'acr-task.yaml', '--context', `${git.url('base-image-node-import')}#main`,
      ...gitToken, '--set', `REGISTRY_FROM_URL=${host('publicregistry')}/`, '--assign-identity',
    ]);
    await cli.berth(['task', 'credential', 'add', '-n', 'base-import-node', '-r', 'baseartifacts', '--login-server', host('publicregistry'), '-u', publicPull.user, '-p', publicPull.password]);
    const baseRuns = await runIds('baseartifacts');
    await cli.berth(['task', 'run', '-n', 'base-import-node', '-r', 'baseartifacts']);
    assert.equal((await nextRun('baseartifacts', 'base-import-node', baseRuns)).status, 'Succeeded');

    const basePull = await pullTokenSecrets('baseartifacts', 'node');
    await cli.berth([
      'task', 'create', '-n', 'hello-world', '-r', 'contoso', '-f', 'acr-task.yaml', '--context', `${git.url('hello-world')}#main`,
      ...gitToken, '--set', `REGISTRY_FROM_URL=${host('baseartifacts')}/`, '--assign-identity',
    ]);
    await cli.berth(['task', 'credential', 'add', '-n', 'hello-world', '-r', 'contoso', '--login-server', host('baseartifacts'), '-u', basePull.user, '-p', basePull.password]);
    const contosoRuns = await runIds('contoso');
    await cli.berth(['task', 'run', '-n', 'hello-world', '-r', 'contoso']);
    const hello = await nextRun('contoso', 'hello-world', contosoRuns);
    assert.equal(hello.status, 'Succeeded');
    served = `background: Green, build ${hello.runId}`;
    assert.equal(await pageShows(served), served);
  });

  /** Commits the colour to base-image-node and follows the chain; returns the runs it caused. */
  const commitColour = async (colour: string) => {
    const known = { publicregistry: await runIds('publicregistry'), baseartifacts: await runIds('baseartifacts'), contoso: await runIds('contoso') };
    await baseImageNode.commit({ Dockerfile: nodeDockerfile(colour) }, `background ${colour}`);
    const nodePublic = await nextRun('publicregistry', 'node-public', known.publicregistry);
    const gate = await nextRun('baseartifacts', 'base-import-node', known.baseartifacts);
    return { nodePublic, gate, known };
  };

  test('a Red commit rebuilds the public image, fails the gate, and hello-world keeps serving Green', async () => {
    const { nodePublic, gate, known } = await commitColour('Red');
    assert.deepEqual([nodePublic.status, nodePublic.trigger], ['Succeeded', 'Commit']);
    assert.deepEqual([gate.status, gate.trigger], ['Failed', 'Image Update']);
    const log = (await cli.berth(['task', 'logs', '-r', 'baseartifacts', '--run-id', gate.runId])).stdout;
    assert.match(log, /ERROR: Invalid Color:.* Red/);
    await sleep(3000);
    const helloRuns = (await runs('contoso')).filter((run) => run.task === 'hello-world' && !known.contoso.has(run.runId));
    assert.deepEqual(helloRuns, [], 'hello-world was not rebuilt');
    assert.equal(await page(), served);
  });

  test('a later Green commit flows through all three, with TRIGGER Commit and Image Update', async () => {
    const { nodePublic, gate, known } = await commitColour('Green');
    assert.deepEqual([nodePublic.status, nodePublic.trigger], ['Succeeded', 'Commit']);
    assert.deepEqual([gate.status, gate.trigger], ['Succeeded', 'Image Update']);
    const hello = await nextRun('contoso', 'hello-world', known.contoso);
    assert.deepEqual([hello.status, hello.trigger], ['Succeeded', 'Image Update']);
    served = `background: Green, build ${hello.runId}`;
    assert.equal(await pageShows(served), served);
    const table = (await cli.berth(['task', 'list-runs', '-r', 'contoso', '-o', 'table'])).stdout;
    assert.match(table, /hello-world\s+linux\s+Succeeded\s+Image Update/);
  });
});
