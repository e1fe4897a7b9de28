/**
 * Berth only: how fast task triggers start runs, and that a base image many tasks build FROM
 * triggers each of them once. Local git repositories on disk stand in for a git host.
 *
 * - Webhook: a task on a repository's `main` (an `acr-task.yaml` of one `cmd` step, polling
 *   daily so only the webhook fires); `taskSamples` times a commit, then from just before the
 *   signed GitHub push event's `POST` to the queued run's first `Executing step ID:` line.
 * - Base image: a Dockerfile task building `FROM <login server>/bench/triggers-base:1`, run once
 *   by hand (the build records the dependency); `taskSamples` times a new image pushed under that
 *   tag, then from the manifest `PUT`'s answer to the triggered run's first step.
 * - Fan-out: `triggerTasks` Dockerfile tasks building FROM `bench/triggers-fanout-base:1`, each
 *   run once by hand (unmeasured); one push of a new image under that tag must queue exactly one
 *   `Image Update` run of every task.
 */
import { randomBytes, createHmac } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { finishedRunStatuses } from '../../src/meta/task-store.ts';
import { ManagementApi, reachedRegistry, type RunInfo, type TaskBody } from '../berth-api.ts';
import { GitRepo } from '../git-repo.ts';
import { elapsedMs, median, now } from '../stats.ts';
import { pushStepImage } from '../step-image.ts';
import type { RunningTarget } from '../targets.ts';
import { tasksWorkload } from './tasks.ts';
import { runPool, type Metric, type Workload, type WorkloadContext } from './workload.ts';

const stepRepository = 'bench/triggers-step';
const baseRepository = 'bench/triggers-base';
const fanoutRepository = 'bench/triggers-fanout-base';
const firstStepLine = 'Executing step ID:';
const imageUpdate = 'Image Update';
/** A followed log that stays silent this long means the run is stuck (an image pull prints little). */
const logIdleTimeoutMs = 180_000;
/** The trigger must have queued the run within this long of the push, or it counts as not triggered. */
const triggerTimeoutMs = 60_000;
const runPollMs = 50;
/** Bounds on the fan-out: its unmeasured set-up runs, then the triggered runs. */
const fanoutSetupTimeoutMs = 15 * 60_000;
const fanoutTimeoutMs = 10 * 60_000;
const fanoutPollMs = 500;
/** After every task has its triggered run, how long to keep looking for a second one. */
const duplicateGraceMs = 3_000;
/** Task creations and hand-started runs in flight at once during the fan-out's set-up. */
const setupConcurrency = 8;
/** `GET …/runs?top=` answers at most this many runs; the fan-out needs two per task in one page. */
const runListLimit = 1000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const triggersWorkload: Workload = {
  name: 'triggers',
  title: (s) =>
    `Task triggers: git push webhook → first step and base-image tag move → dependent run's first step (${s.taskSamples} each), ` +
    `${s.triggerTasks} tasks on one base image (Berth only)`,
  async skip(target) {
    const reason = await tasksWorkload.skip?.(target);
    if (reason !== undefined) return reason;
    return spawnSync('git', ['--version']).status === 0 ? undefined : 'git is not installed (the task contexts are local git repositories)';
  },
  async run(ctx) {
    if (2 * ctx.sizes.triggerTasks + 4 * ctx.sizes.taskSamples > runListLimit - 20) {
      throw new Error(`--trigger-tasks ${ctx.sizes.triggerTasks} is too many: the runs are checked in one list of at most ${runListLimit}`);
    }
    const owner = ctx.target.credentials!;
    for (const repository of [stepRepository, baseRepository, fanoutRepository]) await pushImage(ctx, repository, 'initial');
    const registry = await reachedRegistry(ctx.target.url, owner, stepRepository);
    const api = new ManagementApi(ctx.target.url, owner);
    const loginServer = await api.loginServer(registry);
    const work = await mkdtemp(join(ctx.scratchDir, 'berth-bench-triggers-'));
    const suffix = randomBytes(3).toString('hex');
    const created: string[] = [];
    const createTask = async (body: TaskBody) => {
      await api.createTask(registry, body);
      created.push(body.name);
    };
    const env: Env = { ctx, api, registry, loginServer, work, suffix, createTask };
    try {
      return [...(await measureWebhook(env)), ...(await measureBaseImage(env)), ...(await measureFanout(env))];
    } finally {
      await runPool(created.length, setupConcurrency, (i) =>
        api.deleteTask(registry, created[i]!).then(
          () => undefined,
          (error: unknown) => ctx.log(`could not delete task ${created[i]}: ${(error as Error).message}`),
        ),
      );
      api.close();
      await rm(work, { recursive: true, force: true });
    }
  },
};

