/**
 * A git server over ssh for tests: OpenSSH's sshd on a free loopback port with its own host key and
 * one authorized client key, serving repositories in a temp folder as
 * `ssh://root@127.0.0.1:<port>/<absolute path>`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run } from './exec.ts';
import { createTestRepository, type GitTestRepository } from './git-server.ts';

export interface SshKeyPair {
  /** OpenSSH private key text (no passphrase). */
  privateKey: string;
  publicKey: string;
}

export interface SshGitServer {
  port: number;
  /** The key sshd accepts. */
  clientKey: SshKeyPair;
  /** `ssh://root@127.0.0.1:<port><repo path>` */
  url(repoPath: string): string;
  /** A work-tree repository in the server's folder, committed on `branch` (default main). */
  createRepo(name: string, files: Record<string, string>, branch?: string): Promise<GitTestRepository>;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;

/** A new ed25519 key pair, made with ssh-keygen in `folder` as `<name>` and `<name>.pub`. */
export async function generateSshKey(folder: string, name: string): Promise<SshKeyPair> {
  const file = path.join(folder, name);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', file], { timeoutMs: 30_000 });
  return { privateKey: await readFile(file, 'utf8'), publicKey: await readFile(`${file}.pub`, 'utf8') };
}

/** A loopback port free at the moment (taken and released at once). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Whether something accepts connections on the loopback port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitUntilListening(child: ChildProcess, port: number, log: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await listening(port))) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`sshd exited at start:\n${log()}`);
    if (Date.now() > deadline) throw new Error(`sshd did not listen on port ${port} within ${START_TIMEOUT_MS} ms:\n${log()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function startSshGitServer(): Promise<SshGitServer> {
  const root = await mkdtemp(path.join(tmpdir(), 'berth-ssh-git-'));
  const keys = path.join(root, 'keys');
  const repos = path.join(root, 'repos');
  await mkdir(keys, { mode: 0o700 });
  await mkdir(repos);
  // sshd insists on its privilege-separation folder.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });

  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(keys, 'host_key')], { timeoutMs: 30_000 });
  const clientKey = await generateSshKey(keys, 'client');
  const authorizedKeys = path.join(keys, 'authorized_keys');
  await writeFile(authorizedKeys, clientKey.publicKey, { mode: 0o600 });

  const port = await freePort();
  const config = path.join(root, 'sshd_config');
  await writeFile(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${path.join(keys, 'host_key')}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      `PidFile ${path.join(root, 'sshd.pid')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );

  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-16_384);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
    await rm(root, { recursive: true, force: true });
  };
  try {
    await waitUntilListening(child, port, () => log);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    port,
    clientKey,
    url: (repoPath) => `ssh://root@127.0.0.1:${port}${repoPath}`,
    async createRepo(name, files, branch = 'main') {
      return createTestRepository(path.join(repos, name), files, branch);
    },
    stop,
  };
}
