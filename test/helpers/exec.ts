import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CommandResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Written to the command's stdin, which is closed afterwards. */
  input?: string | Buffer;
  timeoutMs?: number;
  /** Return a non-zero exit instead of throwing. */
  allowFailure?: boolean;
}

/** A command that exited non-zero (or timed out); its message carries the whole exchange. */
export class CommandError extends Error {
  constructor(
    readonly commandLine: string,
    readonly result: CommandResult,
    reason: string,
  ) {
    super(`${commandLine}\n  ${reason}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`);
    this.name = 'CommandError';
  }
}

const DEFAULT_TIMEOUT_MS = 120_000;

/** Runs a program (no shell) and collects its output; throws CommandError unless it exits 0. */
export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  const commandLine = [command, ...args].map(quoteForDisplay).join(' ');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${commandLine}: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result: CommandResult = {
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        code: code ?? -1,
      };
      if (timedOut) {
        reject(new CommandError(commandLine, result, `timed out after ${timeoutMs} ms`));
      } else if (result.code !== 0 && !options.allowFailure) {
        reject(new CommandError(commandLine, result, `exited with ${code ?? signal}`));
      } else {
        resolve(result);
      }
    });
    child.stdin.on('error', () => {
      // The command may exit without reading its input; its exit status tells what happened.
    });
    child.stdin.end(options.input);
  });
}

function quoteForDisplay(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

export function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `${prefix}-`));
}

/**
 * Removes a scratch directory that container tools may have mounted into (dockerd's netns
 * file, overlay layers, buildah's chroot binds): unmounts everything below it first, deepest first.
 */
export async function removeTempDir(dir: string): Promise<void> {
  for (const mountPoint of (await mountPointsUnder(dir)).reverse()) {
    await run('umount', ['-l', mountPoint], { allowFailure: true });
  }
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

async function mountPointsUnder(dir: string): Promise<string[]> {
  const mountInfo = await readFile('/proc/self/mountinfo', 'utf8');
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return mountInfo
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((mountPoint): mountPoint is string => mountPoint !== undefined)
    .map(decodeMountPath)
    .filter((mountPoint) => mountPoint === dir || mountPoint.startsWith(prefix));
}

/** mountinfo escapes space, tab, newline and backslash as octal sequences. */
function decodeMountPath(raw: string): string {
  return raw.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/**
 * Awaits every start-up step of a fixture, even after one fails, so that each step that did
 * succeed has handed its resource to the caller (who stops it in `after`); then rethrows.
 */
export async function startAll(...steps: Promise<unknown>[]): Promise<void> {
  const failures = (await Promise.allSettled(steps)).filter(
    (outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected',
  );
  if (failures.length === 1) throw failures[0]!.reason;
  if (failures.length > 1) throw new AggregateError(failures.map((failure) => failure.reason), 'several start-up steps failed');
}

const liveChildren = new Map<ChildProcess, NodeJS.Signals>();
let exitHookInstalled = false;

/**
 * Signals every still-running server of this test process when the process exits, so that a
 * crashed or interrupted test run leaves no registry or dockerd behind.
 */
export function killOnExit(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const [live, exitSignal] of liveChildren) live.kill(exitSignal);
    });
  }
  liveChildren.set(child, signal);
  child.once('exit', () => liveChildren.delete(child));
}
