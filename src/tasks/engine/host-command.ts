/**
 * `cmd` steps that run on the host rather than in a container: `berth …` and `acr purge …` run
 * Berth's own CLI with the run's credential, pointed at this server and the run's registry (or,
 * for `acr purge --registry`, another registry of the installation with the task's credential
 * for it).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RegistryCredential, StepOutput } from '../executor/executor.ts';
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
  /** The installation registry a login server names (`acr purge --registry {{.Run.Registry}}`). */
  registryOf?(loginServer: string): Promise<string | undefined>;
  /** The run's credentials for other registries (the task's `credential add`). */
  credentials?: RegistryCredential[];
}

export interface HostCommandRunner {
  /** Runs the command to its end; resolves its exit code. Throws `StepError` for commands Berth cannot run. */
  run(program: 'berth' | 'acr', args: string[], context: HostCommandContext, output: StepOutput, signal: AbortSignal): Promise<number>;
}

const defaultCli = fileURLToPath(new URL('../../../bin/berth.js', import.meta.url));

const REGISTRY_NAME = /^[a-z0-9]{5,50}$/;

/** What the CLI runs, and the registry it works on when that is not the run's own. */
export interface HostInvocation {
  argv: string[];
  registry: string | undefined;
}

/**
 * `acr purge` takes the same filter flags as `berth purge`. Its `--registry` (a login server such
 * as `{{.Run.Registry}}`, or a registry name) becomes `-r <name>`; without one, the run's own
 * registry is purged.
 */
export async function berthArguments(
  program: 'berth' | 'acr',
  args: string[],
  registryOf: (loginServer: string) => Promise<string | undefined> = async () => undefined,
): Promise<HostInvocation> {
  if (program === 'berth') return { argv: args, registry: undefined };
  const [command, ...rest] = args;
  if (command !== 'purge') {
    throw new StepError(`'acr ${command ?? ''}' is not supported in this installation; of the acr commands only 'acr purge' runs here`);
  }
  const kept: string[] = [];
  let named: string | undefined;
  for (let index = 0; index < rest.length; index++) {
    const arg = rest[index]!;
    if (arg === '--registry' || arg === '-r') {
      named = rest[++index];
      if (named === undefined) throw new StepError(`'acr purge ${arg}' needs a registry`);
    } else if (arg.startsWith('--registry=')) {
      named = arg.slice('--registry='.length);
    } else {
      kept.push(arg);
    }
  }
  if (named === undefined) return { argv: ['purge', ...kept], registry: undefined };
  const registry = await registryNamed(named, registryOf);
  return { argv: ['purge', '-r', registry, ...kept], registry };
}

async function registryNamed(value: string, registryOf: (loginServer: string) => Promise<string | undefined>): Promise<string> {
  const resolved = await registryOf(value);
  if (resolved !== undefined) return resolved;
  if (REGISTRY_NAME.test(value.toLowerCase())) return value.toLowerCase();
  throw new StepError(`'acr purge --registry ${value}': ${value} is not a registry of this installation`);
}

/**
 * The credential for `registry`: the run's own, or — as ACR's purge container uses the task's
 * custom registry credentials — the task credential whose login server names it.
 */
async function credentialFor(registry: string | undefined, context: HostCommandContext): Promise<{ username: string; password: string }> {
  if (registry === undefined || registry === context.registry) return context;
  for (const credential of context.credentials ?? []) {
    if ((await context.registryOf?.(credential.loginServer)) === registry) return credential;
  }
  throw new StepError(
    `the run has no credential for registry ${registry}; add one to the task with 'berth task credential add --login-server <${registry}'s login server> --use-identity'`,
  );
}

export class BerthCliRunner implements HostCommandRunner {
  constructor(private readonly cliPath: string = defaultCli) {}

  async run(program: 'berth' | 'acr', args: string[], context: HostCommandContext, output: StepOutput, signal: AbortSignal): Promise<number> {
    const { argv, registry } = await berthArguments(program, args, context.registryOf);
    const credential = await credentialFor(registry, context);
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [this.cliPath, ...argv], {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: context.home,
          XDG_CONFIG_HOME: context.home,
          BERTH_SERVER: context.server,
          BERTH_USERNAME: credential.username,
          BERTH_PASSWORD: credential.password,
          BERTH_REGISTRY: registry ?? context.registry,
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
