/**
 * Doubles for API-shape tests of the tasks, runs and secrets routes and the commands that use
 * them: a task engine that records what it is handed and whose logs the test writes, a secret
 * vault in memory, and the real management API around them with a tiny identity model (the
 * owner may do everything, the reader only `read_registry`).
 */
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { registerOpenApi, type RouteRecord } from '../../src/api/openapi.ts';
import { managementApi, type ManagementApiOptions } from '../../src/api/plugin.ts';
import type { Action } from '../../src/auth/actions.ts';
import type { Principal } from '../../src/auth/principal.ts';
import type { RunStatus } from '../../src/meta/task-store.ts';
import type { SecretVault, SecretView } from '../../src/tasks/secrets/secret-vault.ts';
import {
  TaskError,
  type LogReadOptions,
  type QuickBuildInput,
  type QuickRunInput,
  type RunView,
  type TaskInput,
  type TaskService,
  type TaskView,
} from '../../src/tasks/task-service.ts';

export const OWNER = { username: 'owner', password: 'owner-pw' };
export const READER = { username: 'reader', password: 'reader-pw' };

export function basic({ username, password }: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

function taskView(registry: string, input: TaskInput): TaskView {
  return {
    name: input.name,
    registry,
    status: input.status ?? 'Enabled',
    platform: { os: 'linux', architecture: 'amd64' },
    timeout: input.timeoutSeconds ?? 3600,
    step: { type: 'Docker', contextPath: input.contextPath, contextAccessToken: null, imageNames: input.imageNames ?? [], isPushEnabled: !input.noPush },
    credentials: { customRegistries: {} },
    identity: null,
    trigger: { baseImageTrigger: { status: 'Enabled' } },
    creationDate: '2024-01-01T00:00:00.000Z',
    lastUpdatedTime: '2024-01-01T00:00:00.000Z',
    provisioningState: 'Succeeded',
  };
}

function runView(registry: string, runId: string, task: string | null, runType: RunView['runType']): RunView {
  return {
    runId,
    registry,
    task,
    status: 'Queued',
    runType,
    trigger: 'Manual',
    platform: { os: 'linux', architecture: 'amd64' },
    createTime: '2024-01-01T00:00:00.000Z',
    startTime: null,
    finishTime: null,
    lastUpdatedTime: '2024-01-01T00:00:00.000Z',
    outputImages: [],
    runErrorMessage: null,
    triggerDetails: { internal: 'kept as given' },
  };
}

/** A run's log as the test writes it; `wake` after writing or finishing. */
export interface LiveLog {
  chunks: string[];
  finished: boolean;
  wake: () => void;
  aborted: boolean;
}

/** Records what the routes hand over; logs are written by the test, or at once by `outcome`. */
export class FakeTasks implements TaskService {
  readonly tasks = new Map<string, TaskView>();
  readonly runs = new Map<string, RunView>();
  readonly calls: { method: string; args: unknown[] }[] = [];
  uploaded: { bytes: number; wasStream: boolean; data: Buffer } | undefined;
  readonly logs = new Map<string, LiveLog>();
  /** When set, every queued run ends at once with this status and log. */
  outcome: { status: RunStatus; log: string } | undefined;

  logOf(runId: string): LiveLog {
    let log = this.logs.get(runId);
    if (!log) {
      log = { chunks: [], finished: false, wake: () => {}, aborted: false };
      this.logs.set(runId, log);
    }
    return log;
  }

  /** The latest call of `method`; throws when there was none. */
  lastCall(method: string): { method: string; args: unknown[] } {
    const call = [...this.calls].reverse().find((item) => item.method === method);
    if (!call) throw new Error(`${method} was not called`);
    return call;
  }

  private record(method: string, ...args: unknown[]): void {
    this.calls.push({ method, args });
  }

  private queue(registry: string, task: string | null, runType: RunView['runType']): RunView {
    const run = runView(registry, `ca${this.runs.size + 1}`, task, runType);
    this.runs.set(run.runId, run);
    if (this.outcome) {
      const log = this.logOf(run.runId);
      log.chunks.push(this.outcome.log);
      log.finished = true;
      const finished = { ...run, status: this.outcome.status, startTime: '2024-01-01T00:00:01.000Z', finishTime: '2024-01-01T00:00:06.000Z' };
      this.runs.set(run.runId, finished);
    }
    return run;
  }

  async createTask(registry: string, input: TaskInput, caller: Principal): Promise<TaskView> {
    this.record('createTask', registry, input, caller);
    if (this.tasks.has(input.name)) throw new TaskError('conflict', `task ${input.name} already exists`);
    const task = taskView(registry, input);
    this.tasks.set(input.name, task);
    return task;
  }
  async updateTask(registry: string, name: string, changes: object): Promise<TaskView> {
    this.record('updateTask', registry, name, changes);
    return this.getTask(registry, name);
  }
  async getTask(_registry: string, name: string): Promise<TaskView> {
    const task = this.tasks.get(name);
    if (!task) throw new TaskError('not-found', `no task ${name}`);
    return task;
  }
  async listTasks(): Promise<TaskView[]> {
    return [...this.tasks.values()];
  }
  async deleteTask(registry: string, name: string): Promise<void> {
    await this.getTask(registry, name);
    this.tasks.delete(name);
  }
  async addCredential(registry: string, task: string, credential: object): Promise<TaskView> {
    this.record('addCredential', registry, task, credential);
    return this.getTask(registry, task);
  }
  async updateCredential(registry: string, task: string, credential: object): Promise<TaskView> {
    this.record('updateCredential', registry, task, credential);
    return this.getTask(registry, task);
  }
  async removeCredential(registry: string, task: string, loginServer: string): Promise<TaskView> {
    this.record('removeCredential', registry, task, loginServer);
    return this.getTask(registry, task);
  }
  async runTask(registry: string, task: string, input: object): Promise<RunView> {
    await this.getTask(registry, task);
    this.record('runTask', registry, task, input);
    return this.queue(registry, task, 'AutoRun');
  }
  async quickBuild(registry: string, input: QuickBuildInput): Promise<RunView> {
    this.record('quickBuild', registry, input);
    return this.queue(registry, null, 'QuickBuild');
  }
  async quickRun(registry: string, input: QuickRunInput): Promise<RunView> {
    this.record('quickRun', registry, input);
    return this.queue(registry, null, 'QuickRun');
  }
  async getRun(_registry: string, runId: string): Promise<RunView> {
    const run = this.runs.get(runId);
    if (!run) throw new TaskError('not-found', `no run ${runId}`);
    return run;
  }
  async listRuns(registry: string, query: object): Promise<RunView[]> {
    this.record('listRuns', registry, query);
    return [...this.runs.values()].reverse();
  }
  async cancelRun(registry: string, runId: string): Promise<RunView> {
    const run = await this.getRun(registry, runId);
    run.status = 'Canceled';
    return run;
  }
  async cancelAllRuns(): Promise<RunView[]> {
    const running = [...this.runs.values()].filter((run) => run.status === 'Queued' || run.status === 'Running');
    for (const run of running) run.status = 'Canceled';
    return running;
  }
  async *readLog(_registry: string, runId: string, options: LogReadOptions): AsyncIterable<string> {
    const log = this.logOf(runId);
    options.signal?.addEventListener('abort', () => {
      log.aborted = true;
      log.wake();
    });
    let sent = 0;
    for (;;) {
      while (sent < log.chunks.length) yield log.chunks[sent++]!;
      if (log.finished || !options.follow || options.signal?.aborted) return;
      await new Promise<void>((resolve) => (log.wake = resolve));
    }
  }
  async stopDetached(registry: string, task: string): Promise<number> {
    await this.getTask(registry, task);
    return 2;
  }
  async uploadSource(_registry: string, archive: NodeJS.ReadableStream): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of archive) chunks.push(chunk as Buffer);
    const data = Buffer.concat(chunks);
    this.uploaded = { bytes: data.length, wasStream: typeof archive.pipe === 'function', data };
    return 'upload:u1';
  }
}

