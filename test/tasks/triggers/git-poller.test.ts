/**
 * The commit poller against a token-protected git server over HTTP and a local repository: the
 * first head is only recorded, each new commit on the followed branch queues one run, commits the
 * webhook already claimed are not queued again, and unreachable repositories are logged without
 * the token and without stopping the loop.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, afterEach, before, describe, test } from 'node:test';
import pino from 'pino';
import type { RunRecord, TaskRecord } from '../../../src/meta/task-store.ts';
import { claimCommit } from '../../../src/tasks/triggers/commit-trigger.ts';
import { GitCommitPoller } from '../../../src/tasks/triggers/git-poller.ts';
import type { TaskTriggers } from '../../../src/tasks/triggers/trigger-config.ts';
import type { TriggeredRun, TriggeredRuns } from '../../../src/tasks/triggers/triggered-runs.ts';
import { closedPort } from '../context/closed-port.ts';
import { startGitServer, type GitServer, type GitTestRepository } from '../../helpers/git-server.ts';
import { MemoryCursors } from '../../helpers/memory-cursors.ts';

const TOKEN = 'ghp-poller-token-8e21c7';
/** The test vault "seals" by prefixing, so a test can see what was unsealed. */
const seal = (value: string): string => `sealed:${value}`;
const vault = {
  unseal: (sealed: string): string => sealed.replace(/^sealed:/, ''),
  isReference: (value: string): boolean => value.startsWith('vault://'),
  resolve: async (reference: string): Promise<string> => `resolved ${reference}`,
};

/** Records queued runs; serves a mutable list of tasks. */
class RecordingRuns implements TriggeredRuns {
  readonly queued: Array<{ registry: string; task: string; run: TriggeredRun }> = [];
  tasks: TaskRecord[] = [];
  async queue(registry: string, task: string, run: TriggeredRun): Promise<RunRecord | undefined> {
    this.queued.push({ registry, task, run });
    return { registry, runId: `ca${this.queued.length}` } as RunRecord;
  }
  async allTasks(): Promise<TaskRecord[]> {
    return this.tasks;
  }
}

function taskOn(name: string, contextPath: string, options: { token?: string; enabled?: boolean; interval?: number | null; status?: TaskRecord['status'] } = {}): TaskRecord {
  const triggers: TaskTriggers = {
    source: { enabled: options.enabled ?? true, pollIntervalSeconds: options.interval === undefined ? 1 : options.interval, webhookSecret: seal('s3cret') },
    baseImage: { enabled: false, type: 'Runtime', name: 'defaultBaseimageTriggerName' },
    timers: [],
  };
  return {
    registry: 'contoso',
    name,
    status: options.status ?? 'Enabled',
    platform: 'linux/amd64',
    timeoutSeconds: 600,
    contextPath,
    contextAccessToken: options.token === undefined ? null : seal(options.token),
    step: { type: 'EncodedTask', taskFileContent: 'steps: []\n', values: [] },
    credentials: [],
    identityPrincipalId: null,
    triggers,
    createdAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
  };
}

function capturingLogger(): { logger: pino.Logger; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), text: () => chunks.join('') };
}

