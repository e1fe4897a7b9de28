/**
 * Task triggers through the CLI and the real server: the trigger flags of `task create|update`,
 * `task timer ...`, `task show-webhook`, the views' ACR shapes (and never the webhook secret),
 * refusals of bad input, and one run per trigger source through the wired server — a commit
 * found by polling (`--git-poll-interval 1`), a signed webhook push, a base image that moves,
 * and a timer of a task without an identity of its own, which runs as the user who created it.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openMetaStore } from '../../../src/meta/index.ts';
import type { MetaStore } from '../../../src/meta/meta-store.ts';
import { TaskError } from '../../../src/tasks/task-service.ts';
import { changedTriggers } from '../../../src/tasks/trigger-settings.ts';
import { triggersOf } from '../../../src/tasks/triggers/trigger-config.ts';
import { loadConfig } from '../../../src/config/config.ts';
import { assertCliError, startCliBerth, type CliBerth } from '../../cli/cli-harness.ts';
import { startBerth } from '../../helpers/berth-process.ts';
import { startGitServer, type GitServer, type GitTestRepository } from '../../helpers/git-server.ts';
import { assignRole, createUser, loginServer } from '../../helpers/identity.ts';
import { pushImage } from '../../helpers/oci-http.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Run {
  runId: string;
  task: string | null;
  status: string;
  trigger: string;
  sourceTrigger: { commitId: string; branchName: string; eventType: string; providerType: string; repositoryUrl: string } | null;
  imageUpdateTrigger: { images: { registry: string; repository: string; tag: string; digest: string }[] } | null;
  timerTrigger: { timerTriggerName: string; scheduleOccurrence: string } | null;
}

interface Task {
  name: string;
  trigger: {
    sourceTriggers: { name: string; sourceRepository: { repositoryUrl: string; branch: string | null; sourceControlType: string }; sourceTriggerEvents: string[]; status: string }[];
    baseImageTrigger: { name: string; baseImageTriggerType: string; status: string };
    timerTriggers: { name: string; schedule: string; status: string }[];
  };
}

/** Steps that run on the host and succeed at once; the second prints the commit and branch the first saved. */
const TASK_FILE = `version: v1.1.0
steps:
  - cmd: berth configure --defaults registry=seen-{{.Run.Commit}}-{{.Run.Branch}}
  - cmd: berth configure
`;

describe('changedTriggers', () => {
  const seal = (secret: string) => `sealed:${secret}`;
  const defaults = triggersOf({ triggers: null });
  const url = 'https://git.example.com/team/app.git#main';

  test('a git context gets an enabled commit trigger with a new secret; updates keep it unless the context changes', async () => {
    const created = await changedTriggers(defaults, {}, { path: url, changed: true }, seal);
    assert.equal(created.source?.enabled, true);
    assert.equal(created.source?.pollIntervalSeconds, null);
    assert.match(created.source!.webhookSecret, /^sealed:[0-9a-f]{64}$/);

    const polled = await changedTriggers(created, { gitPollIntervalSeconds: 5 }, { path: url, changed: false }, seal);
    assert.deepEqual(polled.source, { ...created.source, pollIntervalSeconds: 5 });
    const reset = await changedTriggers(polled, { gitPollIntervalSeconds: null }, { path: url, changed: false }, seal);
    assert.equal(reset.source?.pollIntervalSeconds, null);

    const moved = await changedTriggers(polled, {}, { path: 'https://git.example.com/team/other.git#dev', changed: true }, seal);
    assert.equal(moved.source?.webhookSecret, created.source?.webhookSecret, 'another git context keeps the secret');
    assert.equal((await changedTriggers(polled, {}, { path: null, changed: true }, seal)).source, null, '/dev/null has no commit trigger');
    const pinned = `https://git.example.com/team/app.git#${'a'.repeat(40)}`;
    assert.equal((await changedTriggers(defaults, {}, { path: pinned, changed: true }, seal)).source, null, 'a context pinned to a commit never moves');
  });

  test('refuses a poll interval out of range and a bad base image trigger name', async () => {
    await assert.rejects(changedTriggers(defaults, { gitPollIntervalSeconds: 0 }, { path: url, changed: true }, seal), TaskError);
    await assert.rejects(changedTriggers(defaults, { baseImageTriggerName: 'no spaces' }, { path: null, changed: true }, seal), /invalid base image trigger name/);
  });
});

