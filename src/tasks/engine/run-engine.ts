/**
 * Executes one claimed run: fetches its context, prepares the task file (secrets, templates,
 * validation), opens an executor session with the run's credentials, runs the step graph, and
 * records the outcome — status, output images, and an ACR-style log with every secret masked.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { OutputImage, RunFinish, RunRecord, RunStatus, TaskStore } from '../../meta/task-store.ts';
import type { BuildSpec, RenderInput, RunVariables, TaskFile, TaskSecretReference } from '../model.ts';
import type { Executor, ExecutorSession, RegistryCredential } from '../executor/executor.ts';
import { ContextError, type ContextFetcher, type FetchedContext, type UploadedSources } from '../context/context-source.ts';
import { SecretNotFoundError, type SecretVault } from '../secrets/secret-vault.ts';
import { revealSealed } from '../secrets/reveal.ts';
import type { RunLogs, RunLogWriter } from '../run-log.ts';
import { RunStop, runStopOf } from './abort-reasons.ts';
import { BerthCliRunner, type HostCommandRunner } from './host-command.ts';
import { parseImageName } from './image-names.ts';
import type { Installation, RunCredentialIssuer } from './installation.ts';
import { quickBuildTaskFile } from './quick-build.ts';
import { isRunRequest, type RunRequest } from './run-request.ts';
import { runVariables } from './run-variables.ts';
import { SecretMasker } from './secret-masker.ts';
import { runStepGraph } from './step-graph.ts';
import { executeStep, type StepEnvironment, type StepOutputStream } from './step-runner.ts';

/** Reads task files: the parser and template engine the run uses. */
export interface TaskFileLoader {
  /** The `secrets:` entries, their templates rendered with the run's variables and values. */
  secretReferences(text: string, input: Omit<RenderInput, 'secrets'>, options: { fileName: string }): TaskSecretReference[];
  /** Renders, parses and validates; throws an error whose message names the line(s). */
  load(text: string, input: RenderInput, options: { fileName: string }): TaskFile;
  /** Renders one template (image names of Dockerfile builds). */
  render(template: string, input: RenderInput): string;
}

export interface RunEngineOptions {
  store: TaskStore;
  logs: RunLogs;
  executor: Executor;
  contexts: ContextFetcher;
  uploads: UploadedSources;
  vault: SecretVault;
  taskFiles: TaskFileLoader;
  runCredentials: RunCredentialIssuer;
  installation: Installation;
  /** Parent folder of each run's temporary files (fetched context, volumes). */
  workRoot: string;
  host?: HostCommandRunner;
  /** Failures of clean-up after a run (never part of the run's outcome). */
  onCleanupError?: (error: unknown, run: RunRecord) => void;
  /** A build step of a task run succeeded (the base-image trigger records what it built FROM). */
  onBuilt?: (run: RunRecord, build: BuiltDockerfile) => Promise<void>;
}

/** A Dockerfile a task run built, with the arguments the build used. */
export interface BuiltDockerfile {
  dockerfileText: string;
  buildArgs: Array<[string, string]>;
  target?: string;
}

/** A run that cannot go on, for a reason its log explains (status Failed). */
class RunFailure extends Error {}

/** What a run holds while it executes; released in reverse order when it ends. */
class Held {
  readonly #releases: Array<() => Promise<unknown> | unknown> = [];

  add(release: () => Promise<unknown> | unknown): void {
    this.#releases.push(release);
  }

  async releaseAll(onError: (error: unknown) => void): Promise<void> {
    for (const release of this.#releases.reverse()) {
      try {
        await release();
      } catch (error) {
        onError(error);
      }
    }
  }
}

