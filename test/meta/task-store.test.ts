/**
 * The `TaskStore` contract, on SQLite and on a throwaway PostgreSQL cluster: tasks, run ids,
 * the run queue with concurrent claimers (several stores on one database, as several nodes),
 * cancellation, interrupted runs, logs and secrets.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { openMetaStore, RegistryNotFoundError, type MetaStore } from '../../src/meta/index.ts';
import { formatRunId, runIdPrefix } from '../../src/meta/kysely-task-store.ts';
import { TaskExistsError, type NewRun, type NewTask, type RunRecord } from '../../src/meta/task-store.ts';
import { startPostgres, type PostgresCluster } from '../helpers/postgres.ts';

interface Database {
  open(): Promise<MetaStore>;
  /**
   * Whether several stores may share the database, as several nodes. SQLite is one node's
   * database: there, concurrent callers share the node's one store (and its one connection).
   */
  multiNode: boolean;
  cleanup(): Promise<void>;
}

function task(registry: string, name: string, overrides: Partial<NewTask> = {}): NewTask {
  return {
    registry,
    name,
    status: 'Enabled',
    platform: 'linux/amd64',
    timeoutSeconds: 3600,
    contextPath: 'https://example.com/app.git#main',
    contextAccessToken: 'v1.sealed',
    step: { type: 'Docker', dockerFilePath: 'Dockerfile', imageNames: ['app:{{.Run.ID}}'], isPushEnabled: true, noCache: false, arguments: [] },
    credentials: [{ loginServer: 'other.localhost', username: 'u', password: 'v1.sealed', useIdentity: false }],
    identityPrincipalId: null,
    triggers: { timers: [{ name: 'nightly', schedule: '0 3 * * *' }] },
    createdBy: { kind: 'user', id: 'u-1', name: 'alice', owner: false },
    ...overrides,
  };
}

function run(registry: string, overrides: Partial<NewRun> = {}): NewRun {
  return { registry, task: 'build', runType: 'AutoRun', trigger: 'Manual', platform: 'linux/amd64', request: { values: { a: 1 } }, ...overrides };
}

async function queue(store: MetaStore, registry: string, count: number): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  for (let i = 0; i < count; i++) runs.push(await store.tasks.queueRun(run(registry)));
  return runs;
}

