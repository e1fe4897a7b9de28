import { createHash, randomUUID } from 'node:crypto';
import { chmod, cp, mkdir, readdir, readFile, realpath, rm, stat } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join, posix, resolve, sep } from 'node:path';
import type { Logger } from 'pino';
import { ContainerStore, type StoreAccess, type ToolPaths } from './container-store.ts';
import {
  StepError,
  type BuildRequest,
  type ContainerRequest,
  type ContainerResult,
  type Executor,
  type ExecutorSession,
  type PushResult,
  type RegistryEndpoint,
  type SessionSpec,
  type StepOutput,
} from './executor.ts';
import { hostPlatform, normalizePlatform, runsOnTargetPlatform } from './platform.ts';
import { removeTree } from './remove-tree.ts';
import { failureReason, type ToolResult } from './spawn-tool.ts';

export interface BuildahPodmanExecutorOptions {
  /** Directory of the executor's state, e.g. `<data>/tasks`: `runs/<key>` per session, `detached/<owner>` for containers that outlive runs. */
  root: string;
  buildah?: string;
  podman?: string;
  logger?: Logger;
}

/** Where step containers reach the host's loopback (slirp4netns with `allow_host_loopback`). */
const SLIRP_HOST_LOOPBACK = '10.0.2.2';
const WORKSPACE = '/workspace';
const SESSION_KEY = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/**
 * The executor on Debian's buildah (builds, chroot isolation) and podman (containers, each in its
 * own slirp4netns network namespace), one private vfs storage per session shared by both tools.
 */
export class BuildahPodmanExecutor implements Executor {
  readonly hostPlatform = hostPlatform();
  private readonly tools: ToolPaths;
  private readonly ownerQueues = new Map<string, Promise<unknown>>();

  constructor(private readonly options: BuildahPodmanExecutorOptions) {
    this.tools = { buildah: options.buildah ?? 'buildah', podman: options.podman ?? 'podman' };
  }

