/**
 * The worker loop: claims queued runs from the metadata store while it has free slots and hands
 * each to the run engine. Woken at once when a run is queued in this process, it polls otherwise
 * (runs queued through another node). Cancellation reaches a run within a second: directly when
 * requested in this process, or by polling `cancelRequested` of the runs it executes.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import path from 'node:path';
import type { RunFinish, RunRecord, TaskStore } from '../meta/task-store.ts';
import { RunStop } from './engine/abort-reasons.ts';

export interface RunExecutor {
  execute(run: RunRecord, signal: AbortSignal): Promise<RunFinish>;
}

export interface RunWorkerOptions {
  store: TaskStore;
  engine: RunExecutor;
  /** Runs executed at the same time; default 2. */
  concurrency?: number;
  /** How often the store is asked for runs nobody woke this worker for; default 1000 ms. */
  pollMs?: number;
  /** How often running runs are checked for a cancel request made elsewhere; default 1000 ms. */
  cancelPollMs?: number;
  /** Stable per node and data directory, so a restart finds the runs it was executing (see `workerIdFor`). */
  workerId: string;
  onError?: (error: unknown, run?: RunRecord) => void;
}

/** A worker id that stays the same across restarts of the same node on the same data directory. */
export function workerIdFor(dataDirectory: string): string {
  const digest = createHash('sha256').update(path.resolve(dataDirectory)).digest('hex').slice(0, 12);
  return `${hostname()}-${digest}`;
}

interface Active {
  run: RunRecord;
  controller: AbortController;
  done: Promise<void>;
}

export class RunWorker {
  readonly #store: TaskStore;
  readonly #engine: RunExecutor;
  readonly #concurrency: number;
  readonly #pollMs: number;
  readonly #cancelPollMs: number;
  readonly #onError: (error: unknown, run?: RunRecord) => void;
  readonly workerId: string;
  readonly #active = new Map<string, Active>();
  #wake: (() => void) | undefined;
  #woken = false;
  #stopping = false;
  #loop: Promise<void> | undefined;
  #cancelTimer: NodeJS.Timeout | undefined;

  constructor(options: RunWorkerOptions) {
    this.#store = options.store;
    this.#engine = options.engine;
    this.#concurrency = options.concurrency ?? 2;
    this.#pollMs = options.pollMs ?? 1000;
    this.#cancelPollMs = options.cancelPollMs ?? 1000;
    this.workerId = options.workerId;
    this.#onError = options.onError ?? (() => {});
  }

  /** Marks runs this worker was executing before a restart as Error, then starts claiming. */
  async start(): Promise<void> {
    if (this.#loop) return;
    await this.#store.failInterruptedRuns('the server restarted while the run was in progress', this.workerId);
    this.#loop = this.#claimLoop();
    this.#cancelTimer = setInterval(() => void this.#pollCancels(), this.#cancelPollMs);
    this.#cancelTimer.unref();
  }

  /** A run was queued: look for it now rather than at the next poll. */
  wake(): void {
    this.#woken = true;
    this.#wake?.();
  }

  /** Aborts a run executing here; false when it is not running on this worker. */
  cancel(registry: string, runId: string): boolean {
    const active = this.#active.get(key(registry, runId));
    if (!active) return false;
    active.controller.abort(new RunStop('canceled', 'the run was canceled'));
    return true;
  }

  get running(): number {
    return this.#active.size;
  }

  /** Stops claiming, aborts the runs in progress (they end as Error) and waits for them. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#cancelTimer);
    this.wake();
    for (const active of this.#active.values()) active.controller.abort(new RunStop('stopped', 'the server stopped'));
    await this.#loop;
    await Promise.all([...this.#active.values()].map((active) => active.done));
  }

  async #claimLoop(): Promise<void> {
    while (!this.#stopping) {
      this.#woken = false;
      let claimed = false;
      if (this.#active.size < this.#concurrency) {
        try {
          const run = await this.#store.claimRun(this.workerId);
          if (run) {
            claimed = true;
            this.#begin(run);
          }
        } catch (error) {
          this.#onError(error);
        }
      }
      // Another run may be waiting: claim again at once while there are free slots.
      if ((claimed && this.#active.size < this.#concurrency) || this.#woken || this.#stopping) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, this.#pollMs);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.#wake = done;
      });
      this.#wake = undefined;
    }
  }

  #begin(run: RunRecord): void {
    const controller = new AbortController();
    if (this.#stopping) controller.abort(new RunStop('stopped', 'the server stopped'));
    const id = key(run.registry, run.runId);
    const done = this.#engine
      .execute(run, controller.signal)
      .then(
        () => {},
        async (error: unknown) => {
          this.#onError(error, run);
          // The engine could not record an outcome (e.g. the store failed): do not leave the run Running.
          const message = `the run could not be executed: ${error instanceof Error ? error.message : String(error)}`;
          await this.#store.finishRun(run.registry, run.runId, { status: 'Error', errorMessage: message }).catch((failure: unknown) => this.#onError(failure, run));
        },
      )
      .finally(() => {
        this.#active.delete(id);
        this.wake();
      });
    this.#active.set(id, { run, controller, done });
  }

  async #pollCancels(): Promise<void> {
    for (const active of [...this.#active.values()]) {
      if (active.controller.signal.aborted) continue;
      try {
        const current = await this.#store.getRun(active.run.registry, active.run.runId);
        if (current?.cancelRequested) active.controller.abort(new RunStop('canceled', 'the run was canceled'));
      } catch (error) {
        this.#onError(error, active.run);
      }
    }
  }
}

function key(registry: string, runId: string): string {
  return `${registry}/${runId}`;
}
