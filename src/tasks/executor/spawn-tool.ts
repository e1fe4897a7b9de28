import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import type { StepOutput } from './executor.ts';

export interface ToolOptions {
  env: Record<string, string | undefined>;
  cwd?: string;
  /** Receives stdout and stderr as they arrive (both are also collected). */
  output?: StepOutput;
  signal?: AbortSignal;
  /** Kill the command after this long; it then resolves with `timedOut`. */
  timeoutMs?: number;
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  aborted: boolean;
}

/** Collected output is capped so that a chatty step cannot grow the server's memory. */
const MAX_COLLECTED_CHARS = 1_000_000;

/**
 * Runs a container tool without a shell in its own process group, so that an abort or timeout
 * kills the tool together with anything it forked (buildah's chroot runtime, for one).
 * Never rejects for a non-zero exit: the caller decides what the exit code means.
 */
export function runTool(command: string, args: readonly string[], options: ToolOptions): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      resolve({ code: -1, stdout: '', stderr: '', timedOut: false, aborted: true });
      return;
    }
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let aborted = false;
    const killGroup = () => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the group is already gone
      }
    };
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => ((timedOut = true), killGroup()), options.timeoutMs);
    const onAbort = () => ((aborted = true), killGroup());
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const collect = (stream: NodeJS.ReadableStream, append: (text: string) => void) => {
      const decoder = new StringDecoder('utf8');
      stream.on('data', (chunk: Buffer) => {
        const text = decoder.write(chunk);
        if (text === '') return;
        append(text);
        options.output?.write(text);
      });
      stream.on('end', () => {
        const rest = decoder.end();
        if (rest === '') return;
        append(rest);
        options.output?.write(rest);
      });
    };
    collect(child.stdout, (text) => (stdout = capped(stdout + text)));
    collect(child.stderr, (text) => (stderr = capped(stderr + text)));

    child.on('error', (error) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      reject(new Error(`${command}: ${error.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve({ code: code ?? -1, stdout, stderr, timedOut, aborted });
    });
  });
}

function capped(text: string): string {
  return text.length > MAX_COLLECTED_CHARS ? text.slice(text.length - MAX_COLLECTED_CHARS) : text;
}

/** The line of a tool's stderr that explains a failure: its last `Error:` line, else its last line. */
export function failureReason(result: ToolResult): string {
  const lines = `${result.stderr}\n${result.stdout}`
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const errorLine = [...lines].reverse().find((line) => /^(Error|error):/.test(line));
  const reason = errorLine ?? lines.at(-1) ?? 'no output';
  return reason.length > 300 ? `${reason.slice(0, 300)}…` : reason;
}
