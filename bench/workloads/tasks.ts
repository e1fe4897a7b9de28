/**
 * Berth only: the task engine's latency and queue. Unmeasured set-up: a busybox step image pushed
 * into the registry the target URL reaches, and two `cmd` tasks running `<image> true`. Measured,
 * `taskSamples` runs each, one at a time: from `POST …/tasks/{name}/runs` to the log's first
 * `Executing step ID:` line; a quick run of three sequential no-op container steps from POST to
 * the end of its followed log (status Succeeded), and the same with three host steps
 * (`berth --help`, no container). Every run has its own image storage, so each pulls the image
 * in its first container step. Then `taskRuns` runs queued at once: all must succeed, each once.
 */
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { finishedRunStatuses } from '../../src/meta/task-store.ts';
import { ManagementApi, reachedRegistry, servesBerthApi, type RunInfo } from '../berth-api.ts';
import { elapsedMs, median, now } from '../stats.ts';
import { pushStepImage } from '../step-image.ts';
import type { RunningTarget } from '../targets.ts';
import type { Metric, Workload, WorkloadContext } from './workload.ts';

const imageRepository = 'bench/tasks-step';
const image = `{{.Run.Registry}}/${imageRepository}:1`;
const firstStepLine = 'Executing step ID:';
/** A followed log that stays silent this long means the run is stuck (an image pull prints little). */
const logIdleTimeoutMs = 180_000;
/** Upper bound on waiting for the queued runs to finish. */
const queueTimeoutMs = 5 * 60_000;
const queuePollMs = 200;

const containerSteps = threeSteps(`${image} true`);
const hostSteps = threeSteps('berth --help');

export const tasksWorkload: Workload = {
  name: 'tasks',
  title: (s) =>
    `Task runs: queue → first step and a no-op 3-step run end to end (${s.taskSamples} runs each), ${s.taskRuns} runs queued at once (Berth only)`,
  skip: skipReason,
  async run(ctx) {
    const owner = ctx.target.credentials!;
    const client = await ctx.connect(1, imageRepository);
    try {
      const layerBytes = await pushStepImage(client, imageRepository, '1', ctx.scratchDir);
      ctx.log(`pushed the step image ${imageRepository}:1 (busybox layer ${(layerBytes / 1e6).toFixed(2)} MB)`);
    } finally {
      client.close();
    }
    const registry = await reachedRegistry(ctx.target.url, owner, imageRepository);
    const suffix = randomBytes(3).toString('hex');
    const api = new ManagementApi(ctx.target.url, owner);
    const created: string[] = [];
    const task = async (role: string) => {
      const name = `bench-${role}-${suffix}`;
      await api.createTask(registry, { name, contextPath: null, cmd: `${image} true` });
      created.push(name);
      return name;
    };
    try {
      const firstStep = await measureFirstStep(ctx, api, registry, await task('first'));
      const container = await measureEndToEnd(ctx, api, registry, containerSteps, 'container steps (<image> true)', true);
      const host = await measureEndToEnd(ctx, api, registry, hostSteps, 'host steps (berth --help)', false);
      const queue = await measureQueue(ctx, api, registry, await task('queue'));
      return [...firstStep, ...container, ...host, ...queue];
    } finally {
      for (const name of created) await api.deleteTask(registry, name).catch((error: unknown) => ctx.log(`could not delete task ${name}: ${(error as Error).message}`));
      api.close();
    }
  },
};

async function skipReason(target: RunningTarget): Promise<string | undefined> {
  if (target.kind === 'distribution') return 'Distribution has no tasks';
  if (!target.credentials) return 'the installation owner credentials are unknown (--berth-user, --berth-password)';
  if (spawnSync('podman', ['--version']).status !== 0) return 'podman is not installed (task steps run in podman containers)';
  if (!(await servesBerthApi(target.url))) return 'no Berth management API at /mgmt/v1';
  return undefined;
}

/** A task file of three no-op steps, each waiting for the one above it (ACR's default order). */
function threeSteps(cmd: string): string {
  return ['version: v1.1.0', 'steps:', ...['one', 'two', 'three'].flatMap((id) => [`  - id: ${id}`, `    cmd: ${cmd}`]), ''].join('\n');
}

/** One run followed from its POST to the end of its log. Times in ms from just before the POST. */
interface RunTrace {
  run: RunInfo;
  postMs: number;
  firstStepMs: number;
  endMs: number;
  /** Each step's elapsed time as the log reports it, in order. */
  stepsMs: number[];
}

