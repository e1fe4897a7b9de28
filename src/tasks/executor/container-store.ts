import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RegistryCredential, RegistryEndpoint } from './executor.ts';
import { settleProcessesUsing } from './processes.ts';
import { removeTree } from './remove-tree.ts';
import { runTool, type ToolOptions, type ToolResult } from './spawn-tool.ts';

export interface ToolPaths {
  buildah: string;
  podman: string;
}

/** What a store's pulls and pushes may reach, and with which credentials. */
export interface StoreAccess {
  registries: RegistryEndpoint[];
  credentials: RegistryCredential[];
}

/** Housekeeping commands (rm, ps, tag, inspect) are quick; anything slower is stuck. */
const HOUSEKEEPING_TIMEOUT_MS = 60_000;

/**
 * A private containers-storage with its own engine configuration, shared by buildah and podman
 * (same graph root, run root and driver), so an image built by buildah runs under podman
 * without a copy. Nothing in it touches the host's default storage or configuration.
 */
export class ContainerStore {
  readonly graphRoot: string;
  readonly runRoot: string;
  /** Per-store CA certificates (`--cert-dir`), present only when an endpoint has a CA file. */
  readonly certDir: string;
  /**
   * podman's engine tmp_dir holds the unix sockets of rootlessport (the port forwarder of slirp4netns),
   * and the run root those of conmon: a socket path must stay under 108 bytes, so both live under a
   * short path rather than in `dir`. (With a long run root, conmon outlives every container by its
   * 20 s timeout.)
   */
  private readonly engineTmpDir: string;
  private readonly env: Record<string, string | undefined>;

  constructor(
    readonly dir: string,
    private readonly tools: ToolPaths,
  ) {
    this.graphRoot = join(dir, 'storage');
    this.certDir = join(dir, 'certs');
    this.engineTmpDir = join('/tmp', `berth-engine-${createHash('sha256').update(dir).digest('hex').slice(0, 16)}`);
    this.runRoot = join(this.engineTmpDir, 'runroot');
    this.env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LANG: 'C.UTF-8',
      CONTAINERS_CONF: join(dir, 'containers.conf'),
      CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf'),
      CONTAINERS_REGISTRIES_CONF: join(dir, 'registries.conf'),
      REGISTRY_AUTH_FILE: join(dir, 'auth.json'),
      TMPDIR: join(dir, 'tmp'),
    };
  }

  /** `containers-storage:` reference of an image in this store, for copying between stores. */
  storageReference(image: string): string {
    return `containers-storage:[vfs@${this.graphRoot}+${this.runRoot}]${image}`;
  }

  /** Writes the store's configuration; `access` decides the registries, credentials and CAs. */
  async create(access: StoreAccess): Promise<void> {
    for (const sub of ['storage', 'tmp', 'volumes', 'networks']) await mkdir(join(this.dir, sub), { recursive: true });
    const file = (name: string) => join(this.dir, name);
    await mkdir(this.engineTmpDir, { recursive: true, mode: 0o700 });
    await mkdir(this.runRoot, { recursive: true });
    await writeFile(file('containers.conf'), containersConf(this.dir, this.engineTmpDir));
    await writeFile(file('storage.conf'), storageConf(this.graphRoot, this.runRoot));
    await writeFile(file('registries.conf'), registriesConf(access.registries));
    await writeFile(file('auth.json'), authFile(access.credentials), { mode: 0o600 });
    const withCa = access.registries.filter((endpoint) => endpoint.caFile !== undefined);
    if (withCa.length > 0) {
      await mkdir(this.certDir, { recursive: true });
      // containers/image loads every *.crt of a --cert-dir as a CA, on top of the system roots.
      for (const [index, endpoint] of withCa.entries()) {
        await writeFile(join(this.certDir, `${index}-${safeFileName(endpoint.loginServer)}.crt`), await readFile(endpoint.caFile!, 'utf8'));
      }
    }
  }

  /** `options.env` adds to the tool's environment; it cannot replace the store's own variables. */
  podman(args: readonly string[], options: Partial<ToolOptions> = {}): Promise<ToolResult> {
    return this.tool(this.tools.podman, args, options);
  }

  buildah(args: readonly string[], options: Partial<ToolOptions> = {}): Promise<ToolResult> {
    return this.tool(this.tools.buildah, ['--storage-driver', 'vfs', ...args], options);
  }

  /** Removes every container of the store (podman's and buildah's working containers). */
  async removeContainers(): Promise<number> {
    const listed = await this.podman(['ps', '--all', '--quiet']);
    const count = listed.code === 0 ? listed.stdout.split('\n').filter((line) => line.trim() !== '').length : 0;
    await this.podman(['rm', '--all', '--force', '--time', '0']);
    await this.buildah(['rm', '--all']);
    return count;
  }

  /** Removes the store's containers, then the store and its engine directory; returns how many containers there were. */
  async remove(): Promise<number> {
    const count = await this.removeContainers();
    // conmon runs `podman container cleanup` when a container exits; removing the store under it
    // would leak the container's network namespace and re-create the engine directory.
    await settleProcessesUsing([this.dir, this.engineTmpDir]);
    await removeTree(this.engineTmpDir);
    await removeTree(this.dir);
    return count;
  }

  private tool(command: string, args: readonly string[], options: Partial<ToolOptions>): Promise<ToolResult> {
    const timeoutMs = options.timeoutMs ?? (options.signal === undefined ? HOUSEKEEPING_TIMEOUT_MS : undefined);
    return runTool(command, args, { ...options, timeoutMs, env: { ...options.env, ...this.env } });
  }
}

