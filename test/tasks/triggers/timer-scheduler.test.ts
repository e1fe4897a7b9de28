/**
 * The timer scheduler on a driven clock: each occurrence fires once per timer across scheduler
 * instances (nodes, restarts) sharing a claim store; a restart catches the current minute but never
 * replays older ones; missed minutes within a check window are caught up. Then end to end on a real
 * Berth: a `* * * * *` task run by the real engine, listed with trigger Timer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Principal } from '../../../src/auth/principal.ts';
import { databaseUrl } from '../../../src/config/config.ts';
import { openMetaStore } from '../../../src/meta/index.ts';
import type { MetaStore } from '../../../src/meta/meta-store.ts';
import type { RunRecord, TaskRecord } from '../../../src/meta/task-store.ts';
import type { TriggerStore } from '../../../src/meta/trigger-store.ts';
import type { StoredTaskService } from '../../../src/tasks/stored-task-service.ts';
import { occurrenceMinute, TimerScheduler, type TimerSchedulerLogger } from '../../../src/tasks/triggers/timer-scheduler.ts';
import { triggersOf, type TaskTriggers, type TimerTriggerConfig } from '../../../src/tasks/triggers/trigger-config.ts';
import type { TriggeredRun, TriggeredRuns } from '../../../src/tasks/triggers/triggered-runs.ts';
import { OWNER, startTestBerth, type TestBerth } from '../../helper.ts';
import { createRegistry, loginServer, mgmtOk } from '../../helpers/identity.ts';
import { pushImage } from '../../helpers/oci-http.ts';

async function ownerPrincipal(server: TestBerth): Promise<Principal> {
  const users = await mgmtOk<{ value: { username: string; principalId: string }[] }>(server, 200, 'GET', '/users');
  const user = users.value.find((candidate) => candidate.username === OWNER.username)!;
  return { kind: 'user', id: user.principalId, name: user.username, owner: true };
}

/** A clock the test moves. */
function clock(iso: string): { now: () => Date; set(iso: string): void } {
  let current = new Date(iso);
  return { now: () => current, set: (next) => (current = new Date(next)) };
}

/** The claim half of the trigger store, in memory. */
function claims(): Pick<TriggerStore, 'claimTimerOccurrence'> & { keys: Set<string> } {
  const keys = new Set<string>();
  return {
    keys,
    async claimTimerOccurrence(registry, task, timer, occurrence) {
      const key = `${registry}/${task}/${timer}@${occurrence}`;
      if (keys.has(key)) return false;
      keys.add(key);
      return true;
    },
  };
}

function taskWith(name: string, timers: TimerTriggerConfig[], status: TaskRecord['status'] = 'Enabled'): TaskRecord {
  const triggers: TaskTriggers = { source: null, baseImage: { enabled: false, type: 'Runtime', name: 'b' }, timers };
  return { registry: 'contoso', name, status, triggers } as TaskRecord;
}

/** Records what the scheduler queues. */
function recorder(tasks: TaskRecord[]): TriggeredRuns & { queued: Array<{ task: string } & TriggeredRun> } {
  const queued: Array<{ task: string } & TriggeredRun> = [];
  return {
    queued,
    async allTasks() {
      return tasks;
    },
    async queue(_registry, task, run) {
      queued.push({ task, ...run });
      return { runId: `r${queued.length}` } as RunRecord;
    },
  };
}

const quietLogger = (): TimerSchedulerLogger & { warnings: string[] } => {
  const warnings: string[] = [];
  return { warnings, info() {}, error() {}, warn: (fields, message) => warnings.push(`${JSON.stringify(fields)} ${message}: ${(fields as { err?: Error }).err?.message}`) };
};

const timer = (name: string, schedule: string, enabled = true): TimerTriggerConfig => ({ name, schedule, enabled });
const fired = (runs: ReturnType<typeof recorder>) => runs.queued.map((run) => (run.trigger === 'Timer' ? `${run.task}/${run.details.timerTriggerName}@${run.details.scheduleOccurrence}` : '?'));