/** Waits until `condition` holds (at most `timeoutMs`). */
async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('git commit poller', () => {
  let server: GitServer;
  let repo: GitTestRepository;
  let cursors: MemoryCursors;
  let runs: RecordingRuns;
  let log: ReturnType<typeof capturingLogger>;
  let poller: GitCommitPoller | undefined;

  before(async () => {
    server = await startGitServer({ token: TOKEN });
    repo = await server.createRepo('app', { Dockerfile: 'FROM busybox\n' });
  });
  after(async () => {
    await server.stop();
  });
  afterEach(async () => {
    await poller?.stop();
    poller = undefined;
  });

  function startPoller(tasks: TaskRecord[], defaultIntervalSeconds = 60): GitCommitPoller {
    cursors = new MemoryCursors();
    runs = new RecordingRuns();
    runs.tasks = tasks;
    log = capturingLogger();
    poller = new GitCommitPoller({ triggers: cursors, runs, vault, defaultIntervalSeconds, tickMs: 100, logger: log.logger });
    poller.start();
    return poller;
  }

  const cursorOf = (task: string): string | undefined => cursors.cursors.get(`contoso/${task}`);

  test('the first head is recorded without a run; a new commit on the branch queues exactly one', async () => {
    const head = await repo.commit({ 'a.txt': 'a\n' }, 'before the task');
    startPoller([taskOn('web-task', `${server.url('app')}#main`, { token: TOKEN })]);
    await until(() => cursorOf('web-task') === head, 5000, 'the first head to be recorded');
    await sleep(1500);
    assert.deepEqual(runs.queued, []);

    await repo.commit({ 'b.txt': 'b\n' }, 'elsewhere', 'dev');
    const started = Date.now();
    const next = await repo.commit({ 'a.txt': 'a2\n' }, 'new work');
    await until(() => runs.queued.length > 0, 4000, 'the new commit to queue a run');
    assert.ok(Date.now() - started < 3000, `picked up after ${Date.now() - started} ms`);
    assert.deepEqual(runs.queued, [
      {
        registry: 'contoso',
        task: 'web-task',
        run: { trigger: 'Commit', details: { eventType: 'commit', commitId: next, branchName: 'main', repositoryUrl: server.url('app'), providerType: 'Poll' } },
      },
    ]);
    await sleep(1500);
    assert.equal(runs.queued.length, 1, 'one run per commit, however often the branch is polled');
  });

  test('a task without a branch follows the default branch; a local repository works too', async () => {
    startPoller([taskOn('default-branch', server.url('app'), { token: TOKEN }), taskOn('local-repo', `${repo.path}#main`)]);
    await until(() => cursorOf('default-branch') !== undefined && cursorOf('local-repo') !== undefined, 5000, 'both heads');
    const next = await repo.commit({ 'c.txt': 'c\n' }, 'third');
    await until(() => runs.queued.length === 2, 4000, 'both tasks to queue a run');
    for (const queued of runs.queued) {
      assert.equal(queued.run.trigger, 'Commit');
      assert.deepEqual([queued.run.details.commitId, queued.run.trigger === 'Commit' && queued.run.details.branchName], [next, 'main']);
    }
  });

  test('a commit the webhook already claimed is not queued again', async () => {
    startPoller([taskOn('claimed', `${server.url('app')}#main`, { token: TOKEN })]);
    await until(() => cursorOf('claimed') !== undefined, 5000, 'the first head');
    const next = await repo.commit({ 'd.txt': 'd\n' }, 'announced by webhook');
    assert.equal(await claimCommit(cursors, 'contoso', 'claimed', next), true);
    assert.equal(await claimCommit(cursors, 'contoso', 'claimed', next), false, 'a second claim of the same commit');
    await sleep(2500);
    assert.deepEqual(runs.queued, []);
  });

  test('disabled triggers, disabled tasks and the default interval', async () => {
    startPoller(
      [
        taskOn('trigger-off', `${server.url('app')}#main`, { token: TOKEN, enabled: false }),
        taskOn('task-off', `${server.url('app')}#main`, { token: TOKEN, status: 'Disabled' }),
        taskOn('slow-poll', `${server.url('app')}#main`, { token: TOKEN, interval: null }),
      ],
      3600,
    );
    await until(() => cursorOf('slow-poll') !== undefined, 5000, 'the first head');
    await repo.commit({ 'e.txt': 'e\n' }, 'unseen for an hour');
    await sleep(2500);
    assert.deepEqual(runs.queued, []);
    assert.equal(cursorOf('trigger-off'), undefined);
    assert.equal(cursorOf('task-off'), undefined);
  });

  test('unreachable repositories and wrong tokens are logged once, without the token, and the loop goes on', async () => {
    const wrongToken = 'wrong-token-5b7f0a';
    startPoller([
      taskOn('unreachable', `http://127.0.0.1:${closedPort()}/gone.git#main`),
      taskOn('bad-token', `${server.url('app')}#main`, { token: wrongToken }),
      taskOn('missing-branch', `${server.url('app')}#no-such-branch`, { token: TOKEN }),
      taskOn('healthy', `${server.url('app')}#main`, { token: TOKEN }),
    ]);
    await until(() => cursorOf('healthy') !== undefined, 5000, 'the healthy task');
    const next = await repo.commit({ 'f.txt': 'f\n' }, 'still polled');
    await until(() => runs.queued.length === 1, 4000, 'the healthy task to queue a run');
    assert.equal(runs.queued[0]!.run.trigger === 'Commit' && runs.queued[0]!.run.details.commitId, next);

    const lines = log
      .text()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg: string; task?: string; reason?: string });
    const failures = (task: string) => lines.filter((line) => line.msg === 'polling for new commits failed' && line.task === task);
    assert.equal(failures('unreachable').length, 1, 'logged once although polled every second');
    assert.match(failures('unreachable')[0]!.reason!, /cannot reach/);
    assert.equal(failures('bad-token').length, 1);
    assert.match(failures('bad-token')[0]!.reason!, /authentication failed/);
    assert.equal(failures('missing-branch').length, 1);
    assert.match(failures('missing-branch')[0]!.reason!, /no-such-branch does not exist/);
    assert.doesNotMatch(log.text(), new RegExp(`${wrongToken}|${TOKEN}`));
  });
});
