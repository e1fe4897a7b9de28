/**
 * One upstream digest through the gate: staged, validated by a real task run (a quick run of the
 * mirror's command or task file as the mirror's creator, listed with the registry's runs), and
 * promoted only when that run Succeeded. A failure at any step leaves the target alone and
 * records why; the digest is not tried again (the watcher moves on only when upstream moves).
 *
 * Each step is recorded before the next starts (`Staged`, `Validating` with the run id), so work a
 * stop cut short resumes where it was: staging again is harmless, and a recorded run is waited
 * for rather than queued twice. A recorded run found ended in `Error` on resuming — the server
 * stopped under it — is no verdict on the image: the digest is validated once more by a new run.
 */
import type { RunStatus } from '../meta/task-store.ts';
import type { RegistryCredentials } from '../outbound/registry-challenge.ts';
import { TaskError, type RunView, type TaskService, type ValueInput } from '../tasks/task-service.ts';
import { MirrorError } from './mirror-error.ts';
import { sourceImageOf, stagingRepositoryOf } from './mirror-source.ts';
import type { MirrorHistoryEntry, MirrorRecord, MirrorStore } from './mirror-store.ts';
import type { MirrorTarget } from './mirror-target.ts';

export interface MirrorGateOptions {
  store: MirrorStore;
  target: MirrorTarget;
  runs: Pick<TaskService, 'quickRun' | 'getRun'>;
  loginServer(registry: string): string;
  /** How often a validation run's status is read; default 500 ms. */
  runPollMs?: number;
  /** The validation run's timeout (the run ends Timeout after it); default 3600 s. */
  runTimeoutSeconds?: number;
}

const finished: readonly RunStatus[] = ['Succeeded', 'Failed', 'Canceled', 'Error', 'Timeout'];

/** Thrown when the gate stops because the service is stopping; the entry is left to resume. */
export class GateStopped extends Error {
  constructor() {
    super('the mirror service is stopping');
    this.name = 'GateStopped';
  }
}

export class MirrorGate {
  readonly #options: MirrorGateOptions;

  constructor(options: MirrorGateOptions) {
    this.#options = options;
  }

  /** Takes `entry` from wherever it stands to Promoted or Failed; throws `GateStopped` when `signal` aborts first. */
  async pass(mirror: MirrorRecord, entry: MirrorHistoryEntry, credentials: RegistryCredentials | undefined, signal: AbortSignal): Promise<void> {
    const { store, target } = this.#options;
    try {
      if (entry.status === 'Staged') await target.stage(mirror, entry.digest, credentials);
      stopped(signal);
      const runId = mirror.validation.type === 'None' ? null : await this.#validate(mirror, entry, signal);
      if (runId === undefined) return;
      stopped(signal);
      await target.promote(mirror, entry, runId);
    } catch (error) {
      if (error instanceof GateStopped || signal.aborted) throw new GateStopped();
      await store.updateEntry(entry.id, { status: 'Failed', message: messageOf(error) });
    }
  }

  /** The run id of a Succeeded validation; undefined when it did not succeed (recorded as Failed). */
  async #validate(mirror: MirrorRecord, entry: MirrorHistoryEntry, signal: AbortSignal): Promise<string | undefined> {
    const { store } = this.#options;
    let runId = entry.status === 'Validating' ? entry.runId : null;
    let run = runId === null ? undefined : await this.#waitFor(mirror.registry, runId, signal);
    if (run === undefined || run.status === 'Error') {
      runId = await this.#startRun(mirror, entry);
      await store.updateEntry(entry.id, { status: 'Validating', runId });
      run = await this.#waitFor(mirror.registry, runId, signal);
      if (run === undefined) throw new MirrorError('not-found', `validation run ${runId} no longer exists`);
    }
    if (run.status === 'Succeeded') return run.runId;
    const why = run.runErrorMessage ? `: ${run.runErrorMessage}` : '';
    await store.updateEntry(entry.id, { status: 'Failed', message: `validation run ${run.runId} ended ${run.status}${why}` });
    return undefined;
  }

  async #startRun(mirror: MirrorRecord, entry: MirrorHistoryEntry): Promise<string> {
    const { runs, loginServer, runTimeoutSeconds } = this.#options;
    const { validation } = mirror;
    const values: ValueInput[] = [
      { name: 'STAGED_IMAGE', value: `${loginServer(mirror.registry)}/${stagingRepositoryOf(mirror.repository)}@${entry.digest}`, isSecret: false },
      { name: 'SOURCE_IMAGE', value: sourceImageOf(mirror.source, loginServer), isSecret: false },
    ];
    const work = validation.type === 'Cmd' ? { cmd: validation.cmd } : validation.type === 'TaskFile' ? { taskFileContent: validation.content } : undefined;
    if (!work) throw new MirrorError('invalid', 'the mirror has no validation');
    const run = await runs.quickRun(mirror.registry, { sourceLocation: null, ...work, values, ...(runTimeoutSeconds !== undefined && { timeoutSeconds: runTimeoutSeconds }) }, mirror.creator);
    return run.runId;
  }

  /** Waits for the run to finish (bounded by the run's own timeout); undefined for a run that no longer exists. */
  async #waitFor(registry: string, runId: string, signal: AbortSignal): Promise<RunView | undefined> {
    const pollMs = this.#options.runPollMs ?? 500;
    for (;;) {
      stopped(signal);
      let run: RunView;
      try {
        run = await this.#options.runs.getRun(registry, runId);
      } catch (error) {
        if (error instanceof TaskError && error.kind === 'not-found') return undefined;
        throw error;
      }
      if (finished.includes(run.status)) return run;
      await sleep(pollMs, signal);
    }
  }
}

function stopped(signal: AbortSignal): void {
  if (signal.aborted) throw new GateStopped();
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
