/**
 * The task engine's service: tasks and their credentials in the metadata store (secret values
 * sealed), runs queued for the worker with a snapshot of what to execute, run listings, logs and
 * cancellation.
 */
import { finished, PassThrough } from 'node:stream';
import type { Principal } from '../auth/principal.ts';
import type { IdentityService } from '../auth/identity-service.ts';
import { TaskExistsError, type NewTask, type RunRecord, type RunStatus, type TaskCredential, type TaskRecord, type TaskStepDefinition, type TaskStore, type TaskValue } from '../meta/task-store.ts';
import { ContextError, type UploadedSources } from './context/context-source.ts';
import type { SecretVault } from './secrets/secret-vault.ts';
import type { RunLogs } from './run-log.ts';
import { commandTaskFile, type RunRequest, type RunWork } from './engine/run-request.ts';
import {
  TaskError,
  type CredentialInput,
  type LogReadOptions,
  type QuickBuildInput,
  type QuickRunInput,
  type RunTaskInput,
  type RunView,
  type TaskChanges,
  type TaskInput,
  type TaskService,
  type TaskView,
  type ValueInput,
} from './task-service.ts';
import { runView, taskView } from './task-views.ts';
import { checkTaskName, checkTimeout, checkValueName, contextLocation, isTaskFilePath, normalisePlatform } from './task-validation.ts';
import type { TaskTriggerService, TimerChanges, TimerInput, TimerView } from './task-trigger-service.ts';
import { changedTriggers, timerViews, withTimerAdded, withTimerChanged, withTimerRemoved } from './trigger-settings.ts';
import { contextAtCommit } from './triggers/commit-trigger.ts';
import { triggersOf, type TaskTriggers } from './triggers/trigger-config.ts';

/** The worker side the service talks to. */
export interface RunDispatch {
  /** A run was queued. */
  wake(): void;
  /** Aborts a run executing in this process; false if it runs elsewhere (the store's cancel flag reaches it). */
  cancel(registry: string, runId: string): boolean;
}

export interface StoredTaskServiceOptions {
  store: TaskStore;
  vault: SecretVault;
  identity: IdentityService;
  /** Whether a registry exists. */
  registryExists(registry: string): Promise<boolean>;
  uploads: UploadedSources;
  logs: RunLogs;
  dispatch: RunDispatch;
  /** Stops a task's detached containers (`owner` = `<registry>/<task>`). */
  stopDetached(owner: string): Promise<number>;
  /** The platform runs get when none is given. */
  hostPlatform: string;
  /** Largest uploaded context archive. */
  uploadLimitBytes: number;
}

/** 200 MiB: the size limit of an uploaded build context unless configured. */
export const DEFAULT_UPLOAD_LIMIT_BYTES = 200 * 1024 * 1024;

const QUICK_TASK_NAME = 'quickrun';

/** How a run is queued: by hand (`caller`), or by a trigger (`caller` null, `triggerDetails` saying what fired). */
export interface QueueTaskRun {
  trigger: RunRecord['trigger'];
  caller: Principal | null;
  values: ValueInput[];
  triggerDetails?: unknown;
  /** A commit-triggered run builds exactly this commit, pushed to `branch`. */
  commit?: { id: string; branch: string };
}

export class StoredTaskService implements TaskService, TaskTriggerService {
  constructor(private readonly options: StoredTaskServiceOptions) {}

  async createTask(registry: string, input: TaskInput, caller: Principal): Promise<TaskView> {
    await this.#registry(registry);
    checkTaskName(input.name);
    if (await this.options.store.getTask(registry, input.name)) throw new TaskError('conflict', `task ${input.name} already exists in registry ${registry}`);
    const contextPath = contextLocation(input.contextPath);
    const step = this.#stepOf(input, undefined);
    checkContextNeed(step, contextPath);
    const triggers = await this.#triggers(triggersOf({ triggers: null }), input, { path: contextPath, changed: true });
    const task: NewTask = {
      registry,
      name: input.name,
      status: input.status ?? 'Enabled',
      platform: normalisePlatform(input.platform, this.options.hostPlatform),
      timeoutSeconds: checkTimeout(input.timeoutSeconds),
      contextPath,
      contextAccessToken: input.contextAccessToken ? this.options.vault.seal(input.contextAccessToken) : null,
      step,
      credentials: [],
      identityPrincipalId: null,
      triggers,
      createdBy: actingPrincipal(caller),
    };
    if (input.assignIdentity) task.identityPrincipalId = await this.#createIdentity(registry, input.name);
    try {
      return taskView(await this.options.store.createTask(task));
    } catch (error) {
      if (task.identityPrincipalId) await this.#deleteIdentity(task.identityPrincipalId);
      if (error instanceof TaskExistsError) throw new TaskError('conflict', `task ${input.name} already exists in registry ${registry}`);
      throw error;
    }
  }