async function traceRun(api: ManagementApi, registry: string, queue: () => Promise<RunInfo>): Promise<RunTrace> {
  const start = now();
  const queued = await queue();
  const postMs = elapsedMs(start);
  let firstStepMs: number | undefined;
  let seen = '';
  const log = await api.followLog(
    registry,
    queued.runId,
    (text) => {
      if (firstStepMs !== undefined) return;
      seen += text;
      if (seen.includes(firstStepLine)) firstStepMs = elapsedMs(start);
    },
    logIdleTimeoutMs,
  );
  const endMs = elapsedMs(start);
  const run = await api.getRun(registry, queued.runId);
  if (run.status !== 'Succeeded') {
    throw new Error(`run ${run.runId} ended ${run.status}: ${run.runErrorMessage ?? ''}\n${log.split('\n').slice(-15).join('\n')}`);
  }
  if (firstStepMs === undefined) throw new Error(`run ${run.runId}: no "${firstStepLine}" line in its log`);
  const stepsMs = [...log.matchAll(/Step ID: \S+ marked as successful \(elapsed time in seconds: ([\d.]+)\)/g)].map((m) => Number(m[1]) * 1000);
  return { run, postMs, firstStepMs, endMs, stepsMs };
}

/** Milliseconds between two of the server's ISO timestamps. */
function serverMs(from: string | null, to: string | null): number {
  if (from === null || to === null) return Number.NaN;
  return Date.parse(to) - Date.parse(from);
}

async function samples(ctx: WorkloadContext, what: string, queue: () => Promise<RunInfo>, api: ManagementApi, registry: string): Promise<RunTrace[]> {
  const traces: RunTrace[] = [];
  for (let i = 0; i < ctx.sizes.taskSamples; i++) {
    ctx.checkTime();
    const trace = await traceRun(api, registry, queue);
    ctx.log(
      `${what} run ${trace.run.runId}: first step after ${seconds(trace.firstStepMs)} s, finished after ${seconds(trace.endMs)} s; ` +
        `steps ${trace.stepsMs.map(seconds).join(' / ')} s`,
    );
    traces.push(trace);
  }
  return traces;
}

async function measureFirstStep(ctx: WorkloadContext, api: ManagementApi, registry: string, task: string): Promise<Metric[]> {
  const traces = await samples(ctx, 'queue → first step', () => api.runTask(registry, task), api, registry);
  const first = traces.map((t) => t.firstStepMs / 1000);
  const claimed = traces.map((t) => serverMs(t.run.createTime, t.run.startTime) / 1000);
  const detail = { runs: traces.map((t) => ({ runId: t.run.runId, postMs: t.postMs, firstStepMs: t.firstStepMs, createTime: t.run.createTime, startTime: t.run.startTime })) };
  return [
    { name: 'task run → first step starts, median', unit: 's', better: 'lower', value: median(first), goal: { op: '<=', value: 1 }, detail },
    { name: 'task run → first step starts, max', unit: 's', better: 'lower', value: Math.max(...first) },
    { name: '  of which POST …/runs answered, median', unit: 's', better: 'none', value: median(traces.map((t) => t.postMs / 1000)) },
    { name: '  of which queued → claimed by a worker (server times), median', unit: 's', better: 'none', value: median(claimed) },
  ];
}

async function measureEndToEnd(ctx: WorkloadContext, api: ManagementApi, registry: string, taskFile: string, label: string, withGoal: boolean): Promise<Metric[]> {
  const traces = await samples(ctx, `3 ${label}`, () => api.quickRun(registry, taskFile), api, registry);
  const total = traces.map((t) => t.endMs / 1000);
  // Claimed → finished on the server, less the steps: session set-up, credentials, the log, the outcome.
  const outsideSteps = traces.map((t) => (serverMs(t.run.startTime, t.run.finishTime) - t.stepsMs.reduce((a, b) => a + b, 0)) / 1000);
  const detail = { runs: traces.map((t) => ({ runId: t.run.runId, endMs: t.endMs, firstStepMs: t.firstStepMs, stepsMs: t.stepsMs, startTime: t.run.startTime, finishTime: t.run.finishTime })) };
  const goal = withGoal ? { goal: { op: '<=' as const, value: 3 } } : {};
  return [
    { name: `no-op 3-step run end to end, ${label}, median`, unit: 's', better: 'lower', value: median(total), ...goal, detail },
    { name: `no-op 3-step run end to end, ${label}, max`, unit: 's', better: 'lower', value: Math.max(...total) },
    { name: `  ${label}: step one, median`, unit: 's', better: 'none', value: median(traces.map((t) => (t.stepsMs[0] ?? Number.NaN) / 1000)) },
    { name: `  ${label}: steps two and three, median`, unit: 's', better: 'none', value: median(traces.flatMap((t) => t.stepsMs.slice(1)).map((ms) => ms / 1000)) },
    { name: `  ${label}: claimed → finished outside the steps, median`, unit: 's', better: 'none', value: median(outsideSteps) },
  ];
}

