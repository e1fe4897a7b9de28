/**
 * What the management API and the CLI ask of the task engine: tasks, quick builds and runs,
 * run listings, logs and cancellation. Views have ACR's JSON shapes (`az acr task show`,
 * `az acr task list-runs -o json`); secret values never leave in clear.
 */
import type { Principal } from '../auth/principal.ts';
import type { OutputImage, RunStatus, RunTrigger, RunType } from '../meta/task-store.ts';

export interface PlatformView {
  os: string;
  architecture: string;
  variant?: string;
}

export interface ValueView {
  name: string;
  /** `null` for secret values (never shown). */
  value: string | null;
  isSecret: boolean;
}

export interface TaskView {
  name: string;
  registry: string;
  status: 'Enabled' | 'Disabled';
  platform: PlatformView;
  timeout: number;
  step: {
    type: 'Docker' | 'FileTask' | 'EncodedTask';
    contextPath: string | null;
    contextAccessToken: null;
    dockerFilePath?: string;
    imageNames?: string[];
    isPushEnabled?: boolean;
    noCache?: boolean;
    target?: string;
    arguments?: ValueView[];
    taskFilePath?: string;
    encodedTaskContent?: string;
    values?: ValueView[];
  };
  credentials: { customRegistries: Record<string, { userName: string | null; password: null; identity: string | null }> };
  identity: { type: 'SystemAssigned'; principalId: string } | null;
  trigger: unknown;
  creationDate: string;
  lastUpdatedTime: string;
  provisioningState: 'Succeeded';
}

export interface RunView {
  runId: string;
  registry: string;
  task: string | null;
  status: RunStatus;
  runType: RunType;
  /** The TRIGGER column's word, for `--query`. */
  trigger: RunTrigger;
  platform: PlatformView;
  createTime: string;
  startTime: string | null;
  finishTime: string | null;
  lastUpdatedTime: string;
  outputImages: OutputImage[];
  runErrorMessage: string | null;
  triggerDetails: unknown;
  /** ACR's view of what triggered the run: set for Commit runs, null otherwise. */
  sourceTrigger?: SourceTriggerView | null;
  /** Set for Image Update runs. */
  imageUpdateTrigger?: ImageUpdateTriggerView | null;
  /** Set for Timer runs. */
  timerTrigger?: { timerTriggerName: string; scheduleOccurrence: string } | null;
}

export interface SourceTriggerView {
  id: string;
  eventType: 'commit';
  commitId: string;
  branchName: string;
  repositoryUrl: string;
  providerType: string;
}

export interface ImageUpdateTriggerView {
  id: string;
  timestamp: string;
  /** `registry` is the login server, as in ACR. */
  images: Array<{ registry: string; repository: string; tag: string; digest: string }>;
}

/** A value given on the command line: `--set`/`--arg` (plain) or `--set-secret`/`--secret-arg`. */
export interface ValueInput {
  name: string;
  value: string;
  isSecret: boolean;
}

export interface TaskInput {
  name: string;
  /** Git URL, local repository path, tarball URL, or `/dev/null`. */
  contextPath: string | null;
  contextAccessToken?: string;
  /** A Dockerfile path, or a task file (`.yaml`/`.yml`) path within the context. */
  file?: string;
  /** `--cmd "<image> <args>"`: a one-step task. */
  cmd?: string;
  /** `-t` image names (Dockerfile tasks). */
  imageNames?: string[];
  noPush?: boolean;
  noCache?: boolean;
  target?: string;
  values?: ValueInput[];
  platform?: string;
  timeoutSeconds?: number;
  status?: 'Enabled' | 'Disabled';
  assignIdentity?: boolean;
  /** `--commit-trigger-enabled`: run on each new commit of the git context's branch (default on for git contexts). */
  commitTriggerEnabled?: boolean;
  /** `--git-poll-interval`: seconds between polls of the branch; null = the server's default. */
  gitPollIntervalSeconds?: number | null;
  /** `--base-image-trigger-enabled` (default on). */
  baseImageTriggerEnabled?: boolean;
  /** `--base-image-trigger-type`: `Runtime` (default) follows the final stage's base only, `All` every stage's. */
  baseImageTriggerType?: 'All' | 'Runtime';
  baseImageTriggerName?: string;
  /** `--schedule "[name:]cron"`: timers to add (5-field cron, UTC). */
  schedules?: string[];
}

