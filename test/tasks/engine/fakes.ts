/**
 * Stand-ins for the run engine's collaborators in logic tests: an executor that records every
 * call (with timestamps) and whose containers behave by image name, a vault with readable seals,
 * and a task file loader that takes the model itself as JSON.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openMetaStore } from '../../../src/meta/index.ts';
import type { MetaStore } from '../../../src/meta/meta-store.ts';
import type { NewRun, RunRecord, TaskValue } from '../../../src/meta/task-store.ts';
import type {
  BuildRequest,
  ContainerRequest,
  ContainerResult,
  Executor,
  ExecutorSession,
  PushResult,
  SessionSpec,
  StepOutput,
} from '../../../src/tasks/executor/executor.ts';
import { StepError } from '../../../src/tasks/executor/executor.ts';
import type { ContextFetcher, ContextRequest, FetchedContext, UploadedSources } from '../../../src/tasks/context/context-source.ts';
import { SecretNotFoundError, type SecretVault, type SecretView } from '../../../src/tasks/secrets/secret-vault.ts';
import type { RenderInput, TaskFile, TaskStep } from '../../../src/tasks/model.ts';
import { RunEngine, type TaskFileLoader } from '../../../src/tasks/engine/run-engine.ts';
import type { RunRequest } from '../../../src/tasks/engine/run-request.ts';
import { containerStepDefaults } from '../../../src/tasks/engine/quick-build.ts';
import { RunLogs } from '../../../src/tasks/run-log.ts';

export interface CallRecord {
  kind: 'build' | 'run' | 'pull' | 'tag' | 'push';
  name: string;
  start: number;
  end?: number;
  detail?: unknown;
}

/**
 * Containers behave by image: `sleep <ms>`, `exit <code>`, `print <chunk> <chunk>…` (each chunk
 * written separately), `flaky <n>` (exits 1 the first n times per step name), anything else exits 0.
 */
export class FakeExecutor implements Executor {
  readonly hostPlatform = 'linux/amd64';
  readonly calls: CallRecord[] = [];
  readonly sessions: SessionSpec[] = [];
  closed = 0;
  readonly #flakes = new Map<string, number>();

  async open(spec: SessionSpec): Promise<ExecutorSession> {
    this.sessions.push(spec);
    const calls = this.calls;
    const flakes = this.#flakes;
    const executor = this;
    const record = (kind: CallRecord['kind'], name: string, detail?: unknown) => {
      const call: CallRecord = { kind, name, start: Date.now(), detail };
      calls.push(call);
      return call;
    };
    return {
      workDir: '/nonexistent',
      async build(request: BuildRequest, output: StepOutput, signal: AbortSignal) {
        const call = record('build', request.tags.join(','), request);
        output.write(`building ${request.dockerfile}\n`);
        signal.throwIfAborted();
        call.end = Date.now();
      },
      async run(request: ContainerRequest, output: StepOutput, signal: AbortSignal): Promise<ContainerResult> {
        const call = record('run', request.name, request);
        try {
          const [kind, ...rest] = [request.image, ...request.args];
          if (kind === 'sleep') await sleep(Number(rest[0]), undefined, { signal });
          if (kind === 'print') for (const chunk of rest) output.write(chunk);
          if (kind === 'exit') return { exitCode: Number(rest[0]) };
          if (kind === 'flaky') {
            const seen = flakes.get(request.name) ?? 0;
            flakes.set(request.name, seen + 1);
            if (seen < Number(rest[0])) return { exitCode: 1 };
          }
          if (kind === 'buildfail') throw new StepError('the build failed');
          return { exitCode: 0 };
        } finally {
          call.end = Date.now();
        }
      },
      async pull(image: string) {
        record('pull', image).end = Date.now();
      },
      async tag(source: string, target: string) {
        record('tag', `${source}>${target}`).end = Date.now();
      },
      async push(image: string): Promise<PushResult> {
        record('push', image).end = Date.now();
        return { digest: `sha256:${'a'.repeat(64)}` };
      },
      async close() {
        executor.closed++;
      },
    };
  }

  async stopDetached(): Promise<number> {
    return 0;
  }

  async cleanUp(): Promise<void> {}

  runs(): CallRecord[] {
    return this.calls.filter((call) => call.kind === 'run');
  }

  call(name: string): CallRecord | undefined {
    return this.calls.find((call) => call.name === name);
  }
}

/** Seals are readable (`sealed:<base64>`); `vault://v/name` references resolve from `secrets`. */
export class FakeVault implements SecretVault {
  constructor(readonly secrets: Record<string, string> = {}) {}

  set(): Promise<SecretView> {
    throw new Error('not used');
  }
  show(): Promise<SecretView | undefined> {
    throw new Error('not used');
  }
  list(): Promise<SecretView[]> {
    throw new Error('not used');
  }
  delete(): Promise<boolean> {
    throw new Error('not used');
  }
  isReference(reference: string): boolean {
    return reference.startsWith('vault://');
  }
  async resolve(reference: string): Promise<string> {
    const value = this.secrets[reference];
    if (value === undefined) throw new SecretNotFoundError(reference);
    return value;
  }
  seal(value: string): string {
    return `sealed:${Buffer.from(value).toString('base64')}`;
  }
  unseal(sealed: string): string {
    return Buffer.from(sealed.slice('sealed:'.length), 'base64').toString();
  }
}