  async open(spec: SessionSpec): Promise<ExecutorSession> {
    if (!SESSION_KEY.test(spec.key)) throw new Error(`invalid session key ${JSON.stringify(spec.key)}`);
    await mkdir(this.runsDir, { recursive: true, mode: 0o700 });
    const dir = join(this.runsDir, spec.key);
    // mkdir without `recursive` fails when the directory exists: one session per key.
    await mkdir(dir, { mode: 0o700 });
    try {
      const store = new ContainerStore(dir, this.tools);
      await store.create(spec);
      const workDir = join(dir, 'work');
      await mkdir(workDir);
      // Steps may run as any user and share the volume; the session directory itself stays private.
      await chmod(workDir, 0o777);
      if (spec.contextDir !== undefined) {
        await cp(spec.contextDir, workDir, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
      }
      return new BuildahPodmanSession(this, spec, store, workDir);
    } catch (error) {
      await new ContainerStore(dir, this.tools).remove().catch(() => removeTree(dir));
      throw error;
    }
  }

  stopDetached(owner: string): Promise<number> {
    return this.forOwner(owner, () => this.removeDetached(owner));
  }

  async cleanUp(): Promise<void> {
    const entries = await readdir(this.runsDir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const dir = join(this.runsDir, entry.name);
      if (entry.isDirectory() && (await exists(join(dir, 'storage.conf')))) await new ContainerStore(dir, this.tools).remove();
      else await removeTree(dir);
      this.options.logger?.info({ session: entry.name }, 'removed the leftovers of an interrupted task run');
    }
  }

  /** Starts a detached container in the owner's own storage, replacing the owner's previous ones. */
  startOutliving(owner: string, from: ContainerStore, spec: SessionSpec, workDir: string, request: ContainerRequest, containerName: string): Promise<ToolResult> {
    return this.forOwner(owner, async () => {
      await this.removeDetached(owner);
      const dir = this.detachedDir(owner);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const store = new ContainerStore(dir, this.tools);
      await store.create({ registries: [], credentials: [] });
      const copied = await from.podman(['push', '--quiet', request.image, store.storageReference(request.image)]);
      if (copied.code !== 0) {
        await store.remove();
        return copied;
      }
      // The run's working directory goes away with the run: the container keeps a copy.
      const workspace = join(dir, 'workspace');
      await cp(workDir, workspace, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
      await chmod(workspace, 0o777);
      const started = await store.podman(['run', '--detach', ...containerArgs(request, containerName, workspace, spec.registries)]);
      if (started.code !== 0) await store.remove();
      return started;
    });
  }

  private async removeDetached(owner: string): Promise<number> {
    const dir = this.detachedDir(owner);
    if (!(await exists(dir))) return 0;
    if (await exists(join(dir, 'storage.conf'))) return new ContainerStore(dir, this.tools).remove();
    await removeTree(dir);
    return 0;
  }

  /** Starting and stopping an owner's detached containers happen one at a time. */
  private forOwner<T>(owner: string, action: () => Promise<T>): Promise<T> {
    const previous = this.ownerQueues.get(owner) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(action);
    this.ownerQueues.set(owner, next);
    void next.finally(() => {
      if (this.ownerQueues.get(owner) === next) this.ownerQueues.delete(owner);
    }).catch(() => undefined);
    return next;
  }

  private get runsDir(): string {
    return join(this.options.root, 'runs');
  }

  private detachedDir(owner: string): string {
    return join(this.options.root, 'detached', createHash('sha256').update(owner).digest('hex').slice(0, 16));
  }
}

class BuildahPodmanSession implements ExecutorSession {
  private closing: Promise<void> | undefined;
  /**
   * Tags of one image written by parallel steps (the seed's two `docker tag` steps) race inside
   * containers-storage and one name can be lost, so tags are applied one at a time.
   */
  private tagging: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly executor: BuildahPodmanExecutor,
    private readonly spec: SessionSpec,
    private readonly store: ContainerStore,
    readonly workDir: string,
  ) {}

  async build(request: BuildRequest, output: StepOutput, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const contextDir = await this.insideWorkDir(request.context, 'build context');
    const dockerfile = await this.insideWorkDir(resolve(contextDir, request.dockerfile || 'Dockerfile'), 'Dockerfile');
    const host = this.executor.hostPlatform;
    const platform = request.platform ?? this.spec.platform;
    const foreign = platform !== undefined && normalizePlatform(platform) !== normalizePlatform(host);
    if (foreign) {
      const text = await readFile(dockerfile, 'utf8').catch(() => {
        throw new StepError(`cannot read the Dockerfile ${request.dockerfile}`);
      });
      if (runsOnTargetPlatform(text, request.target, host)) {
        throw new StepError(`cannot run RUN steps for ${platform} on this ${host} host (no emulation here); build for ${host} or drop the RUN steps`);
      }
    }
    const args = [
      'bud',
      '--isolation',
      'chroot',
      '--format',
      'docker',
      '--file',
      dockerfile,
      ...request.tags.flatMap((tag) => ['--tag', tag]),
      ...request.buildArgs.flatMap(([name, value]) => ['--build-arg', `${name}=${value}`]),
      ...request.labels.flatMap(([name, value]) => ['--label', `${name}=${value}`]),
      ...(request.target === undefined ? [] : ['--target', request.target]),
      // Only a foreign platform is named: buildah then defines TARGETOS and friends and warns in
      // every build log when the Dockerfile does not use them.
      ...(foreign ? ['--platform', platform] : []),
      ...(request.noCache ? ['--no-cache'] : []),
      `--pull=${request.pull ? 'always' : 'false'}`,
      ...this.spec.registries.flatMap((endpoint) => addHost(endpoint, 'build')),
      ...this.certDirArgs(),
      contextDir,
    ];
    // A build step's env is the builder's environment (as for ACR's docker build), not the image's.
    const result = await this.store.buildah(args, { cwd: this.workDir, output, signal, env: envObject(request.env) });
    if (result.aborted) signal.throwIfAborted();
    if (result.code !== 0) throw new StepError(`build failed with exit code ${result.code}: ${failureReason(result)}`, result.code);
  }

  async run(request: ContainerRequest, output: StepOutput, signal: AbortSignal): Promise<ContainerResult> {
    signal.throwIfAborted();
    const name = `${this.spec.key}-${request.name.replace(/[^A-Za-z0-9_.-]/g, '-')}`;
    await this.ensureImage(request.image, request.pull, output, signal);

    if (request.outlivesRun !== undefined) {
      const started = await this.executor.startOutliving(request.outlivesRun.owner, this.store, this.spec, this.workDir, request, name);
      return this.started(started, name, output);
    }
    const common = containerArgs(request, name, this.workDir, this.spec.registries);
    if (request.detach) {
      return this.started(await this.store.podman(['run', '--detach', ...common], { signal }), name, output);
    }

    // Killing the podman client would leave the container running under conmon: remove it first.
    const client = new AbortController();
    const onAbort = () => void this.store.podman(['rm', '--force', '--time', '0', name]).finally(() => client.abort());
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const result = await this.store.podman(['run', '--rm', ...common], { output, signal: client.signal });
      if (signal.aborted) signal.throwIfAborted();
      if (result.code === 125 && /^Error: /m.test(result.stderr)) {
        throw new StepError(`cannot start container ${request.name}: ${failureReason(result)}`, result.code);
      }
      return { exitCode: result.code };
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  async pull(image: string, output: StepOutput, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const platform = this.spec.platform === undefined ? [] : ['--platform', this.spec.platform];
    const result = await this.store.podman(['pull', ...platform, ...this.certDirArgs(), image], { output, signal });
    if (result.aborted) signal.throwIfAborted();
    if (result.code !== 0) throw new StepError(`pull of ${image} failed: ${failureReason(result)}`, result.code);
  }

  async tag(source: string, target: string): Promise<void> {
    const tagged = this.tagging.then(() => this.store.podman(['tag', source, target]));
    this.tagging = tagged.catch(() => undefined);
    const result = await tagged;
    if (result.code !== 0) throw new StepError(`tag ${source} as ${target} failed: ${failureReason(result)}`, result.code);
  }

  async push(image: string, output: StepOutput, signal: AbortSignal): Promise<PushResult> {
    signal.throwIfAborted();
    const digestFile = join(this.store.dir, 'tmp', `digest-${randomUUID()}`);
    try {
      const result = await this.store.podman(['push', '--digestfile', digestFile, ...this.certDirArgs(), image], { output, signal });
      if (result.aborted) signal.throwIfAborted();
      if (result.code !== 0) throw new StepError(`push of ${image} failed: ${failureReason(result)}`, result.code);
      return { digest: (await readFile(digestFile, 'utf8')).trim() };
    } finally {
      await rm(digestFile, { force: true });
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.store.remove();
    })();
    return this.closing;
  }

  private started(result: ToolResult, name: string, output: StepOutput): ContainerResult {
    if (result.code !== 0) throw new StepError(`cannot start container ${name}: ${failureReason(result)}`, result.code);
    output.write(`started container ${name} (${result.stdout.trim().slice(0, 12)})\n`);
    return { exitCode: 0 };
  }

  /** Uses the local image unless a pull is asked for or there is none yet. */
  private async ensureImage(image: string, pull: boolean, output: StepOutput, signal: AbortSignal): Promise<void> {
    if (!pull && (await this.store.podman(['image', 'exists', image])).code === 0) return;
    await this.pull(image, output, signal);
  }

  /** A path of the working directory (symbolic links resolved); anything outside it is refused. */
  private async insideWorkDir(path: string, what: string): Promise<string> {
    const root = await realpath(this.workDir);
    const real = await realpath(resolve(this.workDir, path)).catch(() => {
      throw new StepError(`${what} ${path} does not exist`);
    });
    if (real !== root && !real.startsWith(`${root}${sep}`)) throw new StepError(`${what} ${path} is outside the run's working directory`);
    return real;
  }

  private certDirArgs(): string[] {
    return this.spec.registries.some((endpoint) => endpoint.caFile !== undefined) ? ['--cert-dir', this.store.certDir] : [];
  }
}

/** `podman run` options and command for a step container whose `/workspace` is `workspace`. */
function containerArgs(request: ContainerRequest, name: string, workspace: string, registries: RegistryEndpoint[]): string[] {
  const workingDirectory = posix.resolve(WORKSPACE, request.workingDirectory ?? '.');
  return [
    '--pull',
    'never',
    '--name',
    name,
    '--hostname',
    hostName(request.name),
    '--network',
    'slirp4netns:allow_host_loopback=true',
    ...registries.flatMap((endpoint) => addHost(endpoint, 'container')),
    '--volume',
    `${workspace}:${WORKSPACE}`,
    '--workdir',
    workingDirectory,
    // `--env NAME` alone would pass the server's own variable into the step.
    ...request.env.flatMap((entry) => ['--env', entry.includes('=') ? entry : `${entry}=`]),
    ...(request.entryPoint === undefined ? [] : ['--entrypoint', request.entryPoint]),
    ...(request.user === undefined ? [] : ['--user', request.user]),
    ...request.ports.flatMap((port) => ['--publish', port]),
    ...(request.privileged ? ['--privileged'] : []),
    ...(request.cpus === undefined ? [] : ['--cpus', request.cpus]),
    ...request.volumes.flatMap(({ hostPath, containerPath, readOnly }) => ['--volume', `${hostPath}:${containerPath}${readOnly ? ':ro' : ''}`]),
    request.image,
    ...request.args,
  ];
}

/**
 * `--add-host` for a registry's name. Step containers reach the host's loopback through slirp4netns
 * (same port as on the host); builds use the host's network, where loopback is itself.
 */
function addHost(endpoint: RegistryEndpoint, where: 'build' | 'container'): string[] {
  const host = registryHostName(endpoint.loginServer);
  if (host === 'localhost' || isIP(host) !== 0) return [];
  const address = endpoint.hostAddress ?? '127.0.0.1';
  const loopback = address === 'localhost' || address === '::1' || address.startsWith('127.');
  const target = where === 'container' && loopback ? SLIRP_HOST_LOOPBACK : address === 'localhost' ? '127.0.0.1' : address;
  return ['--add-host', `${host}:${target}`];
}

function registryHostName(loginServer: string): string {
  const bracketed = /^\[([^\]]+)\]/.exec(loginServer);
  if (bracketed) return bracketed[1]!;
  return loginServer.split(':')[0]!.toLowerCase();
}

function hostName(stepName: string): string {
  const name = stepName.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);
  return name === '' ? 'step' : name;
}

function envObject(entries: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of entries) {
    const equals = entry.indexOf('=');
    if (equals > 0) env[entry.slice(0, equals)] = entry.slice(equals + 1);
  }
  return env;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
