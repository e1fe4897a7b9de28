import { spawn } from 'node:child_process';
import { realpath, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { ContextError, type FetchedContext } from './context-source.ts';
import { isSshLocation, type GitLocation } from './git-location.ts';
import { contextTimedOut } from './limits.ts';
import { looksLikePrivateKey, withSshCommand } from './ssh-credentials.ts';

export interface GitFetchOptions {
  /** The git program. */
  git: string;
  /** Empty folder to clone into. */
  into: string;
  /** The HTTP token, or for an ssh location the SSH private key. */
  accessToken?: string;
  /** The known_hosts file of ssh locations (see withSshCommand). */
  knownHostsFile?: string;
  signal: AbortSignal;
  timeoutMs: number;
}

interface GitResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const OUTPUT_LIMIT = 64 * 1024;
const KILL_GRACE_MS = 2000;

/** Runs git in its own process group, so that aborting also ends the remote helpers it started. */
export function runGit(git: string, args: string[], env: NodeJS.ProcessEnv, signal: AbortSignal, cwd?: string): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(git, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const output = { stdout: '', stderr: '' };
    const collect = (key: keyof typeof output) => (chunk: Buffer) => {
      output[key] = (output[key] + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
    };
    child.stdout.on('data', collect('stdout'));
    child.stderr.on('data', collect('stderr'));
    let forceKill: NodeJS.Timeout | undefined;
    const signalGroup = (name: NodeJS.Signals): void => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid, name);
      } catch {
        // The group is already gone.
      }
    };
    // SIGTERM lets git end and reap its helpers; SIGKILL only if it does not.
    const stop = (): void => {
      signalGroup('SIGTERM');
      forceKill = setTimeout(() => signalGroup('SIGKILL'), KILL_GRACE_MS);
    };
    const settle = (): void => {
      signal.removeEventListener('abort', stop);
      clearTimeout(forceKill);
    };
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
    child.on('error', (error) => {
      settle();
      reject(new ContextError(`cannot run git: ${error.message}`));
    });
    child.on('close', (code) => {
      settle();
      resolve({ code, ...output });
    });
  });
}

/**
 * git's environment: no prompts, no credential helpers, no user or system configuration, only the
 * http(s) and file transports (and ssh, through `sshCommand`, for an ssh location), and the access
 * token as an HTTP header scoped to the repository's origin (through `GIT_CONFIG_*`, never in the
 * command line).
 */
export function gitEnvironment(location: GitLocation, accessToken: string | undefined, sshCommand?: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('GIT_')) env[name] = value;
  }
  const config: [string, string][] = [['credential.helper', '']];
  const password = accessToken ?? location.credentials?.password;
  if (password !== undefined && /^https?:/.test(location.url)) {
    const username = accessToken === undefined ? (location.credentials?.username ?? '') : 'x-access-token';
    const basic = Buffer.from(`${username}:${password}`).toString('base64');
    config.push([`http.${new URL(location.url).origin}/.extraHeader`, `Authorization: Basic ${basic}`]);
  }
  Object.assign(env, {
    LC_ALL: 'C',
    LANGUAGE: '',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '',
    SSH_ASKPASS: '',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_ALLOW_PROTOCOL: 'http:https:file',
    GIT_CONFIG_COUNT: String(config.length),
  });
  if (sshCommand !== undefined && isSshLocation(location.url)) {
    delete env.SSH_AUTH_SOCK;
    Object.assign(env, { GIT_ALLOW_PROTOCOL: 'http:https:file:ssh', GIT_SSH_COMMAND: sshCommand, GIT_SSH_VARIANT: 'ssh' });
  }
  config.forEach(([key, value], index) => {
    env[`GIT_CONFIG_KEY_${index}`] = key;
    env[`GIT_CONFIG_VALUE_${index}`] = value;
  });
  return env;
}

/**
 * Runs `use` with git's environment for the location. For an ssh location the access token is the
 * private key, present in a private file only while `use` runs; without a token ssh offers no key.
 */
export async function withGitEnvironment<T>(
  location: GitLocation,
  accessToken: string | undefined,
  knownHostsFile: string | undefined,
  use: (env: NodeJS.ProcessEnv) => Promise<T>,
): Promise<T> {
  if (!isSshLocation(location.url)) return use(gitEnvironment(location, accessToken));
  if (accessToken !== undefined && !looksLikePrivateKey(accessToken)) {
    throw new ContextError(`the git access token of ${location.display} is not an SSH private key (OpenSSH or PEM text)`);
  }
  const options = { ...(accessToken === undefined ? {} : { privateKey: accessToken }), ...(knownHostsFile === undefined ? {} : { knownHostsFile }) };
  return withSshCommand(options, (sshCommand) => use(gitEnvironment(location, accessToken, sshCommand)));
}

/** The last `fatal:`/`error:` line of git's output (or ssh's own complaint), without the prefix git puts before the reason. */
function gitReason(stderr: string): string {
  const lines = stderr.split('\n').map((line) => line.trim()).filter(Boolean);
  // Over ssh, git's last words are only "Could not read from remote repository"; ssh says why.
  const ssh = lines.filter((line) => /^ssh: /.test(line)).at(-1);
  if (ssh !== undefined) return ssh.replace(/^ssh:\s*/, '');
  const last = lines.filter((line) => /^(fatal|error):/.test(line)).at(-1) ?? lines.at(-1) ?? 'git failed';
  return last.replace(/^(fatal|error):\s*/, '').replace(/^unable to access '[^']*':\s*/, '');
}