describe('timer scheduler on a driven clock', () => {
  test("the current minute fires once at hh:mm:59.5; a second scheduler on the same store adds nothing", async () => {
    const time = clock('2024-05-01T12:00:59.500Z');
    const store = claims();
    const runs = recorder([taskWith('purge', [timer('t1', '* * * * *')])]);
    const first = new TimerScheduler({ store, runs, now: time.now });
    assert.equal(await first.tick(), 1);
    assert.deepEqual(runs.queued, [{ task: 'purge', trigger: 'Timer', details: { timerTriggerName: 't1', scheduleOccurrence: '2024-05-01T12:00:00Z' } }]);
    const second = new TimerScheduler({ store, runs, now: time.now });
    assert.equal(await second.tick(), 0);
    assert.equal(await first.tick(), 0);
    time.set('2024-05-01T12:01:00.200Z');
    assert.equal(await second.tick(), 1);
    assert.equal(await first.tick(), 0);
    assert.deepEqual(fired(runs), ['purge/t1@2024-05-01T12:00:00Z', 'purge/t1@2024-05-01T12:01:00Z']);
  });

  test('a restart does not replay old minutes but catches the current one; minutes missed within a check window are caught up', async () => {
    const time = clock('2024-05-01T12:00:10Z');
    const store = claims();
    const runs = recorder([taskWith('hourly', [timer('t1', '0 * * * *')]), taskWith('often', [timer('t1', '*/2 * * * *')])]);
    const scheduler = new TimerScheduler({ store, runs, now: time.now });
    await scheduler.tick();
    time.set('2024-05-01T12:05:30Z');
    await scheduler.tick();
    assert.deepEqual(fired(runs), [
      'hourly/t1@2024-05-01T12:00:00Z',
      'often/t1@2024-05-01T12:00:00Z',
      'often/t1@2024-05-01T12:02:00Z',
      'often/t1@2024-05-01T12:04:00Z',
    ]);

    runs.queued.length = 0;
    time.set('2024-05-01T13:00:20Z');
    const restarted = new TimerScheduler({ store, runs, now: time.now });
    await restarted.tick();
    assert.deepEqual(fired(runs), ['hourly/t1@2024-05-01T13:00:00Z', 'often/t1@2024-05-01T13:00:00Z']);
  });

  test('overlapping timers each fire; disabled timers and tasks and unparsable stored schedules do not', async () => {
    const time = clock('2024-05-01T12:00:30Z');
    const logger = quietLogger();
    const runs = recorder([
      taskWith('two', [timer('t1', '0 * * * *'), timer('t2', '0 12 * * *'), timer('off', '* * * * *', false)]),
      taskWith('disabled', [timer('t1', '* * * * *')], 'Disabled'),
      taskWith('broken', [timer('bad', '61 * * * *'), timer('good', '* * * * *')]),
    ]);
    const scheduler = new TimerScheduler({ store: claims(), runs, now: time.now, logger });
    assert.equal(await scheduler.tick(), 3);
    assert.deepEqual(fired(runs), ['two/t1@2024-05-01T12:00:00Z', 'two/t2@2024-05-01T12:00:00Z', 'broken/good@2024-05-01T12:00:00Z']);
    assert.equal(logger.warnings.length, 1);
    assert.match(logger.warnings[0]!, /"timer":"bad".*the minute field '61'/);
    time.set('2024-05-01T12:01:30Z');
    await scheduler.tick();
    assert.equal(logger.warnings.length, 1, 'a bad schedule is reported once');
  });

  test('a clock that goes back does not replay; a failed task listing is retried over the same window', async () => {
    const time = clock('2024-05-01T12:00:30Z');
    const tasks = [taskWith('a', [timer('t1', '* * * * *')])];
    const runs = recorder(tasks);
    let failListing = false;
    const flaky: TriggeredRuns = {
      queue: runs.queue,
      allTasks: async () => {
        if (failListing) throw new Error('database unavailable');
        return tasks;
      },
    };
    const scheduler = new TimerScheduler({ store: claims(), runs: flaky, now: time.now });
    await scheduler.tick();
    time.set('2024-05-01T11:58:00Z');
    assert.equal(await scheduler.tick(), 0);
    time.set('2024-05-01T11:59:30Z');
    assert.equal(await scheduler.tick(), 1);
    failListing = true;
    time.set('2024-05-01T12:01:10Z');
    await assert.rejects(scheduler.tick(), /database unavailable/);
    failListing = false;
    time.set('2024-05-01T12:02:10Z');
    assert.equal(await scheduler.tick(), 2, '12:00 was fired already; 12:01 (missed by the failed check) and 12:02 fire');
    assert.deepEqual(fired(runs), ['a/t1@2024-05-01T12:00:00Z', 'a/t1@2024-05-01T11:59:00Z', 'a/t1@2024-05-01T12:01:00Z', 'a/t1@2024-05-01T12:02:00Z']);
  });

  test('start checks at once and then every interval; stop ends it', async () => {
    const time = clock('2024-05-01T12:00:00.500Z');
    const runs = recorder([taskWith('a', [timer('t1', '* * * * *')])]);
    const scheduler = new TimerScheduler({ store: claims(), runs, now: time.now, intervalMs: 10 });
    scheduler.start();
    for (let waited = 0; runs.queued.length < 1 && waited < 2000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(runs.queued.length, 1);
    time.set('2024-05-01T12:01:00.500Z');
    for (let waited = 0; runs.queued.length < 2 && waited < 2000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(runs.queued.length, 2);
    await scheduler.stop();
    time.set('2024-05-01T12:02:00.500Z');
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(runs.queued.length, 2);
  });
});

describe('timer trigger end to end on a real Berth', () => {
  let server: TestBerth | undefined;
  const nodes: MetaStore[] = [];

  before(async () => {
    server = await startTestBerth();
    await createRegistry(server, 'contoso');
    // Two stores on the server's database: two nodes' schedulers.
    for (let index = 0; index < 2; index++) nodes.push(await openMetaStore({ url: databaseUrl(server.berth.config) }));
  });

  after(async () => {
    for (const meta of nodes) await meta.close();
    await server?.close();
  });

  /** How the task service queues a triggered run: the task as stored now, with its identity. */
  const triggeredRuns = (meta: MetaStore, service: StoredTaskService): TriggeredRuns => ({
    allTasks: async () => (await Promise.all((await meta.listRegistries()).map((registry) => meta.tasks.listTasks(registry.name)))).flat(),
    async queue(registry, name, run) {
      const task = await meta.tasks.getTask(registry, name);
      if (!task || task.status !== 'Enabled') return undefined;
      return service.queueTaskRun(task, { trigger: run.trigger, caller: null, values: [], triggerDetails: run.details });
    },
  });

  test("the seed's scheduled purge task (--context /dev/null, --cmd) fires once per minute across two nodes and its run shows trigger Timer", async () => {
    const contoso = loginServer(server!, 'contoso');
    for (let index = 0; index < 2; index++) await pushImage(server!, 'app', 'latest', undefined, contoso);
    const service = server!.berth.tasks.service;
    const owner = await ownerPrincipal(server!);
    await service.createTask('contoso', { name: 'purge', contextPath: null, cmd: "acr purge --filter 'app:.*' --untagged --ago 0d", assignIdentity: true }, owner);
    const [first, second] = nodes as [MetaStore, MetaStore];
    const { createdAt: _created, updatedAt: _updated, ...stored } = (await first.tasks.getTask('contoso', 'purge'))!;
    await first.tasks.updateTask({ ...stored, triggers: { ...triggersOf(stored), timers: [timer('t1', '* * * * *')] } });

    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    const now = () => new Date(minute + 59_500);
    const nodeOne = new TimerScheduler({ store: first.triggers, runs: triggeredRuns(first, service), now });
    const nodeTwo = new TimerScheduler({ store: second.triggers, runs: triggeredRuns(second, service), now });
    assert.equal(await nodeOne.tick(), 1);
    assert.equal(await nodeTwo.tick(), 0);
    assert.equal(await nodeOne.tick(), 0);

    const runs = await service.listRuns('contoso', { task: 'purge' });
    assert.equal(runs.length, 1);
    let log = '';
    for await (const chunk of service.readLog('contoso', runs[0]!.runId, { follow: true, signal: AbortSignal.timeout(60_000) })) log += chunk;
    const run = await service.getRun('contoso', runs[0]!.runId);
    assert.equal(run.status, 'Succeeded', log);
    assert.equal(run.trigger, 'Timer');
    assert.deepEqual(run.triggerDetails, { timerTriggerName: 't1', scheduleOccurrence: occurrenceMinute(new Date(minute)) });
    const listed = await mgmtOk<{ value: Array<{ runId: string; trigger: string }> }>(server!, 200, 'GET', '/registries/contoso/runs');
    assert.deepEqual(listed.value.map((row) => [row.runId, row.trigger]), [[run.runId, 'Timer']]);
    const remaining = await server!.request('/acr/v1/app/_manifests', { host: contoso });
    assert.equal(remaining.status === 404 ? 0 : ((await remaining.json()) as { manifests: unknown[] }).manifests.length, 0, 'the purge ran');
  });
});