describe('trigger settings of the server', () => {
  test('tasks.gitPollSeconds: default 60, BERTH_GIT_POLL_SECONDS, and a flag that changes only that setting', () => {
    const defaults = loadConfig({}, {}).tasks;
    assert.deepEqual([defaults.gitPollSeconds, defaults.timerTickSeconds, defaults.imagePollSeconds], [60, 5, 600]);
    assert.equal(loadConfig({}, { BERTH_GIT_POLL_SECONDS: '9' }).tasks.gitPollSeconds, 9);
    const flagged = loadConfig({ tasks: { gitPollSeconds: 7 } }, { BERTH_GIT_POLL_SECONDS: '9', BERTH_TASK_WORKERS: '3' }).tasks;
    assert.deepEqual([flagged.gitPollSeconds, flagged.workers], [7, 3]);
  });

  test('berth serve --git-poll-interval sets it', async () => {
    const server = await startBerth({ extraArgs: ['--git-poll-interval', '7'] });
    try {
      assert.match(await server.logTail(), /"gitPollSeconds":7\b/);
    } finally {
      await server.stop();
    }
  });
});

describe('task triggers: CLI, API and the wired trigger sources', () => {
  let cli: CliBerth;
  let git: GitServer;
  let repo: GitTestRepository;
  /** The server's metadata store, opened a second time: what a build recorded, and what a run was queued with. */
  let meta: MetaStore;
  const alice = { username: 'alice', password: 'alice-password-5c1e' };

  const runsOf = async (task: string) => (await cli.json<Run[]>(['task', 'list-runs', '-r', 'contoso', '-n', task, '--top', '50'])).filter((run) => run.task === task);
  /** Waits (bounded) for a finished run of `task` with `trigger`. */
  const finishedRun = async (task: string, trigger: string, timeoutMs: number): Promise<Run> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const done = (await runsOf(task)).find((run) => run.trigger === trigger && !['Queued', 'Running'].includes(run.status));
      if (done) return done;
      assert.ok(Date.now() < deadline, `no finished ${trigger} run of ${task} within ${timeoutMs} ms`);
      await sleep(250);
    }
  };
  const logOf = async (runId: string) => (await cli.berth(['task', 'logs', '-r', 'contoso', '--run-id', runId])).stdout;

  before(async () => {
    cli = await startCliBerth({ tasks: { gitPollSeconds: 60, timerTickSeconds: 1 } } as never);
    git = await startGitServer();
    meta = await openMetaStore({ url: `sqlite:${path.join(cli.server.dataDir, 'berth.db')}` });
    await cli.berth(['create', '-n', 'contoso']);
    repo = await git.createRepo('app', { 'acr-task.yaml': TASK_FILE });

    // A task without an identity, created by alice, on a timer that fires every minute: its run is
    // checked by the last test, so the wait for the next minute overlaps the others.
    const { principalId } = await createUser(cli.server, alice.username, alice.password);
    await assignRole(cli.server, principalId, 'Contributor', '/registries/contoso');
    const asAlice = { env: { BERTH_USERNAME: alice.username, BERTH_PASSWORD: alice.password } };
    await cli.berth(['task', 'create', '-n', 'minutely', '-r', 'contoso', '-c', '/dev/null', '--cmd', 'berth configure --defaults registry={{.Run.Registry}}', '--schedule', 'every:* * * * *'], asAlice);
  });

  after(async () => {
    await git?.stop();
    await meta?.close();
    await cli?.close();
  });

  test('a git-context task gets a commit trigger, a base-image trigger and timers, shown in ACR’s shape without the secret', async () => {
    const created = await cli.json<Task>([
      'task', 'create', '-n', 'gittask', '-r', 'contoso', '-c', `${git.url('app')}#main`, '-f', 'acr-task.yaml',
      '--git-poll-interval', '1', '--base-image-trigger-type', 'All', '--base-image-trigger-name', 'bases',
      '--schedule', '0 2 * * *', '--schedule', 'weekly:0 3 * * 1',
    ]);
    assert.deepEqual(created.trigger, {
      sourceTriggers: [
        {
          name: 'defaultSourceTriggerName',
          sourceRepository: { repositoryUrl: git.url('app'), branch: 'main', sourceControlType: 'Git' },
          sourceTriggerEvents: ['commit'],
          status: 'Enabled',
        },
      ],
      baseImageTrigger: { name: 'bases', baseImageTriggerType: 'All', status: 'Enabled' },
      timerTriggers: [
        { name: 't1', schedule: '0 2 * * *', status: 'Enabled' },
        { name: 'weekly', schedule: '0 3 * * 1', status: 'Enabled' },
      ],
    });
    const shown = (await cli.berth(['task', 'show', '-n', 'gittask', '-r', 'contoso'])).stdout;
    assert.doesNotMatch(shown, /webhookSecret|secret/i, 'the webhook secret is never part of the task');

    const table = (await cli.berth(['task', 'list', '-r', 'contoso', '-o', 'table'])).stdout;
    assert.match(table, /gittask\s+linux\s+Enabled\s+\S+\s+SOURCE, TIMER, BASE_IMAGE/);
    assert.match(table, /minutely\s+linux\s+Enabled\s+TIMER, BASE_IMAGE/);
  });

  test('task update changes each trigger flag; a context that is not git has no commit trigger', async () => {
    const updated = await cli.json<Task>([
      'task', 'update', '-n', 'gittask', '-r', 'contoso', '--commit-trigger-enabled', 'false', '--base-image-trigger-enabled', 'false',
      '--base-image-trigger-type', 'Runtime', '--schedule', 'hourly:0 * * * *',
    ]);
    assert.equal(updated.trigger.sourceTriggers[0]!.status, 'Disabled');
    assert.deepEqual(updated.trigger.baseImageTrigger, { name: 'bases', baseImageTriggerType: 'Runtime', status: 'Disabled' });
    assert.deepEqual(updated.trigger.timerTriggers.map((timer) => timer.name), ['t1', 'weekly', 'hourly']);
    const table = (await cli.berth(['task', 'show', '-n', 'gittask', '-r', 'contoso', '-o', 'table'])).stdout;
    assert.match(table, /gittask\s+linux\s+Enabled\s+\S+\s+TIMER\s*$/m);

    const again = await cli.json<Task>(['task', 'update', '-n', 'gittask', '-r', 'contoso', '--commit-trigger-enabled', '--base-image-trigger-enabled']);
    assert.equal(again.trigger.sourceTriggers[0]!.status, 'Enabled');
    assert.equal(again.trigger.baseImageTrigger.status, 'Enabled');

    const plain = await cli.json<Task>(['task', 'create', '-n', 'nocontext', '-r', 'contoso', '-c', '/dev/null', '--cmd', 'berth configure --defaults registry=x', '--base-image-trigger-enabled', 'false']);
    assert.deepEqual(plain.trigger, { sourceTriggers: [], baseImageTrigger: { name: 'defaultBaseimageTriggerName', baseImageTriggerType: 'Runtime', status: 'Disabled' }, timerTriggers: [] });
    assertCliError(await cli.berth(['task', 'update', '-n', 'nocontext', '-r', 'contoso', '--commit-trigger-enabled', 'true'], { allowFailure: true }), /commit trigger needs a context that is a git repository/);
    assertCliError(await cli.berth(['task', 'update', '-n', 'nocontext', '-r', 'contoso', '--git-poll-interval', '5'], { allowFailure: true }), /--git-poll-interval applies only/);
    assertCliError(await cli.berth(['task', 'show-webhook', '-n', 'nocontext', '-r', 'contoso'], { allowFailure: true }), /has no commit trigger/);
  });

  test('bad schedules, trigger types and timer names are refused with a clear error, by the CLI and the API', async () => {
    assertCliError(
      await cli.berth(['task', 'create', '-n', 'badcron', '-r', 'contoso', '-c', '/dev/null', '--cmd', 'berth configure', '--schedule', '61 * * * *'], { allowFailure: true }),
      /invalid schedule '61 \* \* \* \*': the minute field '61' does not parse/,
    );
    assertCliError(await cli.berth(['task', 'timer', 'add', '-n', 'gittask', '-r', 'contoso', '--timer-name', 'x', '--schedule', '* * *'], { allowFailure: true }), /a cron expression has 5 fields/);
    assertCliError(await cli.berth(['task', 'update', '-n', 'gittask', '-r', 'contoso', '--base-image-trigger-type', 'Sometimes'], { allowFailure: true }), /Allowed choices are All, Runtime/);
    assertCliError(await cli.berth(['task', 'update', '-n', 'gittask', '-r', 'contoso', '--git-poll-interval', '0'], { allowFailure: true }), /expected whole seconds from 1 to 86400/);
    assert.equal((await cli.berth(['task', 'show', '-n', 'badcron', '-r', 'contoso'], { allowFailure: true })).code, 1, 'nothing was created');

    const api = async (method: string, path: string, body: unknown) => {
      const response = await cli.server.request(`/mgmt/v1/registries/contoso/tasks${path}`, { method, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
      return { status: response.status, detail: ((await response.json()) as { detail?: string }).detail ?? '' };
    };
    const badCron = await api('POST', '', { name: 'badcron', contextPath: null, cmd: 'berth configure', schedules: ['0 25 * * *'] });
    assert.equal(badCron.status, 400);
    assert.match(badCron.detail, /the hour field '25' does not parse/);
    const badType = await api('PATCH', '/gittask', { baseImageTriggerType: 'Sometimes' });
    assert.equal(badType.status, 400);
    assert.match(badType.detail, /baseImageTriggerType/);
    const sameSchedule = await api('POST', '/gittask/timers', { name: 'again', schedule: '0 2 * * *' });
    assert.deepEqual([sameSchedule.status, sameSchedule.detail], [400, "timer 't1' already has the schedule '0 2 * * *'; a task's timers need different schedules"]);
    assert.equal((await api('PATCH', '/gittask/timers/nosuch', { enabled: false })).status, 404);
  });

  test('task timer add|update|remove|list', async () => {
    await cli.berth(['task', 'timer', 'add', '-n', 'gittask', '-r', 'contoso', '--timer-name', 'nightly', '--schedule', '30 1 * * *', '--enabled', 'false']);
    const listed = await cli.json(['task', 'timer', 'list', '-n', 'gittask', '-r', 'contoso']);
    assert.deepEqual(listed, [
      { name: 't1', schedule: '0 2 * * *', status: 'Enabled' },
      { name: 'weekly', schedule: '0 3 * * 1', status: 'Enabled' },
      { name: 'hourly', schedule: '0 * * * *', status: 'Enabled' },
      { name: 'nightly', schedule: '30 1 * * *', status: 'Disabled' },
    ]);
    const updated = await cli.json<Task>(['task', 'timer', 'update', '-n', 'gittask', '-r', 'contoso', '--timer-name', 'nightly', '--schedule', '45 1 * * *', '--enabled']);
    assert.deepEqual(updated.trigger.timerTriggers.at(-1), { name: 'nightly', schedule: '45 1 * * *', status: 'Enabled' });
    for (const name of ['t1', 'weekly', 'hourly']) await cli.berth(['task', 'timer', 'remove', '-n', 'gittask', '-r', 'contoso', '--timer-name', name]);
    const table = (await cli.berth(['task', 'timer', 'list', '-n', 'gittask', '-r', 'contoso', '-o', 'table'])).stdout;
    assert.match(table, /NAME\s+SCHEDULE\s+STATUS\n.*\nnightly\s+45 1 \* \* \*\s+Enabled/);
    assertCliError(await cli.berth(['task', 'timer', 'remove', '-n', 'gittask', '-r', 'contoso', '--timer-name', 'hourly'], { allowFailure: true }), /has no timer named 'hourly'/);
  });

  test('a new commit, found by polling every second, runs the task for exactly that commit with TRIGGER Commit', async () => {
    const commit = await repo.commit({ 'README.md': 'polled\n' }, 'a commit to poll');
    const run = await finishedRun('gittask', 'Commit', 30_000);
    assert.equal(run.status, 'Succeeded', await logOf(run.runId));
    assert.deepEqual(run.sourceTrigger, { id: commit, eventType: 'commit', commitId: commit, branchName: 'main', repositoryUrl: git.url('app'), providerType: 'Poll' });
    assert.equal(run.imageUpdateTrigger, null);
    const log = await logOf(run.runId);
    assert.match(log, new RegExp(`Source commit: ${commit} \\(branch main\\)`));
    assert.match(log, new RegExp(`seen-${commit}-main`), '{{.Run.Commit}} and {{.Run.Branch}}');
    const table = (await cli.berth(['task', 'list-runs', '-r', 'contoso', '-n', 'gittask', '-o', 'table'])).stdout;
    assert.match(table, new RegExp(`${run.runId}\\s+gittask\\s+linux\\s+Succeeded\\s+Commit`));
  });

  test('show-webhook gives the URL and secret; a push signed with it runs the task, a bad signature runs nothing', async () => {
    // Polling hourly from now on (after the check already due at the old interval), so the push is the webhook's.
    await cli.berth(['task', 'update', '-n', 'gittask', '-r', 'contoso', '--git-poll-interval', '3600']);
    await sleep(1500);
    const webhook = await cli.json<{ url: string; secret: string; contentType: string; events: string[] }>(['task', 'show-webhook', '-n', 'gittask', '-r', 'contoso']);
    assert.equal(webhook.url, `${cli.server.url}/mgmt/v1/hooks/git/contoso/gittask`);
    assert.match(webhook.secret, /^[0-9a-f]{64}$/);
    assert.deepEqual([webhook.contentType, webhook.events], ['application/json', ['push']]);

    const before = (await runsOf('gittask')).length;
    const commit = await repo.commit({ 'README.md': 'pushed\n' }, 'a commit announced by webhook');
    const body = JSON.stringify({ ref: 'refs/heads/main', after: commit, repository: { clone_url: git.url('app'), default_branch: 'main' } });
    const send = (signature: string) =>
      fetch(webhook.url, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': signature } });

    const forged = await send(`sha256=${createHmac('sha256', 'not-the-secret').update(body).digest('hex')}`);
    assert.equal(forged.status, 401);
    const accepted = await send(`sha256=${createHmac('sha256', webhook.secret).update(body).digest('hex')}`);
    assert.equal(accepted.status, 202, await accepted.clone().text());
    const { runId } = (await accepted.json()) as { runId: string };
    const deadline = Date.now() + 30_000;
    let run = (await runsOf('gittask')).find((candidate) => candidate.runId === runId)!;
    while (['Queued', 'Running'].includes(run.status) && Date.now() < deadline) {
      await sleep(250);
      run = (await runsOf('gittask')).find((candidate) => candidate.runId === runId)!;
    }
    assert.equal(run.status, 'Succeeded', await logOf(runId));
    assert.deepEqual([run.trigger, run.sourceTrigger?.commitId, run.sourceTrigger?.providerType], ['Commit', commit, 'GitHub']);
    assert.equal((await runsOf('gittask')).length, before + 1, 'one run for the push, none for the forged one');
  });

  test('a base image that moves runs the dependent task with TRIGGER Image Update', async () => {
    await cli.berth(['task', 'create', '-n', 'onbase', '-r', 'contoso', '-c', '/dev/null', '--cmd', 'berth configure --defaults registry=x']);
    const host = loginServer(cli.server, 'contoso');
    const first = await pushImage(cli.server, 'base', 'v1', undefined, host);
    // What a build FROM contoso's base:v1 records (the builds themselves are tested with the base-image trigger).
    await meta.triggers.replaceBaseImageDependencies('contoso', 'onbase', [
      { loginServer: host, registry: 'contoso', repository: 'base', tag: 'v1', digest: first.digest, type: 'Runtime' },
    ]);
    const moved = await pushImage(cli.server, 'base', 'v1', undefined, host);
    const run = await finishedRun('onbase', 'Image Update', 30_000);
    assert.equal(run.status, 'Succeeded', await logOf(run.runId));
    assert.deepEqual(run.imageUpdateTrigger?.images, [{ registry: host, repository: 'base', tag: 'v1', digest: moved.digest }]);
  });

  test('a timer fires a task without an identity of its own; its run acts as the user who created the task', async () => {
    const run = await finishedRun('minutely', 'Timer', 75_000);
    assert.equal(run.status, 'Succeeded', await logOf(run.runId));
    assert.equal(run.timerTrigger?.timerTriggerName, 'every');
    assert.match(run.timerTrigger!.scheduleOccurrence, /^\d{4}-\d\d-\d\dT\d\d:\d\d:00Z$/);
    const request = (await meta.tasks.getRun('contoso', run.runId))!.request as { identity: { kind: string; name: string }; caller: unknown };
    assert.deepEqual([request.identity.kind, request.identity.name, request.caller], ['user', 'alice', null]);
    await cli.berth(['task', 'update', '-n', 'minutely', '-r', 'contoso', '--status', 'Disabled']);
  });
});
