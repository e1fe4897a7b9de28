import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { openMetaStore } from '../../../src/meta/index.ts';
import type { MetaStore } from '../../../src/meta/meta-store.ts';
import type { RunFinish, RunRecord } from '../../../src/meta/task-store.ts';
import { runStopOf } from '../../../src/tasks/engine/abort-reasons.ts';
import { RunWorker, workerIdFor, type RunExecutor } from '../../../src/tasks/worker.ts';

/** Runs that take `ms` each and finish through the store, as the engine does. */
class TimedEngine implements RunExecutor {
  started: Array<{ runId: string; at: number }> = [];
  maxConcurrent = 0;
  #current = 0;

  constructor(
    private readonly meta: MetaStore,
    private readonly ms: number,
  ) {}

  async execute(run: RunRecord, signal: AbortSignal): Promise<RunFinish> {
    this.started.push({ runId: run.runId, at: Date.now() });
    this.maxConcurrent = Math.max(this.maxConcurrent, ++this.#current);
    try {
      await sleep(this.ms, undefined, { signal });
      const finish: RunFinish = { status: 'Succeeded' };
      await this.meta.tasks.finishRun(run.registry, run.runId, finish);
      return finish;
    } catch {
      const stop = runStopOf(signal);
      const finish: RunFinish = { status: stop?.kind === 'canceled' ? 'Canceled' : 'Error', errorMessage: stop?.message ?? 'failed' };
      await this.meta.tasks.finishRun(run.registry, run.runId, finish);
      return finish;
    } finally {
      this.#current--;
    }
  }
}

function queue(meta: MetaStore): Promise<RunRecord> {
  return meta.tasks.queueRun({ registry: 'contoso', task: null, runType: 'QuickRun', trigger: 'Manual', platform: 'linux/amd64', request: {} });
}

async function waitFor(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(20);
  }
}

describe('run worker', () => {
  let dir: string;
  let meta: MetaStore;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'berth-worker-'));
    meta = await openMetaStore({ url: `sqlite:${path.join(dir, 'berth.db')}` });
    await meta.createRegistry('contoso');
  });
  after(async () => {
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('starts a queued run at once when woken, without waiting for its poll', async () => {
    const engine = new TimedEngine(meta, 10);
    const worker = new RunWorker({ store: meta.tasks, engine, pollMs: 60_000, workerId: 'w-wake' });
    await worker.start();
    const queuedAt = Date.now();
    await queue(meta);
    worker.wake();
    await waitFor(async () => engine.started.length === 1);
    assert.ok(engine.started[0]!.at - queuedAt < 200, `started after ${engine.started[0]!.at - queuedAt} ms`);
    await worker.stop();
  });

  it('completes 10 queued runs with 2 at a time, none lost', async () => {
    const engine = new TimedEngine(meta, 50);
    const runs = await Promise.all(Array.from({ length: 10 }, () => queue(meta)));
    const worker = new RunWorker({ store: meta.tasks, engine, concurrency: 2, pollMs: 60_000, workerId: 'w-ten' });
    await worker.start();
    await waitFor(async () => (await Promise.all(runs.map((run) => meta.tasks.getRun('contoso', run.runId)))).every((run) => run?.status === 'Succeeded'));
    assert.equal(engine.started.length, 10);
    assert.equal(engine.maxConcurrent, 2);
    await worker.stop();
  });

  it('cancels a run on request, also one flagged through the store only', async () => {
    const engine = new TimedEngine(meta, 30_000);
    const worker = new RunWorker({ store: meta.tasks, engine, pollMs: 60_000, cancelPollMs: 100, workerId: 'w-cancel' });
    await worker.start();
    const direct = await queue(meta);
    const flagged = await queue(meta);
    worker.wake();
    await waitFor(async () => engine.started.length === 2);
    assert.equal(worker.cancel('contoso', direct.runId), true);
    await meta.tasks.requestCancel('contoso', flagged.runId);
    await waitFor(async () => (await meta.tasks.getRun('contoso', flagged.runId))?.status === 'Canceled', 2000);
    assert.equal((await meta.tasks.getRun('contoso', direct.runId))?.status, 'Canceled');
    await worker.stop();
  });

  it('marks its interrupted runs Error on start, and running runs Error on stop', async () => {
    const interrupted = await queue(meta);
    await meta.tasks.claimRun('w-restart');
    const engine = new TimedEngine(meta, 30_000);
    const worker = new RunWorker({ store: meta.tasks, engine, pollMs: 60_000, workerId: 'w-restart' });
    await worker.start();
    const afterRestart = await meta.tasks.getRun('contoso', interrupted.runId);
    assert.equal(afterRestart?.status, 'Error');
    assert.equal(afterRestart?.errorMessage, 'the server restarted while the run was in progress');
    const running = await queue(meta);
    worker.wake();
    await waitFor(async () => engine.started.length === 1);
    await worker.stop();
    const stopped = await meta.tasks.getRun('contoso', running.runId);
    assert.equal(stopped?.status, 'Error');
    assert.equal(stopped?.errorMessage, 'the server stopped');
  });

  it('derives a stable worker id from the data directory', () => {
    assert.equal(workerIdFor('/srv/berth'), workerIdFor('/srv/berth/'));
    assert.notEqual(workerIdFor('/srv/berth'), workerIdFor('/srv/other'));
  });
});
