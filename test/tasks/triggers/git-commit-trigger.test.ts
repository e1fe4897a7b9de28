/**
 * The commit trigger end to end: a real in-process Berth and run engine (buildah and podman), a
 * task on a token-protected git repository served over HTTP, the poller and the webhook endpoint.
 * A new commit is picked up by polling within seconds, a signed GitHub push queues exactly one run
 * for its commit, and bad signatures, unknown tasks and disabled triggers run nothing.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { gitWebhookPath, gitWebhooksApi } from '../../../src/api/git-webhooks.ts';
import { GitWebhookReceiver } from '../../../src/tasks/triggers/git-webhook-receiver.ts';
import type { Principal } from '../../../src/auth/principal.ts';
import type { MetaStore } from '../../../src/meta/meta-store.ts';
import type { RunRecord } from '../../../src/meta/task-store.ts';
import type { Tasks } from '../../../src/tasks/index.ts';
import { contextAtCommit } from '../../../src/tasks/triggers/commit-trigger.ts';
import { GitCommitPoller } from '../../../src/tasks/triggers/git-poller.ts';
import type { TaskTriggers } from '../../../src/tasks/triggers/trigger-config.ts';
import type { TriggeredRuns } from '../../../src/tasks/triggers/triggered-runs.ts';
import { OWNER, startTestBerth, type TestBerth } from '../../helper.ts';
import { startAll } from '../../helpers/exec.ts';
import { startGitServer, type GitServer, type GitTestRepository } from '../../helpers/git-server.ts';
import { skopeoCopy, testImages, type TestImages } from '../../helpers/images.ts';

const TOKEN = 'glpat-commit-trigger-3c9e51';
const SECRET = 's3cret';
const TASK = 'commit-task';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('commit trigger: polling and webhooks with the real engine', () => {
  let server: TestBerth | undefined;
  let images: TestImages;
  let git: GitServer | undefined;
  let repo: GitTestRepository;
  let tasks: Tasks;
  let meta: MetaStore;
  let owner: Principal;
  let poller: GitCommitPoller | undefined;
  let hooks: FastifyInstance | undefined;
  let hooksUrl: string;

  /** Queues triggered runs through the task service; a Commit run builds exactly its commit. */
  const triggeredRuns: TriggeredRuns = {
    async queue(registry, name, run) {
      const task = await meta.tasks.getTask(registry, name);
      if (!task || task.status === 'Disabled') return undefined;
      const source = run.trigger === 'Commit' && task.contextPath !== null ? contextAtCommit(task.contextPath, run.details.commitId) : task.contextPath;
      return tasks.service.queueTaskRun({ ...task, contextPath: source }, { trigger: run.trigger, caller: null, values: [], triggerDetails: run.details });
    },
    allTasks: () => meta.tasks.listTasks('contoso'),
  };

  const startPoller = (): void => {
    poller = new GitCommitPoller({ triggers: meta.triggers, runs: triggeredRuns, vault: tasks.vault, defaultIntervalSeconds: 60, tickMs: 200 });
    poller.start();
  };
  const stopPoller = async (): Promise<void> => {
    await poller?.stop();
    poller = undefined;
  };

  const runsOfTask = (): Promise<RunRecord[]> => meta.tasks.listRuns('contoso', { task: TASK });
  const cursor = (): Promise<string | null> => meta.triggers.commitCursor('contoso', TASK);

  async function setTrigger(enabled: boolean): Promise<void> {
    const task = (await meta.tasks.getTask('contoso', TASK))!;
    const triggers: TaskTriggers = {
      source: { enabled, pollIntervalSeconds: 1, webhookSecret: tasks.vault.seal(SECRET) },
      baseImage: { enabled: false, type: 'Runtime', name: 'defaultBaseimageTriggerName' },
      timers: [],
    };
    const { createdAt: _created, updatedAt: _updated, ...definition } = task;
    await meta.tasks.updateTask({ ...definition, triggers });
  }

  /** The run's whole log, followed until it finishes, and the run after. */
  async function finished(runId: string): Promise<{ run: RunRecord; log: string }> {
    let log = '';
    for await (const chunk of tasks.service.readLog('contoso', runId, { follow: true, signal: AbortSignal.timeout(180_000) })) log += chunk;
    return { run: (await meta.tasks.getRun('contoso', runId))!, log };
  }

  function githubPush(commit: string, secret = SECRET): { body: string; headers: Record<string, string> } {
    const body = JSON.stringify({ ref: 'refs/heads/main', before: '0'.repeat(40), after: commit, repository: { clone_url: git!.url('app'), default_branch: 'main' } });
    const signature = createHmac('sha256', secret).update(body).digest('hex');
    return { body, headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${signature}` } };
  }

  const postHook = (path: string, init: { body: string; headers: Record<string, string> }): Promise<Response> =>
    fetch(`${hooksUrl}${path}`, { method: 'POST', body: init.body, headers: init.headers });

  before(async () => {
    await startAll(
      startTestBerth().then((started) => (server = started)),
      testImages().then((built) => (images = built)),
      startGitServer({ token: TOKEN }).then((started) => (git = started)),
    );
    repo = await git!.createRepo('app', { 'README.md': 'app\n' });
    const created = await server!.request('/mgmt/v1/registries', { method: 'POST', body: JSON.stringify({ name: 'contoso' }), headers: { 'content-type': 'application/json' } });
    assert.equal(created.status, 201);
    const registry = `contoso.localhost:${new URL(server!.url).port}`;
    await skopeoCopy(images.single.ref, `docker://${registry}/base:1`, ['--dest-creds', `${OWNER.username}:${OWNER.password}`]);

    tasks = server!.berth.tasks;
    // The installation's metadata store, for what no command sets yet (a task's trigger configuration).
    meta = server!.berth.meta;
    const users = (await (await server!.request('/mgmt/v1/users')).json()) as { value: { username: string; principalId: string }[] };
    const user = users.value.find((candidate) => candidate.username === OWNER.username)!;
    owner = { kind: 'user', id: user.principalId, name: user.username, owner: true };

    await tasks.service.createTask(
      'contoso',
      {
        name: TASK,
        contextPath: `${git!.url('app')}#main`,
        contextAccessToken: TOKEN,
        cmd: '{{.Run.Registry}}/base:1 sh -c "echo built commit={{.Run.Commit}}"',
        assignIdentity: true,
      },
      owner,
    );
    await setTrigger(true);

    hooks = Fastify();
    // A sibling route of the default JSON parsing, which the webhook's raw-body parser must leave alone.
    hooks.post('/mgmt/v1/echo', async (request) => ({ parsed: request.body }));
    await hooks.register(gitWebhooksApi, { prefix: '/mgmt/v1', receiver: new GitWebhookReceiver({ tasks: meta.tasks, vault: tasks.vault, triggers: meta.triggers, runs: triggeredRuns }) });
    await hooks.listen({ host: '127.0.0.1', port: 0 });
    hooksUrl = `http://127.0.0.1:${(hooks.server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await stopPoller();
    await hooks?.close();
    await server?.close();
    await git?.stop();
  });

  test('polling: the first head is only recorded; a new commit runs within seconds and builds that commit', async () => {
    startPoller();
    assert.equal(await until(async () => (await cursor()) ?? undefined, 5000, 'the first head'), repo.initialCommit);
    await sleep(1200);
    assert.deepEqual(await runsOfTask(), [], 'a new task does not run for the existing commit');

    const commit = await repo.commit({ 'README.md': 'v2\n' }, 'second');
    const pushed = Date.now();
    const [run] = await until(async () => ((await runsOfTask()).length > 0 ? runsOfTask() : undefined), 5000, 'the poller to queue a run');
    const pickedUpMs = Date.now() - pushed;
    assert.ok(pickedUpMs < 3000, `picked up after ${pickedUpMs} ms`);
    assert.equal(run!.trigger, 'Commit');
    assert.deepEqual(run!.triggerDetails, { eventType: 'commit', commitId: commit, branchName: 'main', repositoryUrl: git!.url('app'), providerType: 'Poll' });

    const { run: done, log } = await finished(run!.runId);
    assert.equal(done.status, 'Succeeded', log);
    assert.match(log, new RegExp(`Source commit: ${commit}`));
    assert.match(log, new RegExp(`built commit=${commit}`));
    assert.doesNotMatch(log, new RegExp(TOKEN));
    assert.equal((await runsOfTask()).length, 1);
  });

  test('webhook: a signed GitHub push queues exactly one run for its commit, and the poller does not add another', async () => {
    await stopPoller();
    const runsBefore = (await runsOfTask()).length;
    const commit = await repo.commit({ 'README.md': 'v3\n' }, 'third');
    // The branch moves on before the run starts: the run still builds the pushed commit.
    const fourth = await repo.commit({ 'README.md': 'v4\n' }, 'fourth');

    const push = githubPush(commit);
    const accepted = await postHook(gitWebhookPath('contoso', TASK), push);
    assert.equal(accepted.status, 202);
    const { runId } = (await accepted.json()) as { runId: string };
    const redelivered = await postHook(gitWebhookPath('contoso', TASK), push);
    assert.equal(redelivered.status, 200, 'a redelivery of the same push runs nothing');

    const run = (await meta.tasks.getRun('contoso', runId))!;
    assert.equal(run.trigger, 'Commit');
    assert.deepEqual(run.triggerDetails, { eventType: 'commit', commitId: commit, branchName: 'main', repositoryUrl: git!.url('app'), providerType: 'GitHub' });
    const { run: done, log } = await finished(runId);
    assert.equal(done.status, 'Succeeded', log);
    assert.match(log, new RegExp(`built commit=${commit}`));

    // Polling again finds the fourth commit, never the third a second time.
    startPoller();
    const polled = await until(async () => (await runsOfTask()).find((candidate) => candidate.runId !== runId && (candidate.triggerDetails as { commitId: string }).commitId === fourth), 5000, 'the fourth commit');
    assert.equal((polled.triggerDetails as { providerType: string }).providerType, 'Poll');
    await finished(polled.runId);
    await sleep(1500);
    const all = await runsOfTask();
    const commits = all.slice(0, all.length - runsBefore).map((queued) => (queued.triggerDetails as { commitId: string }).commitId);
    assert.deepEqual(commits.sort(), [commit, fourth].sort(), 'one run per commit');
  });

  test('a bad or missing signature is rejected and runs nothing; a ping is acknowledged', async () => {
    const runsBefore = (await runsOfTask()).length;
    const cursorBefore = await cursor();
    await stopPoller();
    const commit = await repo.commit({ 'README.md': 'v5\n' }, 'fifth');
    const forged = githubPush(commit, 'not-the-secret');
    const rejected = await postHook(gitWebhookPath('contoso', TASK), forged);
    assert.equal(rejected.status, 401);
    const unsigned = await postHook(gitWebhookPath('contoso', TASK), { body: forged.body, headers: { 'content-type': 'application/json', 'x-github-event': 'push' } });
    assert.equal(unsigned.status, 401);
    assert.equal(await cursor(), cursorBefore);
    assert.equal((await runsOfTask()).length, runsBefore);

    const pingBody = JSON.stringify({ zen: 'Design for failure.' });
    const ping = await postHook(gitWebhookPath('contoso', TASK), {
      body: pingBody,
      headers: { 'content-type': 'application/json', 'x-github-event': 'ping', 'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(pingBody).digest('hex')}` },
    });
    assert.equal(ping.status, 200);
    // The poller catches the commit up: the forged push did not consume it.
    startPoller();
    const runs = await until(async () => ((await runsOfTask()).length > runsBefore ? runsOfTask() : undefined), 5000, 'the poller to catch up');
    assert.equal((runs[0]!.triggerDetails as { commitId: string }).commitId, commit);
    await finished(runs[0]!.runId);
  });

  test('a webhook for an unknown task or registry is 404 and discloses nothing more', async () => {
    const push = githubPush(repo.initialCommit);
    for (const path of [gitWebhookPath('contoso', 'no-such-task'), gitWebhookPath('nosuchregistry', TASK), gitWebhookPath('contoso', '..')]) {
      const answer = await postHook(path, push);
      assert.equal(answer.status, 404, path);
    }
    const echoed = await fetch(`${hooksUrl}/mgmt/v1/echo`, { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } });
    assert.deepEqual(await echoed.json(), { parsed: { a: 1 } }, 'other routes still parse JSON');
  });

  test('a disabled commit trigger runs nothing, by webhook or by polling', async () => {
    await setTrigger(false);
    const runsBefore = (await runsOfTask()).length;
    const commit = await repo.commit({ 'README.md': 'v6\n' }, 'sixth');
    const answer = await postHook(gitWebhookPath('contoso', TASK), githubPush(commit));
    assert.equal(answer.status, 409);
    await sleep(2500);
    assert.equal((await runsOfTask()).length, runsBefore);
  });
});