interface Env {
  ctx: WorkloadContext;
  api: ManagementApi;
  registry: string;
  loginServer: string;
  /** Where the workload's git repositories go. */
  work: string;
  suffix: string;
  /** Creates a task that is deleted when the workload ends. */
  createTask(body: TaskBody): Promise<void>;
}

/** Pushes the busybox image as `repository:1`, a new image for each `variant`. */
async function pushImage(ctx: WorkloadContext, repository: string, variant: string): Promise<void> {
  const client = await ctx.connect(1, repository);
  try {
    await pushStepImage(client, repository, '1', ctx.scratchDir, variant);
  } finally {
    client.close();
  }
}

/** A Dockerfile that builds FROM `image` without running anything, so the build is quick. */
function dockerfileFrom(image: string): string {
  return `FROM ${image}\nCMD ["true"]\n`;
}

/** Follows a run's log from its start to its end; the time of its first step is from `start`. */
async function followFirstStep(api: ManagementApi, registry: string, runId: string, start: bigint): Promise<{ firstStepMs: number; run: RunInfo }> {
  let firstStepMs: number | undefined;
  let seen = '';
  const log = await api.followLog(
    registry,
    runId,
    (text) => {
      if (firstStepMs !== undefined) return;
      seen += text;
      if (seen.includes(firstStepLine)) firstStepMs = elapsedMs(start);
    },
    logIdleTimeoutMs,
  );
  const run = await api.getRun(registry, runId);
  if (run.status !== 'Succeeded') {
    throw new Error(`run ${runId} ended ${run.status}: ${run.runErrorMessage ?? ''}\n${log.split('\n').slice(-15).join('\n')}`);
  }
  if (firstStepMs === undefined) throw new Error(`run ${runId}: no "${firstStepLine}" line in its log`);
  return { firstStepMs, run };
}

/** Milliseconds from a moment on this machine's clock to one of the server's ISO timestamps (same machine). */
function sinceMs(fromEpochMs: number, to: string | null): number {
  return to === null ? Number.NaN : Date.parse(to) - fromEpochMs;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(2);
}

async function measureWebhook({ ctx, api, registry, work, suffix, createTask }: Env): Promise<Metric[]> {
  const repo = await GitRepo.create(join(work, 'webhook'), {
    'acr-task.yaml': ['version: v1.1.0', 'steps:', `  - cmd: {{.Run.Registry}}/${stepRepository}:1 true`, ''].join('\n'),
  });
  const name = `bench-push-${suffix}`;
  await createTask({ name, contextPath: repo.context, file: 'acr-task.yaml', gitPollIntervalSeconds: 86_400, baseImageTriggerEnabled: false });
  const hook = await api.taskWebhook(registry, name);
  // The poller looks at a new task's branch at once and records its head as the starting point;
  // a commit made before that look would be taken as that starting point instead of a new commit.
  await sleep(3000);

  const samples: { runId: string; postMs: number; firstStepMs: number; queuedMs: number }[] = [];
  for (let i = 0; i < ctx.sizes.taskSamples; i++) {
    ctx.checkTime();
    const commit = await repo.commit({ 'change.txt': `change ${i}\n` }, `change ${i}`);
    const body = JSON.stringify({ ref: 'refs/heads/main', after: commit, repository: { clone_url: repo.dir, default_branch: 'main' } });
    const signature = `sha256=${createHmac('sha256', hook.secret).update(body).digest('hex')}`;
    const startEpochMs = Date.now();
    const start = now();
    const res = await fetch(hook.url, {
      method: 'POST',
      body,
      headers: { 'Content-Type': 'application/json', 'X-GitHub-Event': 'push', 'X-Hub-Signature-256': signature },
    });
    const postMs = elapsedMs(start);
    const answer = await res.text();
    if (res.status !== 202) throw new Error(`webhook POST for commit ${commit}: HTTP ${res.status}: ${answer.slice(0, 300)}`);
    const { runId } = JSON.parse(answer) as { runId: string };
    const { firstStepMs, run } = await followFirstStep(api, registry, runId, start);
    if (run.trigger !== 'Commit') throw new Error(`run ${runId} has trigger ${run.trigger}, not Commit`);
    const queuedMs = sinceMs(startEpochMs, run.createTime);
    ctx.log(`push of ${commit.slice(0, 12)}: run ${runId}, webhook answered after ${seconds(postMs)} s, first step after ${seconds(firstStepMs)} s`);
    samples.push({ runId, postMs, firstStepMs, queuedMs });
  }
  const first = samples.map((s) => s.firstStepMs / 1000);
  return [
    { name: 'git push webhook → first step starts, median', unit: 's', better: 'lower', value: median(first), goal: { op: '<=', value: 2 }, detail: { samples } },
    { name: 'git push webhook → first step starts, max', unit: 's', better: 'lower', value: Math.max(...first) },
    { name: '  of which webhook POST answered (run queued), median', unit: 's', better: 'none', value: median(samples.map((s) => s.postMs / 1000)) },
  ];
}