  async updateTask(registry: string, name: string, changes: TaskChanges, _caller: Principal): Promise<TaskView> {
    const existing = await this.#task(registry, name);
    const contextPath = changes.contextPath !== undefined ? contextLocation(changes.contextPath) : existing.contextPath;
    const step = this.#stepOf({ name, ...changes }, existing.step);
    checkContextNeed(step, contextPath);
    const triggers = await this.#triggers(triggersOf(existing), changes, { path: contextPath, changed: contextPath !== existing.contextPath });
    const task: NewTask = {
      registry,
      name,
      status: changes.status ?? existing.status,
      platform: changes.platform !== undefined ? normalisePlatform(changes.platform, this.options.hostPlatform) : existing.platform,
      timeoutSeconds: changes.timeoutSeconds !== undefined ? checkTimeout(changes.timeoutSeconds) : existing.timeoutSeconds,
      contextPath,
      contextAccessToken:
        changes.contextAccessToken !== undefined
          ? changes.contextAccessToken === ''
            ? null
            : this.options.vault.seal(changes.contextAccessToken)
          : existing.contextAccessToken,
      step,
      credentials: existing.credentials,
      identityPrincipalId: existing.identityPrincipalId,
      triggers,
    };
    if (changes.assignIdentity === true && !task.identityPrincipalId) task.identityPrincipalId = await this.#createIdentity(registry, name);
    if (changes.assignIdentity === false && task.identityPrincipalId) {
      await this.#deleteIdentity(task.identityPrincipalId);
      task.identityPrincipalId = null;
    }
    return taskView(await this.#save(task));
  }

  async getTask(registry: string, name: string): Promise<TaskView> {
    return taskView(await this.#task(registry, name));
  }

  async listTasks(registry: string): Promise<TaskView[]> {
    await this.#registry(registry);
    return (await this.options.store.listTasks(registry)).map(taskView);
  }

  async deleteTask(registry: string, name: string): Promise<void> {
    const task = await this.#task(registry, name);
    if (!(await this.options.store.deleteTask(registry, name))) throw new TaskError('not-found', `task ${name} not found in registry ${registry}`);
    if (task.identityPrincipalId) await this.#deleteIdentity(task.identityPrincipalId);
    await this.options.stopDetached(detachedOwner(registry, name));
  }

  async addCredential(registry: string, taskName: string, input: CredentialInput): Promise<TaskView> {
    const task = await this.#task(registry, taskName);
    const loginServer = checkLoginServer(input.loginServer);
    if (task.credentials.some((credential) => credential.loginServer === loginServer)) {
      throw new TaskError('conflict', `task ${taskName} already has a credential for ${loginServer}; use credential update`);
    }
    const credential = this.#credentialOf(loginServer, input, undefined);
    if (credential.useIdentity && !task.identityPrincipalId) {
      throw new TaskError('invalid', `task ${taskName} has no identity; create or update it with --assign-identity before adding a credential with --use-identity`);
    }
    return taskView(await this.#save({ ...task, credentials: [...task.credentials, credential] }));
  }

  async updateCredential(registry: string, taskName: string, input: CredentialInput): Promise<TaskView> {
    const task = await this.#task(registry, taskName);
    const loginServer = checkLoginServer(input.loginServer);
    const index = task.credentials.findIndex((credential) => credential.loginServer === loginServer);
    if (index < 0) throw new TaskError('not-found', `task ${taskName} has no credential for ${loginServer}`);
    const credentials = [...task.credentials];
    credentials[index] = this.#credentialOf(loginServer, input, credentials[index]);
    return taskView(await this.#save({ ...task, credentials }));
  }

  async removeCredential(registry: string, taskName: string, loginServer: string): Promise<TaskView> {
    const task = await this.#task(registry, taskName);
    const credentials = task.credentials.filter((credential) => credential.loginServer !== loginServer);
    if (credentials.length === task.credentials.length) throw new TaskError('not-found', `task ${taskName} has no credential for ${loginServer}`);
    return taskView(await this.#save({ ...task, credentials }));
  }

  async listTimers(registry: string, taskName: string): Promise<TimerView[]> {
    return timerViews(triggersOf(await this.#task(registry, taskName)));
  }

  async addTimer(registry: string, taskName: string, timer: TimerInput): Promise<TaskView> {
    const task = await this.#task(registry, taskName);
    return taskView(await this.#save({ ...task, triggers: withTimerAdded(triggersOf(task), timer) }));
  }

  async updateTimer(registry: string, taskName: string, timer: string, changes: TimerChanges): Promise<TaskView> {
    const task = await this.#task(registry, taskName);
    return taskView(await this.#save({ ...task, triggers: withTimerChanged(triggersOf(task), taskName, timer, changes) }));
  }

  async removeTimer(registry: string, taskName: string, timer: string): Promise<TaskView> {
    const task = await this.#task(registry, taskName);
    return taskView(await this.#save({ ...task, triggers: withTimerRemoved(triggersOf(task), taskName, timer) }));
  }

  async gitWebhookSecret(registry: string, taskName: string): Promise<string> {
    const source = triggersOf(await this.#task(registry, taskName)).source;
    if (!source) throw new TaskError('invalid', `task ${taskName} has no commit trigger: its context is not a git repository following a branch`);
    return this.options.vault.unseal(source.webhookSecret);
  }

  async runTask(registry: string, taskName: string, input: RunTaskInput, caller: Principal): Promise<RunView> {
    const task = await this.#task(registry, taskName);
    return runView(await this.queueTaskRun(task, { trigger: 'Manual', caller, values: input.values ?? [] }));
  }

  /**
   * Queues a run of a task. It runs as the task's identity; without one, as the caller, or for a
   * triggered run (no caller) as the principal who created the task.
   */
  async queueTaskRun(task: TaskRecord, how: QueueTaskRun): Promise<RunRecord> {
    const identity = (await this.#identityPrincipal(task)) ?? how.caller ?? task.createdBy ?? undefined;
    if (!identity) {
      throw new TaskError('invalid', `task ${task.name} has no identity to run its triggered runs with (and who created it is not known); update it with --assign-identity`);
    }
    const step = task.step;
    let work: RunWork;
    let values: TaskValue[] = [];
    if (step.type === 'Docker') {
      work = {
        kind: 'build',
        dockerfile: step.dockerFilePath,
        imageNames: step.imageNames,
        buildArgs: mergeValues(step.arguments, this.#seal(how.values)),
        ...(step.target !== undefined ? { target: step.target } : {}),
        noPush: !step.isPushEnabled,
        noCache: step.noCache,
      };
    } else {
      work = step.type === 'FileTask' ? { kind: 'file', path: step.taskFilePath } : { kind: 'encoded', content: step.taskFileContent };
      values = mergeValues(step.values, this.#seal(how.values));
    }
    const request: RunRequest = {
      version: 1,
      source: how.commit && task.contextPath !== null ? contextAtCommit(task.contextPath, how.commit.id) : task.contextPath,
      ...(how.commit ? { sourceBranch: how.commit.branch } : {}),
      sourceAccessToken: task.contextAccessToken,
      work,
      values,
      credentials: task.credentials,
      identity,
      caller: how.caller,
      taskName: task.name,
      timeoutSeconds: task.timeoutSeconds,
      detachedOwner: detachedOwner(task.registry, task.name),
    };
    return this.#queue({
      registry: task.registry,
      task: task.name,
      runType: step.type === 'Docker' ? 'AutoBuild' : 'AutoRun',
      trigger: how.trigger,
      platform: task.platform,
      request,
      ...(how.triggerDetails !== undefined ? { triggerDetails: how.triggerDetails } : {}),
    });
  }

  async quickBuild(registry: string, input: QuickBuildInput, caller: Principal): Promise<RunView> {
    await this.#registry(registry);
    const source = contextLocation(input.sourceLocation);
    if (source === null) throw new TaskError('invalid', 'a build needs a source context (a folder, git URL or tarball URL)');
    for (const arg of input.buildArgs ?? []) checkValueName(arg.name);
    const work: RunWork = {
      kind: 'build',
      dockerfile: input.dockerFilePath ?? 'Dockerfile',
      imageNames: input.imageNames,
      buildArgs: this.#seal(input.buildArgs ?? []),
      ...(input.target !== undefined ? { target: input.target } : {}),
      noPush: input.noPush ?? false,
      noCache: input.noCache ?? false,
    };
    return await this.#queueQuick(registry, 'QuickBuild', input, source, work, [], caller);
  }

  async quickRun(registry: string, input: QuickRunInput, caller: Principal): Promise<RunView> {
    await this.#registry(registry);
    const given = [input.taskFileContent, input.taskFilePath, input.cmd].filter((value) => value !== undefined).length;
    if (given !== 1) throw new TaskError('invalid', 'give exactly one of a task file (-f) or a command (--cmd)');
    const source = contextLocation(input.sourceLocation);
    let work: RunWork;
    if (input.cmd !== undefined) work = { kind: 'encoded', content: commandTaskFile(checkCommand(input.cmd)) };
    else if (input.taskFileContent !== undefined) work = { kind: 'encoded', content: input.taskFileContent };
    else {
      if (source === null) throw new TaskError('invalid', `task file ${input.taskFilePath} cannot be read without a source context`);
      work = { kind: 'file', path: input.taskFilePath! };
    }
    for (const value of input.values ?? []) checkValueName(value.name);
    return await this.#queueQuick(registry, 'QuickRun', input, source, work, this.#seal(input.values ?? []), caller);
  }

  /** Queues an ad-hoc run (`berth build`, `berth run`) as its caller, with no task behind it. */
  async #queueQuick(
    registry: string,
    runType: 'QuickBuild' | 'QuickRun',
    input: { contextAccessToken?: string; timeoutSeconds?: number; platform?: string },
    source: string | null,
    work: RunWork,
    values: TaskValue[],
    caller: Principal,
  ): Promise<RunView> {
    const request: RunRequest = {
      version: 1,
      source,
      sourceAccessToken: input.contextAccessToken ? this.options.vault.seal(input.contextAccessToken) : null,
      work,
      values,
      credentials: [],
      identity: caller,
      caller,
      taskName: QUICK_TASK_NAME,
      timeoutSeconds: checkTimeout(input.timeoutSeconds),
      detachedOwner: null,
    };
    const platform = normalisePlatform(input.platform, this.options.hostPlatform);
    return runView(await this.#queue({ registry, task: null, runType, trigger: 'Manual', platform, request }));
  }

  async getRun(registry: string, runId: string): Promise<RunView> {
    return runView(await this.#run(registry, runId));
  }

  async listRuns(registry: string, query: { task?: string; status?: RunStatus; top?: number }): Promise<RunView[]> {
    await this.#registry(registry);
    return (await this.options.store.listRuns(registry, query)).map(runView);
  }

  async cancelRun(registry: string, runId: string): Promise<RunView> {
    const before = await this.#run(registry, runId);
    const run = await this.options.store.requestCancel(registry, runId);
    if (!run) throw new TaskError('not-found', `run ${runId} not found in registry ${registry}`);
    await this.#afterCancel(before, run);
    return runView(run);
  }

  async cancelAllRuns(registry: string): Promise<RunView[]> {
    await this.#registry(registry);
    const cancelled: RunView[] = [];
    for (const status of ['Queued', 'Running'] as const) {
      for (const run of await this.options.store.listRuns(registry, { status })) {
        const changed = await this.options.store.requestCancel(registry, run.runId);
        if (!changed) continue;
        await this.#afterCancel(run, changed);
        cancelled.push(runView(changed));
      }
    }
    return cancelled;
  }

  /** Stops a running run here at once; a queued one that never started gets a log saying so (no agent writes one). */
  async #afterCancel(before: RunRecord, after: RunRecord): Promise<void> {
    if (after.status === 'Running') this.options.dispatch.cancel(after.registry, after.runId);
    if (before.status !== 'Queued' || after.status !== 'Canceled') return;
    const log = await this.options.logs.open(after.registry, after.runId);
    log.write(`Queued a run with ID: ${after.runId}\nRun ID: ${after.runId} was canceled before it started\n`);
    await log.close();
    this.options.logs.notify(after.registry, after.runId);
  }

  async *readLog(registry: string, runId: string, options: LogReadOptions): AsyncIterable<string> {
    await this.#run(registry, runId);
    yield* this.options.logs.read(registry, runId, { follow: options.follow, ...(options.signal ? { signal: options.signal } : {}) });
  }

  async stopDetached(registry: string, taskName: string): Promise<number> {
    await this.#task(registry, taskName);
    return this.options.stopDetached(detachedOwner(registry, taskName));
  }

  async uploadSource(registry: string, archive: NodeJS.ReadableStream): Promise<string> {
    await this.#registry(registry);
    // The store reads a copy. When it refuses an upload part-way (too large), the rest of the
    // sender's stream is read and dropped rather than destroyed: a destroyed HTTP request leaves
    // its connection paused on unread data until the server's timeouts, holding up shutdown.
    const copy = new PassThrough();
    finished(archive, (error) => {
      if (error) copy.destroy(error);
    });
    archive.pipe(copy);
    try {
      return await this.options.uploads.save(copy, this.options.uploadLimitBytes);
    } catch (error) {
      archive.unpipe(copy);
      archive.resume();
      if (error instanceof ContextError) throw new TaskError('invalid', error.message);
      throw error;
    }
  }

  async #queue(run: Parameters<TaskStore['queueRun']>[0]): Promise<RunRecord> {
    const queued = await this.options.store.queueRun(run);
    this.options.dispatch.wake();
    return queued;
  }

  async #registry(registry: string): Promise<void> {
    if (!(await this.options.registryExists(registry))) throw new TaskError('not-found', `registry ${registry} not found`);
  }

  async #task(registry: string, name: string): Promise<TaskRecord> {
    await this.#registry(registry);
    const task = await this.options.store.getTask(registry, name);
    if (!task) throw new TaskError('not-found', `task ${name} not found in registry ${registry}`);
    return task;
  }

  async #run(registry: string, runId: string): Promise<RunRecord> {
    await this.#registry(registry);
    const run = await this.options.store.getRun(registry, runId);
    if (!run) throw new TaskError('not-found', `run ${runId} not found in registry ${registry}`);
    return run;
  }

  async #save(task: NewTask): Promise<TaskRecord> {
    const saved = await this.options.store.updateTask(task);
    if (!saved) throw new TaskError('not-found', `task ${task.name} not found in registry ${task.registry}`);
    return saved;
  }

  #triggers(current: TaskTriggers, changes: TaskChanges, context: { path: string | null; changed: boolean }): Promise<TaskTriggers> {
    return changedTriggers(current, changes, context, (secret) => this.options.vault.seal(secret));
  }

  #seal(values: ValueInput[]): TaskValue[] {
    return values.map((value) => {
      checkValueName(value.name);
      return { name: value.name, value: value.isSecret ? this.options.vault.seal(value.value) : value.value, isSecret: value.isSecret };
    });
  }

  /** The step a task input describes; with `existing`, only what the changes name is replaced. */
  #stepOf(input: TaskChanges & { name: string }, existing: TaskStepDefinition | undefined): TaskStepDefinition {
    if (input.file !== undefined && input.cmd !== undefined) throw new TaskError('invalid', 'give either a file (-f) or a command (--cmd), not both');
    const values = input.values !== undefined ? this.#seal(input.values) : undefined;
    if (input.cmd !== undefined) {
      return { type: 'EncodedTask', taskFileContent: commandTaskFile(checkCommand(input.cmd)), values: values ?? existingValues(existing) };
    }
    const file = input.file ?? (existing === undefined ? 'Dockerfile' : undefined);
    if (file !== undefined && isTaskFilePath(file)) return { type: 'FileTask', taskFilePath: file, values: values ?? existingValues(existing) };
    if (file !== undefined || existing?.type === 'Docker') {
      const previous = existing?.type === 'Docker' ? existing : undefined;
      const target = input.target ?? previous?.target;
      return {
        type: 'Docker',
        dockerFilePath: file ?? previous!.dockerFilePath,
        imageNames: input.imageNames ?? previous?.imageNames ?? [],
        isPushEnabled: input.noPush !== undefined ? !input.noPush : (previous?.isPushEnabled ?? true),
        noCache: input.noCache ?? previous?.noCache ?? false,
        ...(target !== undefined && target !== '' ? { target } : {}),
        arguments: values ?? previous?.arguments ?? existingValues(existing),
      };
    }
    if (input.imageNames !== undefined || input.noPush !== undefined || input.noCache !== undefined || input.target !== undefined) {
      throw new TaskError('invalid', 'image names, --no-push, --no-cache and --target apply only to Dockerfile tasks');
    }
    return values === undefined ? existing! : { ...existing!, values };
  }

  #credentialOf(loginServer: string, input: CredentialInput, previous: TaskCredential | undefined): TaskCredential {
    const useIdentity = input.useIdentity ?? previous?.useIdentity ?? false;
    if (useIdentity) {
      if (input.username !== undefined || input.password !== undefined) {
        throw new TaskError('invalid', 'a credential uses either the task identity (--use-identity) or a user name and password');
      }
      return { loginServer, username: null, password: null, useIdentity: true };
    }
    const username = input.username !== undefined ? input.username : (previous?.username ?? null);
    const password = input.password !== undefined ? this.#sealPassword(input.password) : (previous?.password ?? null);
    if (username === null || password === null) throw new TaskError('invalid', `the credential for ${loginServer} needs a user name (-u) and a password (-p), or --use-identity`);
    return { loginServer, username, password, useIdentity: false };
  }

  /** Secret URIs are kept as they are (resolved at run time); a clear password is sealed. */
  #sealPassword(password: string): string {
    return this.options.vault.isReference(password) ? password : this.options.vault.seal(password);
  }

  async #createIdentity(registry: string, task: string): Promise<string> {
    const principal = await this.options.identity.createServicePrincipal(`task-${registry}-${task}`);
    return principal.principalId;
  }

  async #deleteIdentity(principalId: string): Promise<void> {
    const principal = (await this.options.identity.listServicePrincipals()).find((sp) => sp.principalId === principalId);
    if (principal) await this.options.identity.deleteServicePrincipal(principal.appId);
  }

