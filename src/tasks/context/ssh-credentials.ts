import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { quote } from 'shell-quote';

export interface SshCommandOptions {
  /** The SSH private key (OpenSSH or PEM text); without one, ssh offers no key at all. */
  privateKey?: string;
  /**
   * The known_hosts file that remembers the hosts' keys. Without one, a file in the command's own
   * temporary folder is used, so each command trusts whatever key the host shows.
   */
  knownHostsFile?: string;
}

/** Whether a text looks like a private key ssh can load (`-----BEGIN … PRIVATE KEY-----`). */
export function looksLikePrivateKey(text: string): boolean {
  return /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text);
}

/** Writes the key readable by this user only; returns the file. */
async function writeKey(folder: string, privateKey: string): Promise<string> {
  const file = path.join(folder, 'id');
  // ssh rejects a key whose last line lacks its newline, and keys pasted on Windows carry CRs.
  await writeFile(file, privateKey.replace(/\r\n?/g, '\n').trim() + '\n', { mode: 0o600, flag: 'wx' });
  return file;
}

/**
 * Runs `use` with the ssh command line git is to use (its `GIT_SSH_COMMAND`). The private key is
 * written to a file only this user can read, in a private temporary folder that is removed when
 * `use` settles, also when it fails or is aborted; the key never appears in a command line.
 *
 * ssh runs without user or system configuration (`-F /dev/null`), without an agent and without
 * prompts (`BatchMode`), offering only the given key (or none). Hosts are trusted on first use
 * (`StrictHostKeyChecking=accept-new`): the first key a host shows is recorded in the known_hosts
 * file and a later different key is refused. Repositories name their hosts at task creation and no
 * out-of-band fingerprint exchange exists for them; keys listed in the system-wide
 * /etc/ssh/ssh_known_hosts are still checked first.
 */
export async function withSshCommand<T>(options: SshCommandOptions, use: (sshCommand: string) => Promise<T>): Promise<T> {
  const folder = await mkdtemp(path.join(tmpdir(), 'berth-ssh-'));
  try {
    const knownHosts = options.knownHostsFile ?? path.join(folder, 'known_hosts');
    await mkdir(path.dirname(knownHosts), { recursive: true, mode: 0o700 });
    const identity = options.privateKey === undefined ? ['-o', 'IdentityFile=none'] : ['-i', await writeKey(folder, options.privateKey)];
    const command = [
      'ssh',
      '-F', '/dev/null',
      ...identity,
      '-o', 'IdentitiesOnly=yes',
      '-o', 'IdentityAgent=none',
      '-o', 'BatchMode=yes',
      '-o', 'StrictHostKeyChecking=accept-new',
      '-o', `UserKnownHostsFile=${knownHosts}`,
      '-o', 'ConnectTimeout=10',
    ];
    return await use(quote(command));
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
