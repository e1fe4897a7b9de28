/**
 * Runs `node bin/berth.js` against a real in-process Berth: a private HOME per server (so config
 * and auth files never touch the machine's), the owner's credential in the environment.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ConfigInput } from '../../src/config/config.ts';
import { OWNER, startTestBerth, type TestBerth } from '../helper.ts';
import { run, type CommandResult } from '../helpers/exec.ts';

const berthBin = path.resolve(import.meta.dirname, '../../bin/berth.js');

export { OWNER };

export interface CliRunOptions {
  env?: Record<string, string | undefined>;
  input?: string;
  /** Return a failed run instead of throwing. */
  allowFailure?: boolean;
}

export interface CliBerth {
  /** The server; its `request` sends the owner's credential unless told otherwise. */
  server: TestBerth;
  home: string;
  /** `host:port` of the login server of `registry`. */
  loginServer(registry: string): string;
  /** The environment every run gets: this server, the owner, the private HOME. */
  env: Record<string, string | undefined>;
  berth(args: string[], options?: CliRunOptions): Promise<CommandResult>;
  /** Runs a command and parses its JSON output. */
  json<T = Record<string, unknown>>(args: string[], options?: CliRunOptions): Promise<T>;
  close(): Promise<void>;
}

export async function startCliBerth(overrides: Partial<ConfigInput> = {}): Promise<CliBerth> {
  const server = await startTestBerth(overrides);
  const home = await mkdtemp(path.join(tmpdir(), 'berth-cli-home-'));
  const port = new URL(server.url).port;
  const env: Record<string, string | undefined> = {
    HOME: home,
    BERTH_SERVER: server.url,
    BERTH_USERNAME: OWNER.username,
    BERTH_PASSWORD: OWNER.password,
    BERTH_REGISTRY: undefined,
    BERTH_CA_FILE: undefined,
    XDG_CONFIG_HOME: undefined,
    XDG_RUNTIME_DIR: undefined,
    DOCKER_CONFIG: undefined,
    REGISTRY_AUTH_FILE: undefined,
    NO_COLOR: '1',
  };
  const berth = (args: string[], options: CliRunOptions = {}) =>
    run('node', [berthBin, ...args], { env: { ...env, ...options.env }, input: options.input ?? '', allowFailure: options.allowFailure, timeoutMs: 60_000 });
  return {
    server,
    home,
    env,
    loginServer: (registry) => `${registry}.localhost:${port}`,
    berth,
    async json<T>(args: string[], options?: CliRunOptions) {
      const { stdout } = await berth(args, options);
      return JSON.parse(stdout) as T;
    },
    async close() {
      await server.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}

/** Asserts a CLI failure as az reports it: exit 1 and `ERROR: ...` on stderr. */
export function assertCliError(result: CommandResult, pattern: RegExp): void {
  if (result.code !== 1 || !/^ERROR: /m.test(result.stderr) || !pattern.test(result.stderr)) {
    throw new Error(`expected exit 1 with ERROR matching ${pattern}, got exit ${result.code}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`);
  }
}
