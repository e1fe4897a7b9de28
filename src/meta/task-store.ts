/**
 * Tasks, their runs (queued in the metadata store and claimed by workers), run logs, and the
 * secret store's encrypted values. Secret material arrives here already encrypted; this layer
 * never sees a clear value.
 */
import type { Principal } from '../auth/principal.ts';

export type RunStatus = 'Queued' | 'Running' | 'Succeeded' | 'Failed' | 'Canceled' | 'Error' | 'Timeout';
export const finishedRunStatuses: readonly RunStatus[] = ['Succeeded', 'Failed', 'Canceled', 'Error', 'Timeout'];

export type RunType = 'QuickBuild' | 'QuickRun' | 'AutoBuild' | 'AutoRun';
/** As the TRIGGER column of `list-runs`. */
export type RunTrigger = 'Manual' | 'Commit' | 'Image Update' | 'Timer';

/** An encrypted value (AES-256-GCM sealed by the secret vault), stored as opaque text. */
export type SealedValue = string;

/** A task's or run's value: plain, or secret (sealed; masked in logs). */
export interface TaskValue {
  name: string;
  value: string | SealedValue;
  isSecret: boolean;
}

/** How a task builds or runs (ACR's `step`: Docker, FileTask or EncodedTask). */
export type TaskStepDefinition =
  | {
      type: 'Docker';
      dockerFilePath: string;
      imageNames: string[];
      isPushEnabled: boolean;
      noCache: boolean;
      target?: string;
      /** `--arg` / `--secret-arg` build arguments. */
      arguments: TaskValue[];
    }
  | { type: 'FileTask'; taskFilePath: string; values: TaskValue[] }
  /** `--cmd` tasks and `berth run -f` uploads: the task file's text itself. */
  | { type: 'EncodedTask'; taskFileContent: string; values: TaskValue[] };

/** A credential for another registry; username and password may be `vault://` / key-vault URIs or sealed values. */
export interface TaskCredential {
  loginServer: string;
  username: string | null;
  password: SealedValue | null;
  /** Authenticate with the task identity instead of a username and password. */
  useIdentity: boolean;
}

export interface TaskRecord {
  registry: string;
  name: string;
  status: 'Enabled' | 'Disabled';
  /** `os/arch[/variant]`. */
  platform: string;
  timeoutSeconds: number;
  /** Git URL, `/path#branch:folder`, tarball URL, or null (`/dev/null`). */
  contextPath: string | null;
  /** Git access token, sealed; null when none. */
  contextAccessToken: SealedValue | null;
  step: TaskStepDefinition;
  credentials: TaskCredential[];
  /** Principal id of the task's identity (a service principal created by `--assign-identity`), or null. */
  identityPrincipalId: string | null;
  /** Trigger configuration (source, base image, timers); opaque JSON owned by the trigger module. */
  triggers: unknown;
  /** Who created the task: triggered runs of a task without an identity run as this principal. Null for tasks created before it was recorded. */
  createdBy?: Principal | null;
  createdAt: string;
  updatedAt: string;
}

/** A task to store; `createdBy` is kept by updates (only `createTask` sets it). */
export type NewTask = Omit<TaskRecord, 'createdAt' | 'updatedAt'>;

export interface OutputImage {
  registry: string;
  repository: string;
  tag: string | null;
  digest: string;
}

export interface RunRecord {
  registry: string;
  /** ACR style: two letters and a base-36 counter per registry (`ca1`, `ca2`, …). */
  runId: string;
  task: string | null;
  runType: RunType;
  trigger: RunTrigger;
  status: RunStatus;
  platform: string;
  createTime: string;
  startTime: string | null;
  finishTime: string | null;
  outputImages: OutputImage[];
  /** One line explaining why a run did not succeed. */
  errorMessage: string | null;
  /** Everything the worker needs to execute the run (task snapshot, values, context); owned by the run engine. */
  request: unknown;
  /** Details of what triggered it (commit id, base image), shown by `show-run`. */
  triggerDetails: unknown;
  /** Worker that claimed the run. */
  claimedBy: string | null;
  cancelRequested: boolean;
}

export interface NewRun {
  registry: string;
  task: string | null;
  runType: RunType;
  trigger: RunTrigger;
  platform: string;
  request: unknown;
  triggerDetails?: unknown;
}

export interface RunQuery {
  task?: string;
  status?: RunStatus;
  /** Newest first; at most this many. */
  top?: number;
}

export interface RunFinish {
  status: RunStatus;
  errorMessage?: string | null;
  outputImages?: OutputImage[];
}

export interface SecretRecord {
  vault: string;
  name: string;
  value: SealedValue;
  contentType: string | null;
  /** A new id for every value set (ACR's version). */
  version: string;
  createdAt: string;
  updatedAt: string;
}

export interface TaskStore {
  createTask(task: NewTask): Promise<TaskRecord>;
  /** Replaces the task's definition; undefined when it does not exist. */
  updateTask(task: NewTask): Promise<TaskRecord | undefined>;
  getTask(registry: string, name: string): Promise<TaskRecord | undefined>;
  listTasks(registry: string): Promise<TaskRecord[]>;
  /** Every task of every registry (the trigger sources look at all of them). */
  listAllTasks(): Promise<TaskRecord[]>;
  deleteTask(registry: string, name: string): Promise<boolean>;

  /** Queues a run with the registry's next run id. */
  queueRun(run: NewRun): Promise<RunRecord>;
  getRun(registry: string, runId: string): Promise<RunRecord | undefined>;
  listRuns(registry: string, query: RunQuery): Promise<RunRecord[]>;
  /** Atomically moves the oldest Queued run to Running for `worker` (each run is claimed once, also across nodes). */
  claimRun(worker: string): Promise<RunRecord | undefined>;
  /** Sets a running run's final status; false if it had already finished. */
  finishRun(registry: string, runId: string, finish: RunFinish): Promise<boolean>;
  /** Queued runs become Canceled at once; Running ones get `cancelRequested`. Returns the run after the change. */
  requestCancel(registry: string, runId: string): Promise<RunRecord | undefined>;
  /** Runs still Running on `worker` (or, without it, on any worker) are marked Error with `message`; returns how many. */
  failInterruptedRuns(message: string, worker?: string): Promise<number>;

  /** Appends to a run's log; `seq` is the next chunk number of that run. */
  appendRunLog(registry: string, runId: string, seq: number, text: string): Promise<void>;
  /** Log chunks with seq >= `fromSeq`, in order. */
  readRunLog(registry: string, runId: string, fromSeq: number): Promise<Array<{ seq: number; text: string }>>;

  setSecret(secret: Omit<SecretRecord, 'createdAt' | 'updatedAt'>): Promise<SecretRecord>;
  getSecret(vault: string, name: string): Promise<SecretRecord | undefined>;
  listSecrets(vault: string): Promise<SecretRecord[]>;
  deleteSecret(vault: string, name: string): Promise<boolean>;
}

/** A task of that name already exists in the registry. */
export class TaskExistsError extends Error {
  constructor(
    readonly registry: string,
    readonly task: string,
  ) {
    super(`task ${task} already exists in registry ${registry}`);
    this.name = 'TaskExistsError';
  }
}