/** A ContextError for a failed git command, naming the repository (never the token). */
export function gitFailure(stderr: string, location: GitLocation, accessToken: string | undefined): ContextError {
  let text = stderr;
  for (const secret of [accessToken, location.credentials?.password]) {
    if (secret) text = text.split(secret).join('***');
  }
  const repository = location.display;
  if (/Load key .*: (invalid format|incorrect passphrase|error in libcrypto)/i.test(text)) {
    return new ContextError(`the git access token of ${repository} is not a usable SSH private key (it must be unencrypted OpenSSH or PEM text)`);
  }
  if (/Authentication failed|could not read (Username|Password)|terminal prompts disabled|returned error: 40[13]|Permission denied \(|Too many authentication failures/i.test(text)) {
    const none = accessToken === undefined && location.credentials === undefined;
    const hint = !none ? '' : isSshLocation(location.url) ? ' (no SSH private key was given as the git access token)' : ' (no access token was given)';
    return new ContextError(`authentication failed for ${repository}${hint}`);
  }
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/i.test(text)) {
    return new ContextError(`the SSH host key of ${repository} differs from the one recorded when it was first reached (host key verification failed)`);
  }
  if (/Could not resolve (host|proxy)|Failed to connect|Couldn't connect|Connection (refused|timed out|reset|closed)|Network is unreachable|No route to host|SSL|certificate/i.test(text)) {
    return new ContextError(`cannot reach ${repository}: ${gitReason(text)}`);
  }
  if (/Remote branch .* not found|couldn't find remote ref|not our ref|unadvertised object|no such remote ref/i.test(text)) {
    if (location.refIsCommit) return new ContextError(`the commit ${location.ref} cannot be fetched from ${repository}`);
    const hint = /^[0-9a-f]{7,39}$/i.test(location.ref ?? '') ? ' (a commit must be given by its full SHA)' : '';
    return new ContextError(`the branch or tag "${location.ref}" does not exist in ${repository}${hint}`);
  }
  if (/repository '.*' not found|does not appear to be a git repository|not a git repository|returned error: 404/i.test(text)) {
    return new ContextError(`the git repository ${repository} does not exist`);
  }
  return new ContextError(`fetching ${repository} failed: ${gitReason(text)}`);
}

/** The context folder inside the clone, which must exist and stay inside it (also through symlinks). */
async function contextFolder(root: string, location: GitLocation): Promise<string> {
  if (location.folder === undefined) return root;
  const at = location.ref === undefined ? '' : ` at ${location.ref}`;
  const missing = new ContextError(`the folder "${location.folder}" does not exist in ${location.display}${at}`);
  const folder = await realpath(path.join(root, location.folder)).catch(() => undefined);
  if (folder === undefined || !(await stat(folder)).isDirectory()) throw missing;
  const realRoot = await realpath(root);
  if (folder !== realRoot && !folder.startsWith(realRoot + path.sep)) {
    throw new ContextError(`the folder "${location.folder}" leads outside the repository ${location.display}`);
  }
  return folder;
}

/**
 * Clones one commit of a git repository into `into` (shallow: the tip of a branch or tag, the
 * default branch, or a commit by its full SHA) and applies the `:folder` part. The `.git` folder is
 * removed afterwards, as a build context does not include it.
 */
export async function fetchGitContext(location: GitLocation, options: GitFetchOptions): Promise<FetchedContext> {
  const { git, into, accessToken, knownHostsFile, signal, timeoutMs } = options;
  const timeout = AbortSignal.timeout(timeoutMs);
  const stop = AbortSignal.any([signal, timeout]);
  const localEnv = gitEnvironment(location, accessToken);

  const run = async (args: string[], cwd?: string, env = localEnv): Promise<GitResult> => {
    const result = await runGit(git, args, env, stop, cwd);
    if (signal.aborted) throw signal.reason;
    if (timeout.aborted) throw contextTimedOut(`fetching ${location.display}`, timeoutMs);
    return result;
  };
  const mustRun = async (args: string[], cwd?: string, env = localEnv): Promise<string> => {
    const result = await run(args, cwd, env);
    if (result.code !== 0) throw gitFailure(result.stderr, location, accessToken);
    return result.stdout.trim();
  };
  /** A command that reaches the repository: only it gets the credentials (for ssh, the key file). */
  const remote = (args: string[], cwd?: string): Promise<string> =>
    withGitEnvironment(location, accessToken, knownHostsFile, (env) => mustRun(args, cwd, env));

  const shallow = ['--quiet', '--depth', '1', '--no-tags'];
  if (location.refIsCommit && location.ref !== undefined) {
    await mustRun(['init', '--quiet', into]);
    await remote(['fetch', ...shallow, '--', location.url, location.ref], into);
    await mustRun(['checkout', '--quiet', '--detach', 'FETCH_HEAD'], into);
  } else {
    const branch = location.ref === undefined ? [] : ['--branch', location.ref];
    await remote(['clone', ...shallow, '--single-branch', ...branch, '--', location.url, into]);
  }
  const commit = await mustRun(['rev-parse', 'HEAD'], into);
  const defaultBranch = async (): Promise<string | undefined> => {
    const head = await run(['symbolic-ref', '--quiet', '--short', 'HEAD'], into);
    return head.code === 0 ? head.stdout.trim() : undefined;
  };
  const branch = location.refIsCommit ? undefined : (location.ref ?? (await defaultBranch()));
  await rm(path.join(into, '.git'), { recursive: true, force: true });
  return { dir: await contextFolder(into, location), commit, ...(branch ? { branch } : {}) };
}