async function measureBaseImage({ ctx, api, registry, loginServer, work, suffix, createTask }: Env): Promise<Metric[]> {
  const repo = await GitRepo.create(join(work, 'base-image'), { Dockerfile: dockerfileFrom(`${loginServer}/${baseRepository}:1`) });
  const name = `bench-base-${suffix}`;
  await createTask({ name, contextPath: repo.context, file: 'Dockerfile', commitTriggerEnabled: false });
  const manual = await api.runTask(registry, name);
  await followFirstStep(api, registry, manual.runId, now());
  ctx.log(`${name}: run ${manual.runId} built FROM ${baseRepository}:1 (the dependency is recorded)`);

  let lastRunId = manual.runId;
  const samples: { runId: string; queuedMs: number; firstStepMs: number }[] = [];
  for (let i = 0; i < ctx.sizes.taskSamples; i++) {
    ctx.checkTime();
    await pushImage(ctx, baseRepository, `sample-${i}-${suffix}`);
    const pushedEpochMs = Date.now();
    const start = now();
    let run: RunInfo | undefined;
    while (elapsedMs(start) < triggerTimeoutMs) {
      run = (await api.listRuns(registry, name, 1))[0];
      if (run && run.runId !== lastRunId) break;
      await sleep(runPollMs);
    }
    if (!run || run.runId === lastRunId) throw new Error(`no run of ${name} within ${triggerTimeoutMs / 1000} s of moving ${baseRepository}:1`);
    if (run.trigger !== imageUpdate) throw new Error(`run ${run.runId} of ${name} has trigger ${run.trigger}, not ${imageUpdate}`);
    lastRunId = run.runId;
    const { firstStepMs } = await followFirstStep(api, registry, run.runId, start);
    const queuedMs = sinceMs(pushedEpochMs, run.createTime);
    ctx.log(`${baseRepository}:1 moved: run ${run.runId} queued after ${seconds(queuedMs)} s, first step after ${seconds(firstStepMs)} s`);
    samples.push({ runId: run.runId, queuedMs, firstStepMs });
  }
  const first = samples.map((s) => s.firstStepMs / 1000);
  return [
    { name: 'base image tag moved → dependent run first step, median', unit: 's', better: 'lower', value: median(first), goal: { op: '<=', value: 2 }, detail: { samples } },
    { name: 'base image tag moved → dependent run first step, max', unit: 's', better: 'lower', value: Math.max(...first) },
    // Zero or less: the run was queued before the PUT's answer reached the bench.
    { name: '  of which manifest PUT answered → run queued (server time), median', unit: 's', better: 'none', value: median(samples.map((s) => s.queuedMs / 1000)) },
  ];
}