/** Encoded task files are the model as JSON; `{{.Run.ID}}` and `{{.Values.X}}` are replaced in image names. */
export const jsonTaskFiles: TaskFileLoader = {
  secretReferences: (text) => (JSON.parse(text) as TaskFile).secrets,
  load: (text) => JSON.parse(text) as TaskFile,
  render: (template: string, input: RenderInput) =>
    template.replace(/\{\{\s*\.Run\.ID\s*\}\}/g, input.run.ID).replace(/\{\{\s*\.Values\.(\w+)\s*\}\}/g, (_, name: string) => {
      const value = input.values[name];
      if (value === undefined) throw new Error(`no value ${name}`);
      return value;
    }),
};

export function taskFile(steps: TaskStep[], extra: Partial<TaskFile> = {}): TaskFile {
  return { version: 'v1.1.0', stepTimeoutSeconds: 600, workingDirectory: '/workspace', env: [], secrets: [], volumes: [], networks: [], steps, warnings: [], ...extra };
}

/** A `cmd` step running `image args…` in a container. */
export function cmdStep(id: string, dependsOn: string[], image: string, args: string[] = [], extra: Partial<TaskStep> = {}): TaskStep {
  return {
    ...containerStepDefaults,
    id,
    line: 0,
    dependsOn,
    env: [],
    ignoreErrors: false,
    startDelaySeconds: 0,
    timeoutSeconds: 600,
    kind: 'cmd',
    cmd: { type: 'container', image, args, run: { env: [], ports: [], detach: false, remove: true } },
    ...extra,
  } as TaskStep;
}

export interface EngineFixture {
  meta: MetaStore;
  engine: RunEngine;
  executor: FakeExecutor;
  vault: FakeVault;
  logs: RunLogs;
  revoked: string[];
  removedUploads: string[];
  queue(request: Partial<RunRequest>, run?: Partial<NewRun>): Promise<RunRecord>;
  /** Claims the oldest queued run and executes it. */
  execute(signal?: AbortSignal): Promise<RunRecord>;
  logOf(runId: string): Promise<string>;
  close(): Promise<void>;
}

export const RUN_PASSWORD = 'run-credential-password-9d1';

export async function engineFixture(options: { secrets?: Record<string, string>; taskFiles?: TaskFileLoader; contexts?: ContextFetcher } = {}): Promise<EngineFixture> {
  const dir = await mkdtemp(path.join(tmpdir(), 'berth-engine-'));
  const meta = await openMetaStore({ url: `sqlite:${path.join(dir, 'berth.db')}` });
  await meta.createRegistry('contoso');
  const executor = new FakeExecutor();
  const vault = new FakeVault(options.secrets);
  const logs = new RunLogs(meta.tasks, { flushMs: 20, pollMs: 100 });
  const revoked: string[] = [];
  const removedUploads: string[] = [];
  const contexts: ContextFetcher = options.contexts ?? {
    async fetch(request: ContextRequest): Promise<FetchedContext> {
      return { dir: request.into, commit: 'abc123', branch: 'main' };
    },
  };
  const uploads: UploadedSources = {
    async save() {
      return 'upload:x';
    },
    async remove(location) {
      removedUploads.push(location);
    },
  };
  const engine = new RunEngine({
    store: meta.tasks,
    logs,
    executor,
    contexts,
    uploads,
    vault,
    taskFiles: options.taskFiles ?? jsonTaskFiles,
    runCredentials: ({ runId }) => ({ username: 'run-user', password: RUN_PASSWORD, revoke: () => void revoked.push(runId) }),
    installation: {
      loginServer: (registry) => `${registry}.localhost:5000`,
      endpoints: async () => [{ loginServer: 'contoso.localhost:5000', insecure: true }],
      registryOf: async (server) => (server.startsWith('contoso.') ? 'contoso' : undefined),
      serverUrl: () => 'http://127.0.0.1:5000',
      caFile: undefined,
    },
    workRoot: dir,
  });
  const fixture: EngineFixture = {
    meta,
    engine,
    executor,
    vault,
    logs,
    revoked,
    removedUploads,
    async queue(request, run = {}) {
      const full: RunRequest = {
        version: 1,
        source: null,
        sourceAccessToken: null,
        work: { kind: 'encoded', content: JSON.stringify(taskFile([])) },
        values: [],
        credentials: [],
        identity: { kind: 'user', id: 'u1', name: 'alice', owner: false },
        caller: { kind: 'user', id: 'u1', name: 'alice', owner: false },
        taskName: 'quickrun',
        timeoutSeconds: 600,
        detachedOwner: null,
        ...request,
      };
      return meta.tasks.queueRun({ registry: 'contoso', task: null, runType: 'QuickRun', trigger: 'Manual', platform: 'linux/amd64', request: full, ...run });
    },
    async execute(signal = new AbortController().signal) {
      const run = await meta.tasks.claimRun('test-worker');
      if (!run) throw new Error('no queued run');
      await engine.execute(run, signal);
      return (await meta.tasks.getRun('contoso', run.runId))!;
    },
    async logOf(runId) {
      return (await meta.tasks.readRunLog('contoso', runId, 0)).map((chunk) => chunk.text).join('');
    },
    async close() {
      await meta.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return fixture;
}

export function encoded(file: TaskFile): Partial<RunRequest> {
  return { work: { kind: 'encoded', content: JSON.stringify(file) } };
}

export function secretValue(vault: FakeVault, name: string, value: string): TaskValue {
  return { name, value: vault.seal(value), isSecret: true };
}
