/**
 * `cmd` steps that run on the host rather than in a container: `berth …` and `acr purge …` run
 * Berth's own CLI with the run's credential, pointed at this server and the run's registry.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { StepOutput } from '../executor/executor.ts';
import { StepError } from '../executor/executor.ts';

export interface HostCommandContext {
  /** The server's base URL, e.g. `http://127.0.0.1:5000`. */
  server: string;
  username: string;
  password: string;
  registry: string;
  caFile?: string;
  /** A private folder the CLI may use as its home (no configuration of the server's user leaks in). */
  home: string;
}

export interface HostCommandRunner {
  /** Runs the command to its end; resolves its exit code. Throws `StepError` for commands Berth cannot run. */
  run(program: 'berth' | 'acr', args: string[], context: HostCommandContext, output: StepOutput, signal: AbortSignal): Promise<number>;
}

const defaultCli = fileURLToPath(new URL('../../../bin/berth.js', import.meta.url));

/** `acr purge` takes the same filter flags as `berth purge`; the registry is the run's own. */
export function berthArguments(program: 'berth' | 'acr', args: string[]): string[] {
  if (program === 'berth') return args;
  const [command, ...rest] = args;
  if (command !== 'purge') {
    throw new StepError(`'acr ${command ?? ''}' is not supported in this installation; of the acr commands only 'acr purge' runs here`);
  }
  const kept: string[] = [];
  for (let index = 0; index < rest.length; index++) {
    const arg = rest[index]!;
    if (arg === '--registry' || arg === '-r') {
      index++;
      continue;
    }
    if (arg.startsWith('--registry=')) continue;
    kept.push(arg);
  }
  return ['purge', ...kept];
}

export class BerthCliRunner implements HostCommandRunner {
  constructor(private readonly cliPath: string = defaultCli) {}

  run(program: 'berth' | 'acr', args: string[], context: HostCommandContext, output: StepOutput, signal: AbortSignal): Promise<number> {
    const argv = berthArguments(program, args);
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [this.cliPath, ...argv], {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: context.home,
          XDG_CONFIG_HOME: context.home,
          BERTH_SERVER: context.server,
          BERTH_USERNAME: context.username,
          BERTH_PASSWORD: context.password,
          BERTH_REGISTRY: context.registry,
          ...(context.caFile ? { BERTH_CA_FILE: context.caFile } : {}),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        signal,
      });
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => output.write(chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => output.write(chunk));
      child.on('error', (error) => reject(signal.aborted ? signal.reason : error));
      child.on('close', (code) => (signal.aborted ? reject(signal.reason) : resolve(code ?? 1)));
    });
  }
}