async function measureQueue(ctx: WorkloadContext, api: ManagementApi, registry: string, task: string): Promise<Metric[]> {
  const count = ctx.sizes.taskRuns;
  ctx.checkTime();
  const start = now();
  const queued = await Promise.all(Array.from({ length: count }, () => api.runTask(registry, task)));
  const ids = new Set(queued.map((run) => run.runId));
  let runs: RunInfo[] = [];
  let totalMs = Number.NaN;
  while (elapsedMs(start) < queueTimeoutMs) {
    runs = await api.listRuns(registry, task);
    if (runs.length >= ids.size && runs.every((run) => finishedRunStatuses.includes(run.status))) {
      totalMs = elapsedMs(start);
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, queuePollMs));
  }

  const listed = new Map(runs.map((run) => [run.runId, run]));
  const unknown = runs.filter((run) => !ids.has(run.runId)).map((run) => run.runId);
  const failures: string[] = [];
  if (ids.size !== count) failures.push(`${count} POSTs answered ${ids.size} distinct run ids`);
  if (unknown.length > 0) failures.push(`runs nobody queued: ${unknown.join(', ')}`);
  let lost = count - ids.size;
  for (const runId of ids) {
    const run = listed.get(runId);
    const problem = !run
      ? 'not listed'
      : run.status !== 'Succeeded'
        ? `${run.status}${run.runErrorMessage ? ` (${run.runErrorMessage})` : ''}`
        : await executedOnce(api, registry, runId);
    if (problem) {
      lost += 1;
      failures.push(`${runId}: ${problem}`);
    }
  }
  const succeeded = count - lost;
  ctx.log(
    `${count} queued runs: ${succeeded} succeeded once` +
      (Number.isNaN(totalMs) ? `, not all finished after ${queueTimeoutMs / 1000} s` : ` in ${seconds(totalMs)} s`) +
      (failures.length > 0 ? `; ${failures.slice(0, 3).join('; ')}` : ''),
  );
  const ours = runs.filter((run) => ids.has(run.runId));
  const waits = ours.map((run) => serverMs(run.createTime, run.startTime) / 1000);
  const durations = ours.map((run) => serverMs(run.startTime, run.finishTime) / 1000);
  return [
    { name: `${count} runs queued at once: lost, failed or run twice`, unit: 'runs', better: 'lower', value: lost, goal: { op: '<=', value: 0 }, detail: { failures } },
    { name: `${count} runs queued at once: all finished after`, unit: 's', better: 'lower', value: totalMs / 1000 },
    { name: `${count} runs queued at once: throughput`, unit: 'runs/s', better: 'higher', value: succeeded / (totalMs / 1000) },
    { name: '  peak runs in progress at once (server times)', unit: 'runs', better: 'none', value: peakConcurrency(ours) },
    { name: '  longest wait in the queue (server times)', unit: 's', better: 'none', value: Math.max(...waits) },
    // A worker takes the next run only after removing the finished run's storage, which this leaves out.
    { name: '  one run claimed → finished (server times), median', unit: 's', better: 'none', value: median(durations) },
  ];
}

/** Undefined when the run's log shows it executed exactly once; otherwise what it shows. */
async function executedOnce(api: ManagementApi, registry: string, runId: string): Promise<string | undefined> {
  const log = await api.followLog(registry, runId, () => {}, logIdleTimeoutMs);
  const started = log.split(`Queued a run with ID: ${runId}\n`).length - 1;
  const ended = log.split(`Run ID: ${runId} was successful after`).length - 1;
  return started === 1 && ended === 1 ? undefined : `its log shows ${started} start(s) and ${ended} successful end(s)`;
}

/** Most runs whose [startTime, finishTime] overlap at one moment. */
function peakConcurrency(runs: RunInfo[]): number {
  const events = runs
    .filter((run) => run.startTime !== null && run.finishTime !== null)
    .flatMap((run) => [
      { at: Date.parse(run.startTime!), delta: 1 },
      { at: Date.parse(run.finishTime!), delta: -1 },
    ])
    // At the same millisecond, an end comes before a start: a freed slot taken at once is not an overlap.
    .sort((a, b) => a.at - b.at || a.delta - b.delta);
  let current = 0;
  let peak = 0;
  for (const event of events) {
    current += event.delta;
    peak = Math.max(peak, current);
  }
  return peak;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(2);
}
