/**
 * The task engine for the composition root: the secret vault, context fetching, the executor,
 * the run engine, the worker loop, the task service and the task triggers (commit polling,
 * base-image updates, timers), wired on the metadata store, the token issuer and the registry
 * directory. Files live under `<data>/tasks/`.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import type { IdentityService } from '../auth/identity-service.ts';
import { issueRunCredential, type RunCredentialIssuer as RunCredentialTokens } from '../auth/run-credentials.ts';
import { deriveKey, loadInstallationSecret } from '../auth/secrets.ts';
import type { MetaStore } from '../meta/meta-store.ts';
import { installationRegistryResolver } from '../import/installation-hosts.ts';
import type { RegistryDirectory } from '../services/registry-directory.ts';
import { DefaultContextFetcher } from './context/fetcher.ts';
import { UploadedSourceStore } from './context/uploads.ts';
import type { Executor, RegistryEndpoint } from './executor/executor.ts';
import { BuildahPodmanExecutor } from './executor/buildah-podman.ts';
import { StoredSecretVault } from './secrets/vault.ts';
import { RunEngine } from './engine/run-engine.ts';
import type { Installation } from './engine/installation.ts';
import { taskFileLoader } from './engine/task-file-loader.ts';
import { RunLogs } from './run-log.ts';
import { RunWorker, workerIdFor } from './worker.ts';
import { DEFAULT_UPLOAD_LIMIT_BYTES, StoredTaskService } from './stored-task-service.ts';
import { TaskRunQueue } from './triggered-run-queue.ts';
import { BaseImageDigests } from './triggers/base-image-digests.ts';
import { BaseImageTrigger, taskCredentialResolver } from './triggers/base-image-trigger.ts';
import { GitCommitPoller } from './triggers/git-poller.ts';
import { GitWebhookReceiver } from './triggers/git-webhook-receiver.ts';
import { TimerScheduler } from './triggers/timer-scheduler.ts';

export interface TasksOptions {
  meta: MetaStore;
  identity: IdentityService;
  /** The token issuer (`auth.tokens`): run credentials are refresh tokens of a `taskRun` principal. */
  tokens: RunCredentialTokens;
  directory: RegistryDirectory;
  /** The data directory; the engine keeps its files in `<data>/tasks/`. */
  dataDir: string;
  /** The installation secret file (`<data>/secret.key`): the vault's key is derived from it. */
  secretKeyFile: string;
  /** The `:port` of login servers once listening (`''` for 80/443). */
  portSuffix: () => string;
  /** The configured listening host (e.g. `127.0.0.1`). */
  listenHost: string;
  /** How clients reach the server: plain HTTP, a self-signed certificate (CA in `<data>/tls/ca.crt`), or an operator's certificate. */
  tls: 'none' | 'self-signed' | 'certificate';
  /** The server's base URL once listening (for `berth …` steps). */
  serverUrl: () => string;
  /** Runs executed at once on this node; default 2. */
  concurrency?: number;
  /** How often the worker looks for runs queued on other nodes and for cancellations; default 1000 ms. */
  pollMs?: number;
  /** Largest build context (uploaded, downloaded or unpacked); default 200 MiB. */
  maxContextBytes?: number;
  /** Another executor (tests); default buildah and podman. */
  executor?: Executor;
  /** Seconds between polls of a commit-triggered task's branch, unless the task sets its own; default 60. */
  gitPollSeconds?: number;
  /** How often timer triggers are checked; default 5 s. */
  timerTickSeconds?: number;
  /** How often base images in external registries are polled; default 600 s. */
  imagePollSeconds?: number;
  /** How often the events outbox is read for pushes committed on other nodes; default 1000 ms. */
  eventPollMs?: number;
  /** External registries reached over plain http besides loopback ones (`import.insecureRegistries`). */
  insecureRegistries?: readonly string[];
  logger?: Logger;
}

export interface Tasks {
  service: StoredTaskService;
  vault: StoredSecretVault;
  worker: RunWorker;
  executor: Executor;
  /** Push events of git hosts, for the webhook endpoint. */
  gitWebhooks: GitWebhookReceiver;
  /** Removes what a crash left behind, then starts the worker and the triggers (call once the server listens). */
  start(): Promise<void>;
  /** Stops the triggers, the worker (runs in progress end as Error) and the upload sweep. */
  close(): Promise<void>;
}

/** Uploaded sources that no run picked up are removed after a day. */
const UPLOAD_MAX_AGE_MS = 24 * 60 * 60 * 1000;