function taskStoreContract(dialect: string, createDatabase: () => Promise<Database>): void {
  describe(`TaskStore on ${dialect}`, () => {
    let database: Database;
    let store: MetaStore;
    const others: MetaStore[] = [];

    async function node(): Promise<MetaStore> {
      if (!database.multiNode) return store;
      const opened = await database.open();
      others.push(opened);
      return opened;
    }

    beforeEach(async () => {
      database = await createDatabase();
      store = await database.open();
      await store.createRegistry('contoso');
      await store.createRegistry('fabrikam');
    });

    afterEach(async () => {
      for (const other of others.splice(0)) await other.close();
      await store.close();
      await database.cleanup();
    });

    it('creates, updates, reads, lists and deletes tasks', async () => {
      const created = await store.tasks.createTask(task('contoso', 'build'));
      assert.equal(created.createdAt, created.updatedAt);
      assert.deepEqual({ ...created, createdAt: undefined, updatedAt: undefined }, { ...task('contoso', 'build'), createdAt: undefined, updatedAt: undefined });
      await store.tasks.createTask(task('contoso', 'app', { contextPath: null, contextAccessToken: null, triggers: null, createdBy: null }));
      await store.tasks.createTask(task('fabrikam', 'build'));

      await assert.rejects(store.tasks.createTask(task('contoso', 'build')), TaskExistsError);
      await assert.rejects(store.tasks.createTask(task('nowhere', 'build')), RegistryNotFoundError);

      const step = { type: 'EncodedTask' as const, taskFileContent: 'steps:\n  - cmd: busybox\n', values: [{ name: 's', value: 'v1.x', isSecret: true }] };
      const updated = await store.tasks.updateTask(task('contoso', 'build', { status: 'Disabled', step, identityPrincipalId: 'p-1', createdBy: null }));
      assert.equal(updated?.status, 'Disabled');
      assert.deepEqual(updated?.step, step);
      assert.equal(updated?.identityPrincipalId, 'p-1');
      assert.equal(updated?.createdAt, created.createdAt);
      assert.deepEqual(updated?.createdBy, created.createdBy, 'an update keeps who created the task');
      assert.equal(await store.tasks.updateTask(task('contoso', 'missing')), undefined);

      assert.deepEqual(await store.tasks.getTask('contoso', 'build'), updated);
      const app = await store.tasks.getTask('contoso', 'app');
      assert.equal(app?.contextPath, null);
      assert.equal(app?.triggers, null);
      assert.equal(app?.createdBy, null);
      assert.deepEqual((await store.tasks.listTasks('contoso')).map((t) => t.name), ['app', 'build']);
      assert.deepEqual((await store.tasks.listAllTasks()).map((t) => `${t.registry}/${t.name}`), ['contoso/app', 'contoso/build', 'fabrikam/build']);

      assert.equal(await store.tasks.deleteTask('contoso', 'build'), true);
      assert.equal(await store.tasks.deleteTask('contoso', 'build'), false);
      assert.equal(await store.tasks.getTask('contoso', 'build'), undefined);
      assert.equal((await store.tasks.getTask('fabrikam', 'build'))?.name, 'build');
    });

    it('gives each registry its own increasing run ids in ACR style', async () => {
      const contoso = await queue(store, 'contoso', 40);
      const fabrikam = await queue(store, 'fabrikam', 2);
      const prefix = runIdPrefix('contoso');
      assert.match(prefix, /^[a-z]{2}$/);
      assert.deepEqual(
        contoso.map((r) => r.runId),
        Array.from({ length: 40 }, (_, i) => formatRunId(prefix, i + 1)),
      );
      assert.equal(contoso[8]!.runId, `${prefix}9`);
      assert.equal(contoso[9]!.runId, `${prefix}a`);
      assert.equal(contoso[36]!.runId, `${prefix}11`);
      assert.deepEqual(fabrikam.map((r) => r.runId), [`${runIdPrefix('fabrikam')}1`, `${runIdPrefix('fabrikam')}2`]);
      await assert.rejects(store.tasks.queueRun(run('nowhere')), RegistryNotFoundError);

      const first = contoso[0]!;
      assert.equal(first.status, 'Queued');
      assert.equal(first.task, 'build');
      assert.equal(first.runType, 'AutoRun');
      assert.equal(first.trigger, 'Manual');
      assert.deepEqual(first.request, { values: { a: 1 } });
      assert.equal(first.triggerDetails, null);
      assert.deepEqual(first.outputImages, []);
      assert.equal(first.startTime, null);
      assert.equal(first.cancelRequested, false);
      assert.deepEqual(await store.tasks.getRun('contoso', first.runId), first);
      assert.equal(await store.tasks.getRun('fabrikam', `${prefix}9`), undefined);
    });

    it('hands out distinct run ids to concurrent queuers on several nodes', async () => {
      const nodes = [store, await node(), await node()];
      const runs = (await Promise.all(nodes.map((n) => queue(n, 'contoso', 8)))).flat();
      const numbers = runs.map((r) => parseInt(r.runId.slice(2), 36)).sort((a, b) => a - b);
      assert.deepEqual(numbers, Array.from({ length: 24 }, (_, i) => i + 1));
    });

    it('lists runs newest first, filtered by task and status, at most top', async () => {
      await store.tasks.queueRun(run('contoso', { task: 'a' }));
      await store.tasks.queueRun(run('contoso', { task: 'b', triggerDetails: { commit: 'abc' } }));
      await store.tasks.queueRun(run('contoso', { task: null, runType: 'QuickBuild' }));
      await store.tasks.queueRun(run('fabrikam', { task: 'a' }));
      const claimed = await store.tasks.claimRun('w1');
      const p = runIdPrefix('contoso');
      assert.deepEqual((await store.tasks.listRuns('contoso', {})).map((r) => r.runId), [`${p}3`, `${p}2`, `${p}1`]);
      assert.deepEqual((await store.tasks.listRuns('contoso', { top: 2 })).map((r) => r.runId), [`${p}3`, `${p}2`]);
      assert.deepEqual((await store.tasks.listRuns('contoso', { task: 'b' })).map((r) => r.triggerDetails), [{ commit: 'abc' }]);
      assert.deepEqual((await store.tasks.listRuns('contoso', { status: 'Running' })).map((r) => r.runId), [claimed?.runId]);
      assert.equal((await store.tasks.listRuns('contoso', { status: 'Queued' })).length, 2);
    });

    it('claims the oldest queued run first, each run once, across registries', async () => {
      const a = await store.tasks.queueRun(run('fabrikam'));
      const b = await store.tasks.queueRun(run('contoso'));
      const claimed = await store.tasks.claimRun('worker-1');
      assert.equal(claimed?.runId, a.runId);
      assert.equal(claimed?.registry, 'fabrikam');
      assert.equal(claimed?.status, 'Running');
      assert.equal(claimed?.claimedBy, 'worker-1');
      assert.ok(claimed?.startTime);
      assert.equal((await store.tasks.claimRun('worker-2'))?.runId, b.runId);
      assert.equal(await store.tasks.claimRun('worker-1'), undefined);
    });

    it('never gives one run to two of four concurrent claimers on separate nodes', async () => {
      const queued = await queue(store, 'contoso', 20);
      const claimers = [store, await node(), await node(), await node()];
      const claims = await Promise.all(
        claimers.map(async (claimer, index) => {
          const mine: RunRecord[] = [];
          // Bounded: at most one claim per queued run, plus the empty claim that ends the loop.
          for (let attempt = 0; attempt <= queued.length; attempt++) {
            const claimed = await claimer.tasks.claimRun(`worker-${index}`);
            if (!claimed) break;
            mine.push(claimed);
          }
          return mine;
        }),
      );
      const ids = claims.flat().map((r) => r.runId);
      assert.equal(ids.length, 20);
      assert.equal(new Set(ids).size, 20);
      for (const [index, mine] of claims.entries()) {
        for (const claimed of mine) {
          assert.equal(claimed.claimedBy, `worker-${index}`);
          assert.equal((await store.tasks.getRun('contoso', claimed.runId))?.claimedBy, `worker-${index}`);
        }
      }
      assert.equal((await store.tasks.listRuns('contoso', { status: 'Queued' })).length, 0);
    });

    it('finishes a run only once, recording status, message and output images', async () => {
      const queued = await store.tasks.queueRun(run('contoso'));
      await store.tasks.claimRun('w');
      const outputImages = [{ registry: 'contoso.localhost', repository: 'app', tag: 'v1', digest: `sha256:${'a'.repeat(64)}` }];
      assert.equal(await store.tasks.finishRun('contoso', queued.runId, { status: 'Succeeded', outputImages }), true);
      assert.equal(await store.tasks.finishRun('contoso', queued.runId, { status: 'Failed', errorMessage: 'late' }), false);
      const finished = await store.tasks.getRun('contoso', queued.runId);
      assert.equal(finished?.status, 'Succeeded');
      assert.equal(finished?.errorMessage, null);
      assert.deepEqual(finished?.outputImages, outputImages);
      assert.ok(finished?.finishTime && finished.startTime && finished.finishTime >= finished.startTime);
      assert.equal(await store.tasks.finishRun('contoso', 'zz404', { status: 'Failed' }), false);
      await assert.rejects(store.tasks.finishRun('contoso', queued.runId, { status: 'Running' }), /not a final run status/);

      const failed = await store.tasks.queueRun(run('contoso'));
      assert.equal(await store.tasks.finishRun('contoso', failed.runId, { status: 'Error', errorMessage: 'invalid task file' }), true);
      assert.equal((await store.tasks.getRun('contoso', failed.runId))?.errorMessage, 'invalid task file');
      assert.equal(await store.tasks.claimRun('w'), undefined);
    });

    it('cancels a queued run at once and asks a running one to stop', async () => {
      const [first, second] = await queue(store, 'contoso', 2);
      const running = await store.tasks.claimRun('w');
      assert.equal(running?.runId, first!.runId);

      const canceled = await store.tasks.requestCancel('contoso', second!.runId);
      assert.equal(canceled?.status, 'Canceled');
      assert.ok(canceled?.finishTime);
      assert.equal(canceled?.cancelRequested, false);
      assert.equal(await store.tasks.claimRun('w'), undefined);

      const asked = await store.tasks.requestCancel('contoso', first!.runId);
      assert.equal(asked?.status, 'Running');
      assert.equal(asked?.cancelRequested, true);
      assert.equal(await store.tasks.finishRun('contoso', first!.runId, { status: 'Canceled' }), true);

      const again = await store.tasks.requestCancel('contoso', first!.runId);
      assert.equal(again?.status, 'Canceled');
      assert.equal(await store.tasks.requestCancel('contoso', 'zz404'), undefined);
    });

    it('marks interrupted runs Error, of one worker or of all', async () => {
      await queue(store, 'contoso', 4);
      const a = await store.tasks.claimRun('node-a');
      const b = await store.tasks.claimRun('node-b');
      const c = await store.tasks.claimRun('node-b');
      assert.equal(await store.tasks.finishRun('contoso', c!.runId, { status: 'Succeeded' }), true);

      assert.equal(await store.tasks.failInterruptedRuns('the server restarted', 'node-b'), 1);
      const failed = await store.tasks.getRun('contoso', b!.runId);
      assert.equal(failed?.status, 'Error');
      assert.equal(failed?.errorMessage, 'the server restarted');
      assert.ok(failed?.finishTime);
      assert.equal((await store.tasks.getRun('contoso', a!.runId))?.status, 'Running');
      assert.equal((await store.tasks.getRun('contoso', c!.runId))?.status, 'Succeeded');

      assert.equal(await store.tasks.failInterruptedRuns('interrupted'), 1);
      assert.equal((await store.tasks.getRun('contoso', a!.runId))?.status, 'Error');
      assert.equal((await store.tasks.listRuns('contoso', { status: 'Queued' })).length, 1);
    });

    it('appends log chunks and reads them from a chunk number on', async () => {
      const [one, two] = await queue(store, 'contoso', 2);
      for (let seq = 0; seq < 5; seq++) await store.tasks.appendRunLog('contoso', one!.runId, seq, `line ${seq}\n`);
      await store.tasks.appendRunLog('contoso', two!.runId, 0, 'other\n');
      assert.deepEqual(await store.tasks.readRunLog('contoso', one!.runId, 3), [
        { seq: 3, text: 'line 3\n' },
        { seq: 4, text: 'line 4\n' },
      ]);
      assert.equal((await store.tasks.readRunLog('contoso', one!.runId, 0)).length, 5);
      assert.deepEqual(await store.tasks.readRunLog('contoso', two!.runId, 0), [{ seq: 0, text: 'other\n' }]);
      assert.deepEqual(await store.tasks.readRunLog('contoso', one!.runId, 5), []);
      await assert.rejects(store.tasks.appendRunLog('contoso', one!.runId, 4, 'twice'));
    });

    it('sets secrets (a new version each time), reads, lists and deletes them', async () => {
      const first = await store.tasks.setSecret({ vault: 'myvault', name: 'pw', value: 'v1.a', contentType: null, version: 'ver1' });
      assert.equal(first.createdAt, first.updatedAt);
      await new Promise((resolve) => setTimeout(resolve, 5));
      const second = await store.tasks.setSecret({ vault: 'myvault', name: 'pw', value: 'v1.b', contentType: 'text/plain', version: 'ver2' });
      assert.equal(second.value, 'v1.b');
      assert.equal(second.version, 'ver2');
      assert.equal(second.contentType, 'text/plain');
      assert.equal(second.createdAt, first.createdAt);
      assert.ok(second.updatedAt > first.updatedAt);
      await store.tasks.setSecret({ vault: 'myvault', name: 'a-token', value: 'v1.c', contentType: null, version: 'ver3' });
      await store.tasks.setSecret({ vault: 'other', name: 'pw', value: 'v1.d', contentType: null, version: 'ver4' });

      assert.deepEqual(await store.tasks.getSecret('myvault', 'pw'), second);
      assert.equal(await store.tasks.getSecret('myvault', 'missing'), undefined);
      assert.deepEqual((await store.tasks.listSecrets('myvault')).map((s) => s.name), ['a-token', 'pw']);
      assert.equal(await store.tasks.deleteSecret('myvault', 'pw'), true);
      assert.equal(await store.tasks.deleteSecret('myvault', 'pw'), false);
      assert.equal((await store.tasks.getSecret('other', 'pw'))?.value, 'v1.d');
    });

    it('removes tasks, runs, logs and the run counter with their registry', async () => {
      await store.tasks.createTask(task('contoso', 'build'));
      const [queued] = await queue(store, 'contoso', 3);
      await store.tasks.appendRunLog('contoso', queued!.runId, 0, 'x');
      await queue(store, 'fabrikam', 1);
      assert.equal(await store.deleteRegistry('contoso'), true);
      await store.createRegistry('contoso');
      assert.deepEqual(await store.tasks.listTasks('contoso'), []);
      assert.deepEqual(await store.tasks.listRuns('contoso', {}), []);
      assert.deepEqual(await store.tasks.readRunLog('contoso', queued!.runId, 0), []);
      assert.equal((await store.tasks.queueRun(run('contoso'))).runId, `${runIdPrefix('contoso')}1`);
      assert.equal((await store.tasks.listRuns('fabrikam', {})).length, 1);
      assert.equal((await store.tasks.claimRun('w'))?.registry, 'fabrikam');
    });
  });
}

taskStoreContract('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-tasks-'));
  const url = `sqlite:${join(dir, 'berth.db')}`;
  return {
    open: () => openMetaStore({ url }),
    multiNode: false,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

let cluster: PostgresCluster | undefined;

before(async () => {
  cluster = await startPostgres();
});

after(async () => {
  await cluster?.stop();
});

taskStoreContract('postgres', async () => {
  const url = await cluster!.createDatabase();
  return { open: () => openMetaStore({ url }), multiNode: true, cleanup: async () => {} };
});