// runc and cgroupfs because crun refuses this machine's hybrid cgroups; ulimits below the hard
// limits because CAP_SYS_RESOURCE may be missing; every engine directory private to the store.
// static_dir stays at its default (<graphroot>/libpod): setting it makes podman 4.3 wait 20 s
// for every container exit. No host /etc/hosts lines leak into step containers.
function containersConf(dir: string, engineTmpDir: string): string {
  return [
    '[containers]',
    'base_hosts_file = "none"',
    'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]',
    '[engine]',
    'cgroup_manager = "cgroupfs"',
    'events_logger = "file"',
    `events_logfile_path = ${tomlString(join(dir, 'events.log'))}`,
    'runtime = "runc"',
    `tmp_dir = ${tomlString(engineTmpDir)}`,
    `volume_path = ${tomlString(join(dir, 'volumes'))}`,
    '[network]',
    `network_config_dir = ${tomlString(join(dir, 'networks'))}`,
    '',
  ].join('\n');
}

function storageConf(graphRoot: string, runRoot: string): string {
  return ['[storage]', 'driver = "vfs"', `graphroot = ${tomlString(graphRoot)}`, `runroot = ${tomlString(runRoot)}`, ''].join('\n');
}

/** Short names mean Docker Hub, as with docker; plain-HTTP endpoints are marked insecure. */
function registriesConf(registries: RegistryEndpoint[]): string {
  return [
    'unqualified-search-registries = ["docker.io"]',
    'short-name-mode = "permissive"',
    ...registries
      .filter((endpoint) => endpoint.insecure)
      .flatMap((endpoint) => ['[[registry]]', `location = ${tomlString(endpoint.loginServer)}`, 'insecure = true']),
    '',
  ].join('\n');
}

/** The first credential for a login server wins (the run's own credential comes first). */
function authFile(credentials: RegistryCredential[]): string {
  const auths: Record<string, { auth: string }> = {};
  for (const { loginServer, username, password } of credentials) {
    auths[loginServer] ??= { auth: Buffer.from(`${username}:${password}`).toString('base64') };
  }
  return `${JSON.stringify({ auths }, null, 2)}\n`;
}

function tomlString(value: string): string {
  return JSON.stringify(value);
}

function safeFileName(value: string): string {
  return value.replace(/[^A-Za-z0-9.-]/g, '_');
}