export async function createTasks(options: TasksOptions): Promise<Tasks> {
  const root = path.join(options.dataDir, 'tasks');
  const workRoot = path.join(root, 'work');
  // ssh git servers' host keys, trusted when first seen and checked from then on.
  const sshKnownHostsFile = path.join(root, 'ssh_known_hosts');
  await mkdir(workRoot, { recursive: true, mode: 0o700 });
  const maxContextBytes = options.maxContextBytes ?? DEFAULT_UPLOAD_LIMIT_BYTES;
  const logger = options.logger;
  const triggerLogger = logger ?? pino({ level: 'silent' });

  const store = options.meta.tasks;
  const vault = new StoredSecretVault(store, deriveKey(await loadInstallationSecret(options.secretKeyFile), 'secret vault'));
  const uploads = new UploadedSourceStore(path.join(root, 'sources'));
  const executor = options.executor ?? new BuildahPodmanExecutor({ root, ...(logger ? { logger } : {}) });
  const logs = new RunLogs(store);
  const installation = installationOf(options);

  const engine = new RunEngine({
    store,
    logs,
    executor,
    contexts: new DefaultContextFetcher({ uploads, maxContextBytes, sshKnownHostsFile }),
    uploads,
    vault,
    taskFiles: taskFileLoader,
    runCredentials: (request) => issueRunCredential(options.tokens, request),
    installation,
    workRoot,
    onCleanupError: (error, run) => logger?.error({ err: error, registry: run.registry, runId: run.runId }, 'cleaning up after a run failed'),
    // The base-image trigger is built below: it queues runs through the service, which needs the worker and this engine.
    onBuilt: (run, build): Promise<void> => baseImages.recordBuild(run, build),
  });
  const worker = new RunWorker({
    store,
    engine,
    concurrency: options.concurrency ?? 2,
    pollMs: options.pollMs ?? 1000,
    cancelPollMs: Math.min(options.pollMs ?? 1000, 1000),
    workerId: workerIdFor(options.dataDir),
    onError: (error, run) => logger?.error({ err: error, registry: run?.registry, runId: run?.runId }, 'task worker error'),
  });
  const service = new StoredTaskService({
    store,
    vault,
    identity: options.identity,
    registryExists: async (registry) => (await options.directory.get(registry)) !== undefined,
    uploads,
    logs,
    dispatch: worker,
    stopDetached: (owner) => executor.stopDetached(owner),
    hostPlatform: executor.hostPlatform,
    uploadLimitBytes: maxContextBytes,
  });

  const triggeredRuns = new TaskRunQueue(store, service);
  const baseImages: BaseImageTrigger = new BaseImageTrigger({
    events: options.meta.events,
    triggers: options.meta.triggers,
    tasks: store,
    runs: triggeredRuns,
    digests: new BaseImageDigests({ manifests: options.meta, ...(options.insecureRegistries ? { insecureRegistries: options.insecureRegistries } : {}) }),
    registryOf: (loginServer) => installation.registryOf(loginServer),
    credentialsFor: taskCredentialResolver(vault),
    logger: triggerLogger,
    pollSeconds: options.imagePollSeconds ?? 600,
    eventPollMs: options.eventPollMs ?? 1000,
  });
  const commits = new GitCommitPoller({
    sshKnownHostsFile,
    triggers: options.meta.triggers,
    runs: triggeredRuns,
    vault,
    defaultIntervalSeconds: options.gitPollSeconds ?? 60,
    logger: triggerLogger,
  });
  const timers = new TimerScheduler({ store: options.meta.triggers, runs: triggeredRuns, logger: triggerLogger, intervalMs: (options.timerTickSeconds ?? 5) * 1000 });

  let sweep: NodeJS.Timeout | undefined;
  return {
    service,
    vault,
    worker,
    executor,
    gitWebhooks: new GitWebhookReceiver({ tasks: store, vault, triggers: options.meta.triggers, runs: triggeredRuns }),
    async start() {
      await executor.cleanUp();
      await worker.start();
      baseImages.start();
      commits.start();
      timers.start();
      const sweepUploads = () =>
        void uploads.sweep(UPLOAD_MAX_AGE_MS).catch((error: unknown) => logger?.error({ err: error }, 'sweeping uploaded sources failed'));
      sweepUploads();
      sweep = setInterval(sweepUploads, 60 * 60 * 1000);
      sweep.unref();
    },
    async close() {
      clearInterval(sweep);
      await Promise.all([timers.stop(), commits.stop(), baseImages.stop()]);
      await worker.stop();
    },
  };
}

/** This installation's registries as steps reach them. */
function installationOf(options: TasksOptions): Installation {
  const hostAddress = options.listenHost === '0.0.0.0' || options.listenHost === '::' || options.listenHost === '' ? '127.0.0.1' : options.listenHost;
  const caFile = options.tls === 'self-signed' ? path.join(options.dataDir, 'tls', 'ca.crt') : undefined;
  const endpoint = (host: string): RegistryEndpoint => ({
    loginServer: `${host}${options.portSuffix()}`,
    insecure: options.tls === 'none',
    ...(caFile !== undefined ? { caFile } : {}),
    hostAddress,
  });
  const resolve = installationRegistryResolver(options.directory, options.portSuffix, options.listenHost);
  return {
    loginServer: (registry) => `${options.directory.loginServer(registry)}${options.portSuffix()}`,
    async endpoints() {
      const hosts = new Set((await options.directory.list()).map((registry) => options.directory.loginServer(registry.name)));
      // The default registry also answers the bare host names.
      for (const alias of ['localhost', hostAddress]) hosts.add(alias);
      return [...hosts].map(endpoint);
    },
    registryOf: (loginServer) => resolve(loginServer),
    serverUrl: options.serverUrl,
    caFile,
  };
}