async function measureFanout({ ctx, api, registry, loginServer, work, suffix, createTask }: Env): Promise<Metric[]> {
  const count = ctx.sizes.triggerTasks;
  const repo = await GitRepo.create(join(work, 'fanout'), { Dockerfile: dockerfileFrom(`${loginServer}/${fanoutRepository}:1`) });
  const names = Array.from({ length: count }, (_, i) => `bench-fan-${suffix}-${i}`);
  const ours = new Set(names);
  const runsOfOurs = async () => (await api.listRuns(registry, undefined, runListLimit)).filter((run) => run.task !== null && ours.has(run.task));

  // Set-up, unmeasured: every task runs once by hand, so its build records the dependency.
  const setupStart = now();
  await runPool(count, setupConcurrency, async (i) => {
    await createTask({ name: names[i]!, contextPath: repo.context, file: 'Dockerfile', commitTriggerEnabled: false });
    await api.runTask(registry, names[i]!);
  });
  let setup: RunInfo[] = [];
  while (elapsedMs(setupStart) < fanoutSetupTimeoutMs) {
    ctx.checkTime();
    setup = await runsOfOurs();
    if (setup.length >= count && setup.every((run) => finishedRunStatuses.includes(run.status))) break;
    await sleep(fanoutPollMs * 2);
  }
  const setupDone = setup.filter((run) => run.status === 'Succeeded').length;
  if (setupDone < count) {
    const failed = setup.find((run) => run.status !== 'Succeeded' && finishedRunStatuses.includes(run.status));
    throw new Error(
      `set-up: ${setupDone} of ${count} first runs succeeded within ${fanoutSetupTimeoutMs / 60_000} min` +
        (failed ? `; run ${failed.runId} of ${failed.task} ended ${failed.status}: ${failed.runErrorMessage ?? ''}` : ''),
    );
  }
  ctx.log(`set-up: ${count} tasks built FROM ${fanoutRepository}:1 once, in ${seconds(elapsedMs(setupStart))} s`);
  const manual = new Set(setup.map((run) => run.runId));

  ctx.checkTime();
  await pushImage(ctx, fanoutRepository, `fanout-${suffix}`);
  const pushedEpochMs = Date.now();
  const start = now();
  const triggered = async () => (await runsOfOurs()).filter((run) => !manual.has(run.runId));
  let runs: RunInfo[] = [];
  let allFinished = false;
  while (elapsedMs(start) < fanoutTimeoutMs) {
    ctx.checkTime();
    runs = await triggered();
    const tasksRun = new Set(runs.map((run) => run.task));
    allFinished = tasksRun.size >= count && runs.every((run) => finishedRunStatuses.includes(run.status));
    if (allFinished) break;
    await sleep(fanoutPollMs);
  }
  if (allFinished) {
    // A second run of a task would be queued close to its first; give it a moment to show.
    await sleep(duplicateGraceMs);
    runs = await triggered();
  }

  const perTask = new Map<string, RunInfo[]>(names.map((name) => [name, []]));
  for (const run of runs) perTask.get(run.task!)!.push(run);
  const missed = names.filter((name) => perTask.get(name)!.length === 0);
  const duplicated = names.filter((name) => perTask.get(name)!.length > 1);
  const notImageUpdate = runs.filter((run) => run.trigger !== imageUpdate);
  const failed = runs.filter((run) => finishedRunStatuses.includes(run.status) && run.status !== 'Succeeded');
  const queuedMs = runs.length > 0 ? Math.max(...runs.map((run) => sinceMs(pushedEpochMs, run.createTime))) : Number.NaN;
  const finishedMs = allFinished ? Math.max(...runs.map((run) => sinceMs(pushedEpochMs, run.finishTime))) : Number.NaN;
  ctx.log(
    `${fanoutRepository}:1 moved: ${count - missed.length} of ${count} tasks triggered (${duplicated.length} twice), ` +
      `all queued after ${seconds(queuedMs)} s, ` +
      (allFinished ? `all finished after ${seconds(finishedMs)} s` : `not all finished after ${fanoutTimeoutMs / 1000} s`) +
      (failed.length > 0 ? `; ${failed.length} failed, e.g. ${failed[0]!.runId}: ${failed[0]!.runErrorMessage ?? ''}` : ''),
  );
  const detail = {
    missed,
    duplicated: duplicated.map((name) => ({ task: name, runs: perTask.get(name)!.map((run) => run.runId) })),
    notImageUpdate: notImageUpdate.map((run) => ({ runId: run.runId, task: run.task, trigger: run.trigger })),
    failed: failed.map((run) => ({ runId: run.runId, task: run.task, status: run.status, error: run.runErrorMessage })),
  };
  return [
    { name: `${count} tasks on one base image moved: not triggered`, unit: 'tasks', better: 'lower', value: missed.length, goal: { op: '<=', value: 0 }, detail },
    { name: `${count} tasks on one base image moved: triggered twice or more`, unit: 'tasks', better: 'lower', value: duplicated.length, goal: { op: '<=', value: 0 } },
    { name: `  runs with a trigger other than ${imageUpdate}`, unit: 'runs', better: 'none', value: notImageUpdate.length },
    { name: `${count} tasks on one base image moved: all runs queued after (server times)`, unit: 's', better: 'lower', value: queuedMs / 1000 },
    { name: `${count} tasks on one base image moved: all runs finished after (server times)`, unit: 's', better: 'lower', value: finishedMs / 1000 },
    { name: '  triggered runs that failed', unit: 'runs', better: 'none', value: failed.length },
  ];
}