export class FakeVault implements SecretVault {
  readonly values = new Map<string, SecretView>();
  async set(vault: string, name: string, value: string, contentType?: string): Promise<SecretView> {
    const secret: SecretView = {
      vault,
      name,
      value,
      contentType: contentType ?? null,
      version: 'v1',
      createdAt: '2024-01-01T00:00:00.000Z',
      updatedAt: '2024-01-01T00:00:00.000Z',
      id: `https://${vault}.vault.azure.net/secrets/${name}/v1`,
    };
    this.values.set(`${vault}/${name}`, secret);
    return secret;
  }
  async show(vault: string, name: string): Promise<SecretView | undefined> {
    return this.values.get(`${vault}/${name}`);
  }
  async list(vault: string): Promise<SecretView[]> {
    return [...this.values.values()].filter((secret) => secret.vault === vault);
  }
  async delete(vault: string, name: string): Promise<boolean> {
    return this.values.delete(`${vault}/${name}`);
  }
  isReference(): boolean {
    return false;
  }
  async resolve(): Promise<string> {
    throw new Error('not used');
  }
  seal(value: string): string {
    return value;
  }
  unseal(sealed: string): string {
    return sealed;
  }
}

/** Owner may do everything; the reader only `read_registry`; no credentials is anonymous. */
const callers = {
  async identify(request: FastifyRequest): Promise<{ principal: Principal }> {
    const header = request.headers.authorization;
    if (header === basic(OWNER)) return { principal: { kind: 'user', id: 'u-owner', name: 'owner', owner: true } };
    if (header === basic(READER)) return { principal: { kind: 'user', id: 'u-reader', name: 'reader', owner: false } };
    return { principal: { kind: 'anonymous' } };
  },
};
const authorizer = {
  async authorize(principal: Principal, _registry: string | undefined, _repository: string | undefined, action: Action): Promise<boolean> {
    if (principal.kind !== 'user') return false;
    return principal.owner || action === 'read_registry';
  },
};
const directory = { defaultRegistry: 'default', loginServer: (name: string) => `${name}.localhost` };

/** The real management plugin; services these routes do not use are never called. */
export async function buildApi(tasks: TaskService, secrets: SecretVault): Promise<{ app: FastifyInstance; routes: RouteRecord[] }> {
  const app = Fastify({ ajv: { customOptions: { removeAdditional: false } } });
  const routes = await registerOpenApi(app, '0.0.0-test');
  const unused = {} as never;
  const options: ManagementApiOptions = {
    directory: directory as never,
    identity: unused,
    authorizer,
    tokens: unused,
    callers: callers as never,
    portSuffix: () => '',
    refreshTokenSeconds: 3600,
    webhooks: unused,
    authenticator: unused,
    imports: unused,
    gc: unused,
    usage: unused,
    purge: unused,
    quarantinePolicies: unused,
    retentionPolicies: unused,
    tasks,
    secrets,
  };
  await app.register(managementApi, { prefix: '/mgmt/v1', ...options });
  await app.ready();
  return { app, routes };
}