export type TaskChanges = Partial<Omit<TaskInput, 'name'>>;

export interface CredentialInput {
  loginServer: string;
  /** Clear text or a secret URI. */
  username?: string;
  password?: string;
  useIdentity?: boolean;
}

export interface QuickBuildInput {
  /** `upload:<id>` (from `uploadSource`), git URL or tarball URL. */
  sourceLocation: string;
  contextAccessToken?: string;
  dockerFilePath?: string;
  imageNames: string[];
  buildArgs?: ValueInput[];
  target?: string;
  platform?: string;
  noPush?: boolean;
  noCache?: boolean;
  timeoutSeconds?: number;
}

export interface QuickRunInput {
  /** `upload:<id>`, git URL, tarball URL, or null for `/dev/null`. */
  sourceLocation: string | null;
  contextAccessToken?: string;
  /** The task file's text (`berth run -f`), or undefined with `cmd`. */
  taskFileContent?: string;
  /** Path of the task file within the context, when it is not uploaded as text. */
  taskFilePath?: string;
  cmd?: string;
  values?: ValueInput[];
  platform?: string;
  timeoutSeconds?: number;
}

export interface RunTaskInput {
  /** Overrides of the task's values for this run. */
  values?: ValueInput[];
}

export interface LogReadOptions {
  /** Keep reading until the run finishes. */
  follow: boolean;
  signal?: AbortSignal;
}

export interface TaskService {
  createTask(registry: string, input: TaskInput, caller: Principal): Promise<TaskView>;
  updateTask(registry: string, name: string, changes: TaskChanges, caller: Principal): Promise<TaskView>;
  getTask(registry: string, name: string): Promise<TaskView>;
  listTasks(registry: string): Promise<TaskView[]>;
  deleteTask(registry: string, name: string): Promise<void>;

  addCredential(registry: string, task: string, credential: CredentialInput): Promise<TaskView>;
  updateCredential(registry: string, task: string, credential: CredentialInput): Promise<TaskView>;
  removeCredential(registry: string, task: string, loginServer: string): Promise<TaskView>;

  runTask(registry: string, task: string, input: RunTaskInput, caller: Principal): Promise<RunView>;
  quickBuild(registry: string, input: QuickBuildInput, caller: Principal): Promise<RunView>;
  quickRun(registry: string, input: QuickRunInput, caller: Principal): Promise<RunView>;

  getRun(registry: string, runId: string): Promise<RunView>;
  listRuns(registry: string, query: { task?: string; status?: RunStatus; top?: number }): Promise<RunView[]>;
  cancelRun(registry: string, runId: string): Promise<RunView>;
  /** Cancels every Queued and Running run of the registry; returns those it cancelled. */
  cancelAllRuns(registry: string): Promise<RunView[]>;
  /** The run's log as it is written; with `follow`, until the run finishes. */
  readLog(registry: string, runId: string, options: LogReadOptions): AsyncIterable<string>;
  /** Stops the containers a task's runs left detached; returns how many. */
  stopDetached(registry: string, task: string): Promise<number>;

  /** Stores an uploaded context archive (gzip'd tar); returns its `upload:<id>` location. */
  uploadSource(registry: string, archive: NodeJS.ReadableStream): Promise<string>;
}

/** Errors the API maps to problem+json: not found (404), conflict (409), invalid (400). */
export class TaskError extends Error {
  constructor(
    readonly kind: 'not-found' | 'conflict' | 'invalid',
    message: string,
  ) {
    super(message);
    this.name = 'TaskError';
  }
}
