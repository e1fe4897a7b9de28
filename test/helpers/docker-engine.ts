import { spawn } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { killOnExit, makeTempDir, removeTempDir, run, type CommandResult, type RunOptions } from './exec.ts';

const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;

/** A private dockerd (own data-root, exec-root, socket and pidfile) and a CLI bound to it. */
export interface DockerEngine {
  /** `unix://<dir>/docker.sock` */
  readonly dockerHost: string;
  /** DOCKER_HOST and a private DOCKER_CONFIG for any docker CLI run. */
  readonly env: Record<string, string>;
  readonly logFile: string;
  /** Runs the `docker` CLI against this engine. */
  docker(args: readonly string[], options?: RunOptions): Promise<CommandResult>;
  stop(): Promise<void>;
}

export interface StartDockerEngineOptions {
  storageDriver?: 'overlay2' | 'vfs';
}

/**
 * Starts dockerd as CLIENTS.md §1 describes: no iptables, no bridge (containers use
 * `--network none|host`); 127.0.0.0/8 registries are plain-http-trusted by default.
 * Throws with dockerd's log when it does not come up.
 */
export async function startDockerEngine(options: StartDockerEngineOptions = {}): Promise<DockerEngine> {
  const dir = await makeTempDir('berth-dockerd');
  const socket = join(dir, 'docker.sock');
  const pidFile = join(dir, 'dockerd.pid');
  const execRoot = join(dir, 'exec');
  const logFile = join(dir, 'dockerd.log');
  const dockerHost = `unix://${socket}`;
  const env = { DOCKER_HOST: dockerHost, DOCKER_CONFIG: join(dir, 'cli-config') };

  const log = await open(logFile, 'a');
  const daemon = spawn(
    'dockerd',
    [
      '--data-root', join(dir, 'data'),
      '--exec-root', execRoot,
      '--pidfile', pidFile,
      '-H', dockerHost,
      '--storage-driver', options.storageDriver ?? 'overlay2',
      '--iptables=false',
      '--ip6tables=false',
      '--bridge=none',
    ],
    { stdio: ['ignore', log.fd, log.fd] },
  );
  await log.close();
  // A TERM at exit lets dockerd stop its containerd too; nothing can wait for it then.
  killOnExit(daemon, 'SIGTERM');
  let exitReason: string | undefined;
  daemon.once('exit', (code, signal) => (exitReason = `dockerd exited with ${code ?? signal}`));
  daemon.once('error', (error) => (exitReason = `dockerd failed to start: ${error.message}`));

  const docker = (args: readonly string[], runOptions: RunOptions = {}) =>
    run('docker', args, { ...runOptions, env: { ...env, ...runOptions.env } });

  const stop = async () => {
    if (daemon.exitCode === null && daemon.signalCode === null) {
      const exited = new Promise<void>((resolveExit) => daemon.once('exit', () => resolveExit()));
      daemon.kill('SIGTERM');
      const killer = setTimeout(() => daemon.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(killer);
    }
    // dockerd leaves its default network namespace bind-mounted; removeTempDir unmounts it and
    // anything else left below the directory.
    await removeTempDir(dir);
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const version = await docker(['version', '--format', '{{.Server.Version}}'], {
      allowFailure: true,
      timeoutMs: 10_000,
    });
    if (version.code === 0) break;
    if (exitReason !== undefined || Date.now() > deadline) {
      const output = await readFile(logFile, 'utf8').catch(() => '');
      await stop();
      throw new Error(
        `${exitReason ?? `dockerd not ready within ${READY_TIMEOUT_MS} ms`}\n` +
          `--- docker version ---\n${version.stderr}\n--- dockerd log ---\n${output.slice(-8_000)}`,
      );
    }
    await sleep(200);
  }
  return { dockerHost, env, logFile, docker, stop };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
