import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, removeTempDir, run, type CommandResult, type RunOptions } from './exec.ts';

/** A private podman set-up (CLIENTS.md §2): its own storage, engine dirs, registries and auth file. */
export interface PodmanEnv {
  readonly dir: string;
  /** CONTAINERS_CONF, CONTAINERS_STORAGE_CONF, CONTAINERS_REGISTRIES_CONF, REGISTRY_AUTH_FILE. */
  readonly env: Record<string, string>;
  podman(args: readonly string[], options?: RunOptions): Promise<CommandResult>;
  cleanup(): Promise<void>;
}

/** `insecureRegistries` are `host:port` entries that podman should reach over plain http. */
export async function createPodmanEnv(insecureRegistries: readonly string[] = []): Promise<PodmanEnv> {
  const dir = await makeTempDir('berth-podman');
  const path = (name: string) => join(dir, name);
  for (const sub of ['root', 'run', 'tmp', 'volumes', 'networks']) await mkdir(path(sub));

  // runc and cgroupfs because crun refuses this machine's hybrid cgroups; ulimits below the hard
  // limits because CAP_SYS_RESOURCE is missing; every engine directory private to this set-up
  // (static_dir defaults to <graphroot>/libpod; setting it explicitly makes podman 4.3 wait 20 s
  // for every container exit).
  await writeFile(
    path('containers.conf'),
    [
      '[containers]',
      'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]',
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `events_logfile_path = "${path('events.log')}"`,
      'runtime = "runc"',
      `tmp_dir = "${path('tmp')}"`,
      `volume_path = "${path('volumes')}"`,
      '[network]',
      `network_config_dir = "${path('networks')}"`,
      '',
    ].join('\n'),
  );
  await writeFile(
    path('storage.conf'),
    ['[storage]', 'driver = "overlay"', `graphroot = "${path('root')}"`, `runroot = "${path('run')}"`, ''].join('\n'),
  );
  await writeFile(
    path('registries.conf'),
    [
      'unqualified-search-registries = []',
      ...insecureRegistries.flatMap((location) => ['[[registry]]', `location = "${location}"`, 'insecure = true']),
      '',
    ].join('\n'),
  );
  await writeFile(path('auth.json'), '{}\n');

  const env = {
    CONTAINERS_CONF: path('containers.conf'),
    CONTAINERS_STORAGE_CONF: path('storage.conf'),
    CONTAINERS_REGISTRIES_CONF: path('registries.conf'),
    REGISTRY_AUTH_FILE: path('auth.json'),
    TMPDIR: path('tmp'),
  };
  return {
    dir,
    env,
    podman: (args, options = {}) => run('podman', args, { ...options, env: { ...env, ...options.env } }),
    cleanup: () => removeTempDir(dir),
  };
}
