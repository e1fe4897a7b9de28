/**
 * What a queued run carries for the worker (`RunRecord.request`): a snapshot of everything needed
 * to execute it, so later changes to the task do not alter a queued run. Secret values, git tokens
 * and credential passwords stay sealed in it.
 */
import type { Principal } from '../../auth/principal.ts';
import type { SealedValue, TaskCredential, TaskValue } from '../../meta/task-store.ts';

/** A Dockerfile build (`berth build`, or a task with a Dockerfile step). */
export interface BuildWork {
  kind: 'build';
  dockerfile: string;
  /** `-t` image names, templates allowed (`hello:{{.Run.ID}}`); without a registry they go to the run's own. */
  imageNames: string[];
  /** `--arg`/`--secret-arg` (secret values sealed). */
  buildArgs: TaskValue[];
  target?: string;
  noPush: boolean;
  noCache: boolean;
}

/** A task file inside the fetched context. */
export interface FileWork {
  kind: 'file';
  path: string;
}

/** A task file given as text (`berth run -f` uploads it; `--cmd` tasks are a one-step file). */
export interface EncodedWork {
  kind: 'encoded';
  content: string;
}

export type RunWork = BuildWork | FileWork | EncodedWork;

export interface RunRequest {
  version: 1;
  /** Context location (`upload:<id>`, git URL, local repository, tarball URL) or null for none. */
  source: string | null;
  /** Git access token, sealed. */
  sourceAccessToken: SealedValue | null;
  /** The branch a commit-triggered run's commit was pushed to (`{{.Run.Branch}}`; `source` names the commit itself). */
  sourceBranch?: string;
  work: RunWork;
  /** `--set`/`--set-secret` values (secret ones sealed); read as `{{.Values.X}}`. */
  values: TaskValue[];
  /** The task's credential set for other registries. */
  credentials: TaskCredential[];
  /** Whom the run credential for the run's own registry is issued to (task identity, else the caller). */
  identity: Principal;
  /** Who queued the run (null for triggered runs). */
  caller: Principal | null;
  /** `{{.Run.TaskName}}`: the task's name, `quickrun` for ad-hoc runs. */
  taskName: string;
  timeoutSeconds: number;
  /** Detached containers with published ports outlive the run under this owner (task runs: `<registry>/<task>`). */
  detachedOwner: string | null;
}

export function isRunRequest(value: unknown): value is RunRequest {
  return typeof value === 'object' && value !== null && (value as { version?: unknown }).version === 1 && typeof (value as { work?: unknown }).work === 'object';
}

/** The text of a one-step task file running `cmd` (`--cmd "<image> <args>"`); templates in it still apply. */
export function commandTaskFile(cmd: string): string {
  const lines = cmd.split(/\r?\n/).map((line) => `      ${line}`);
  return ['version: v1.1.0', 'steps:', '  - cmd: |-', ...lines, ''].join('\n');
}