function elapsedSeconds(since: number): number {
  return Math.round((Date.now() - since) / 1000);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class RunEngine {
  readonly #host: HostCommandRunner;

  constructor(private readonly options: RunEngineOptions) {
    this.#host = options.host ?? new BerthCliRunner();
  }

  /** Runs to the end and records the outcome; `signal` aborts with a `RunStop` reason (cancel, server stop). */
  async execute(run: RunRecord, signal: AbortSignal): Promise<RunFinish> {
    const started = Date.now();
    const log = await this.options.logs.open(run.registry, run.runId);
    const masker = new SecretMasker();
    const line = (text: string) => log.write(`${masker.mask(text)}\n`);
    line(`Queued a run with ID: ${run.runId}`);
    line('Waiting for an agent...');

    const request = isRunRequest(run.request) ? run.request : undefined;
    const timeoutSeconds = request?.timeoutSeconds ?? 3600;
    const controller = new AbortController();
    const forward = () => controller.abort(signal.reason);
    if (signal.aborted) forward();
    signal.addEventListener('abort', forward, { once: true });
    const timer = setTimeout(() => controller.abort(new RunStop('timeout', `the run timed out after ${timeoutSeconds}s`)), timeoutSeconds * 1000);

    const held = new Held();
    const outputImages: OutputImage[] = [];
    let finish: RunFinish;
    try {
      if (!request) throw new Error('the run request is not readable by this version of Berth');
      const failure = await this.#run(run, request, { line, log, masker, held, outputImages, signal: controller.signal });
      finish = failure === undefined ? { status: 'Succeeded', outputImages } : { status: 'Failed', errorMessage: failure, outputImages };
    } catch (error) {
      finish = { ...this.#failureOf(error, controller.signal), outputImages };
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', forward);
    }
    // A stop that arrives while the last step finishes still decides the outcome.
    const stop = runStopOf(controller.signal);
    if (stop && finish.status === 'Failed') finish = { ...this.#failureOf(stop, controller.signal), outputImages };

    line(summary(run.runId, finish.status, elapsedSeconds(started), finish.errorMessage ?? undefined));
    await log.close().catch((error: unknown) => this.options.onCleanupError?.(error, run));
    await this.options.store.finishRun(run.registry, run.runId, { ...finish, errorMessage: finish.errorMessage ? masker.mask(finish.errorMessage) : null });
    this.options.logs.notify(run.registry, run.runId);
    await held.releaseAll((error) => this.options.onCleanupError?.(error, run));
    return finish;
  }

  #failureOf(error: unknown, signal: AbortSignal): { status: RunStatus; errorMessage: string } {
    const stop = error instanceof RunStop ? error : runStopOf(signal);
    if (stop) {
      const status: RunStatus = stop.kind === 'canceled' ? 'Canceled' : stop.kind === 'timeout' ? 'Timeout' : 'Error';
      return { status, errorMessage: stop.message };
    }
    if (error instanceof RunFailure) return { status: 'Failed', errorMessage: error.message };
    return { status: 'Error', errorMessage: messageOf(error) };
  }

  /** Resolves to the failure message of a failed run, undefined when it succeeded. */
  async #run(run: RunRecord, request: RunRequest, state: RunState): Promise<string | undefined> {
    const { line, masker, held, signal } = state;
    const values: Record<string, string> = {};
    for (const value of request.values) {
      values[value.name] = value.isSecret ? await revealSealed(this.options.vault, value.value) : value.value;
      if (value.isSecret) masker.add(values[value.name]!);
    }
    const accessToken = request.sourceAccessToken === null ? undefined : await revealSealed(this.options.vault, request.sourceAccessToken);
    if (accessToken !== undefined) masker.add(accessToken);

    const temp = await mkdtemp(path.join(this.options.workRoot, `${run.registry}-${run.runId}-`));
    held.add(() => rm(temp, { recursive: true, force: true }));
    if (request.source?.startsWith('upload:')) {
      const location = request.source;
      held.add(() => this.options.uploads.remove(location));
    }

    const context = await this.#fetchContext(request, accessToken, path.join(temp, 'context'), line, signal);
    const loginServer = this.options.installation.loginServer(run.registry);
    // A commit-triggered run fetches its commit by SHA; the branch it was pushed to comes with the request.
    const branch = request.sourceBranch ?? context.branch;
    const variables = runVariables({
      runId: run.runId,
      registryName: run.registry,
      loginServer,
      startedAt: new Date(),
      hostPlatform: this.options.executor.hostPlatform,
      ...(context.commit !== undefined ? { commit: context.commit } : {}),
      ...(branch !== undefined ? { branch } : {}),
      taskName: request.taskName,
      triggeredBy: run.trigger,
      sharedVolume: `berth_vol_${run.registry}_${run.runId}`,
    });
    const taskFile = await this.#taskFile(request, context, variables, values, masker);
    for (const warning of taskFile.warnings) line(`Warning: line ${warning.line}: ${warning.message}`);
    this.#checkSignal(signal);

    const credentials = await this.#credentials(run, request, loginServer, masker, held);
    const volumes = await writeVolumes(taskFile, path.join(temp, 'volumes'), masker);
    const runCredential = credentials[0]!;

    const session = await this.options.executor.open({
      key: `${run.registry}-${run.runId}`,
      contextDir: context.dir,
      registries: await this.options.installation.endpoints(),
      credentials,
      platform: run.platform,
    });
    held.add(() => session.close());
    this.#checkSignal(signal);

    const environment = this.#stepEnvironment(run, request, taskFile, session, state, volumes, {
      server: this.options.installation.serverUrl(),
      username: runCredential.username,
      password: runCredential.password,
      registry: run.registry,
      home: path.join(temp, 'home'),
      registryOf: (server) => this.options.installation.registryOf(server),
      credentials: credentials.slice(1),
      ...(this.options.installation.caFile !== undefined ? { caFile: this.options.installation.caFile } : {}),
    });
    await mkdir(path.join(temp, 'home'), { recursive: true });
    const result = await runStepGraph(
      taskFile.steps,
      {
        run: async (step) => {
          const outcome = await executeStep(step, environment, signal);
          if (outcome.ok && step.kind === 'build') await this.#built(run, step.build, context, line);
          return outcome;
        },
        skipped: (step, cause) => line(`Step ID: ${step.id} skipped: step ${cause} did not succeed`),
      },
      signal,
    );
    this.#checkSignal(signal);
    return result.failure?.message;
  }

  /** Hands a task run's successful build to `onBuilt`; a failure there is logged, never the run's. */
  async #built(run: RunRecord, build: BuildSpec, context: FetchedContext, line: (text: string) => void): Promise<void> {
    const onBuilt = this.options.onBuilt;
    if (!onBuilt || run.task === null || context.dir === undefined) return;
    try {
      const dockerfileText = await readFile(path.resolve(context.dir, build.context, build.dockerfile || 'Dockerfile'), 'utf8');
      await onBuilt(run, { dockerfileText, buildArgs: build.buildArgs, ...(build.target !== undefined ? { target: build.target } : {}) });
    } catch (error) {
      line(`Warning: the base images of this build were not recorded: ${messageOf(error)}`);
    }
  }

  #checkSignal(signal: AbortSignal): void {
    if (signal.aborted) throw signal.reason;
  }

  async #fetchContext(request: RunRequest, accessToken: string | undefined, into: string, line: (text: string) => void, signal: AbortSignal): Promise<FetchedContext> {
    if (request.source === null) return { dir: undefined };
    line(request.source.startsWith('upload:') ? 'Extracting the uploaded source...' : 'Fetching the source...');
    await mkdir(into, { recursive: true });
    try {
      const context = await this.options.contexts.fetch({ location: request.source, ...(accessToken !== undefined ? { accessToken } : {}), into, signal });
      const branch = request.sourceBranch ?? context.branch;
      if (context.commit) line(`Source commit: ${context.commit}${branch ? ` (branch ${branch})` : ''}`);
      return context;
    } catch (error) {
      if (error instanceof ContextError) throw new RunFailure(error.message);
      throw error;
    }
  }

  async #taskFile(request: RunRequest, context: FetchedContext, run: RunVariables, values: Record<string, string>, masker: SecretMasker): Promise<TaskFile> {
    const loader = this.options.taskFiles;
    const work = request.work;
    if (work.kind === 'build') {
      const input: RenderInput = { run, values, secrets: {} };
      const buildArgs: Array<[string, string]> = work.buildArgs.map((arg) => {
        const value = arg.isSecret ? this.options.vault.unseal(arg.value) : arg.value;
        if (arg.isSecret) masker.add(value);
        return [arg.name, value];
      });
      const imageNames = work.imageNames.map((name) => {
        try {
          return loader.render(name, input);
        } catch (error) {
          throw new RunFailure(`image name ${name}: ${messageOf(error)}`);
        }
      });
      return quickBuildTaskFile({
        dockerfile: work.dockerfile,
        imageNames,
        buildArgs,
        ...(work.target !== undefined ? { target: work.target } : {}),
        noPush: work.noPush,
        noCache: work.noCache,
        loginServer: run.Registry,
        timeoutSeconds: request.timeoutSeconds,
      });
    }
    let text: string;
    let fileName: string;
    if (work.kind === 'encoded') {
      text = work.content;
      fileName = 'acr-task.yaml';
    } else {
      text = await readTaskFile(context, work.path);
      fileName = work.path;
    }
    const secrets: Record<string, string> = {};
    try {
      for (const reference of loader.secretReferences(text, { run, values }, { fileName })) {
        secrets[reference.id] = await this.options.vault.resolve(reference.keyvault);
        masker.add(secrets[reference.id]!);
      }
      return loader.load(text, { run, values, secrets }, { fileName });
    } catch (error) {
      if (error instanceof SecretNotFoundError) throw new RunFailure(`${fileName}: ${error.message}`);
      throw new RunFailure(messageOf(error));
    }
  }

  async #credentials(run: RunRecord, request: RunRequest, loginServer: string, masker: SecretMasker, held: Held): Promise<RegistryCredential[]> {
    const lifetimeSeconds = request.timeoutSeconds + 600;
    const issue = async (server: string, loginRegistry?: string): Promise<RegistryCredential> => {
      const credential = await this.options.runCredentials({
        registry: run.registry,
        runId: run.runId,
        identity: request.identity,
        loginServer: server,
        ...(loginRegistry !== undefined && loginRegistry !== run.registry ? { loginRegistry } : {}),
        lifetimeSeconds,
      });
      held.add(() => credential.revoke());
      masker.add(credential.password);
      return { loginServer: server, username: credential.username, password: credential.password };
    };
    const credentials = [await issue(loginServer)];
    for (const credential of request.credentials) {
      if (credential.useIdentity) {
        const registry = await this.options.installation.registryOf(credential.loginServer);
        if (registry === undefined) {
          throw new RunFailure(`the credential for ${credential.loginServer} uses the task identity, which works only for registries of this installation`);
        }
        credentials.push(await issue(credential.loginServer, registry));
        continue;
      }
      try {
        const username = credential.username === null ? '' : await this.#clearValue(credential.username, false);
        const password = credential.password === null ? '' : await this.#clearValue(credential.password, true);
        masker.add(password);
        if (this.options.vault.isReference(credential.username ?? '')) masker.add(username);
        credentials.push({ loginServer: credential.loginServer, username, password });
      } catch (error) {
        throw new RunFailure(`the credential for ${credential.loginServer}: ${messageOf(error)}`);
      }
    }
    return credentials;
  }

  /** A credential field: a secret URI (resolved), a sealed value (passwords), or clear text (user names). */
  async #clearValue(value: string, sealed: boolean): Promise<string> {
    if (this.options.vault.isReference(value)) return this.options.vault.resolve(value);
    return sealed ? this.options.vault.unseal(value) : value;
  }

  #stepEnvironment(
    run: RunRecord,
    request: RunRequest,
    taskFile: TaskFile,
    session: ExecutorSession,
    state: RunState,
    volumes: Map<string, string>,
    hostContext: StepEnvironment['hostContext'],
  ): StepEnvironment {
    const { log, masker, line, outputImages } = state;
    return {
      session,
      taskFile,
      platform: run.platform,
      detachedOwner: request.detachedOwner,
      log: line,
      output(): StepOutputStream {
        const stream = masker.stream();
        return {
          write: (chunk) => log.write(stream.write(chunk)),
          end: () => log.write(stream.end()),
        };
      },
      volumePath(name) {
        const folder = volumes.get(name);
        if (folder === undefined) throw new RunFailure(`volume ${name} is not defined in the task file`);
        return folder;
      },
      pushed(image, digest) {
        const parts = parseImageName(image);
        outputImages.push({ registry: parts.registry ?? 'docker.io', repository: parts.repository, tag: parts.tag, digest });
      },
      host: this.#host,
      hostContext,
    };
  }
}