  async #identityPrincipal(task: TaskRecord): Promise<Principal | undefined> {
    if (!task.identityPrincipalId) return undefined;
    const sp = (await this.options.identity.listServicePrincipals()).find((candidate) => candidate.principalId === task.identityPrincipalId);
    if (!sp) throw new TaskError('invalid', `the identity of task ${task.name} no longer exists; update the task with --assign-identity`);
    return { kind: 'servicePrincipal', id: sp.principalId, name: sp.displayName, appId: sp.appId };
  }
}

/** Who acts behind a caller: a run's credential acts for its run's identity, which outlives the run. */
function actingPrincipal(caller: Principal): Principal {
  let principal = caller;
  while (principal.kind === 'taskRun') principal = principal.identity;
  return principal;
}

export function detachedOwner(registry: string, task: string): string {
  return `${registry}/${task}`;
}

function existingValues(step: TaskStepDefinition | undefined): TaskValue[] {
  if (step === undefined) return [];
  return step.type === 'Docker' ? step.arguments : step.values;
}

/** Task values overridden by the run's values of the same name. */
function mergeValues(base: TaskValue[], overrides: TaskValue[]): TaskValue[] {
  const names = new Set(overrides.map((value) => value.name));
  return [...base.filter((value) => !names.has(value.name)), ...overrides];
}

function checkContextNeed(step: TaskStepDefinition, contextPath: string | null): void {
  if (contextPath === null && step.type !== 'EncodedTask') {
    throw new TaskError('invalid', `a task with ${step.type === 'Docker' ? 'a Dockerfile' : 'a task file'} needs a source context (--context)`);
  }
}

function checkCommand(cmd: string): string {
  if (cmd.trim() === '') throw new TaskError('invalid', '--cmd needs an image, e.g. --cmd "busybox echo hello"');
  return cmd;
}

function checkLoginServer(loginServer: string): string {
  const trimmed = loginServer.trim().toLowerCase().replace(/^https?:\/\//, '').replace(/\/+$/, '');
  if (!/^[a-z0-9.-]+(:\d{1,5})?$/.test(trimmed)) throw new TaskError('invalid', `invalid login server "${loginServer}"`);
  return trimmed;
}