interface RunState {
  line(text: string): void;
  log: RunLogWriter;
  masker: SecretMasker;
  held: Held;
  outputImages: OutputImage[];
  signal: AbortSignal;
}

function summary(runId: string, status: RunStatus, seconds: number, error: string | undefined): string {
  switch (status) {
    case 'Succeeded':
      return `Run ID: ${runId} was successful after ${seconds}s`;
    case 'Canceled':
      return `Run ID: ${runId} was canceled after ${seconds}s`;
    case 'Timeout':
      return `Run ID: ${runId} timed out after ${seconds}s`;
    default:
      return `Run ID: ${runId} failed after ${seconds}s. Error: ${error ?? 'unknown error'}`;
  }
}

/** The task file at `file` inside the fetched context (never outside it). */
async function readTaskFile(context: FetchedContext, file: string): Promise<string> {
  if (context.dir === undefined) throw new RunFailure(`task file ${file}: the run has no source context to read it from`);
  const root = path.resolve(context.dir);
  const target = path.resolve(root, file);
  if (target !== root && !target.startsWith(`${root}${path.sep}`)) throw new RunFailure(`task file ${file} lies outside the source context`);
  try {
    return await readFile(target, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new RunFailure(code === 'ENOENT' ? `task file ${file} was not found in the source context` : `task file ${file}: ${messageOf(error)}`);
  }
}

/** Writes the files of the task file's secret volumes; returns volume name → host folder. */
async function writeVolumes(taskFile: TaskFile, root: string, masker: SecretMasker): Promise<Map<string, string>> {
  const folders = new Map<string, string>();
  for (const volume of taskFile.volumes) {
    const folder = path.join(root, volume.name);
    await mkdir(folder, { recursive: true });
    for (const [name, base64] of Object.entries(volume.secret)) {
      const content = Buffer.from(base64, 'base64');
      masker.add(content.toString('utf8').trim());
      await writeFile(path.join(folder, path.basename(name)), content, { mode: 0o600 });
    }
    folders.set(volume.name, folder);
  }
  return folders;
}
