/**
 * Which server and who: flags, then `BERTH_*` environment variables, then the config file that
 * `berth configure` writes (`~/.config/berth/config.json`), then built-in defaults.
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { CliError } from './errors.ts';

export const DEFAULT_SERVER = 'http://localhost:5000';

/** The stored configuration file. */
export interface CliConfigFile {
  server?: string;
  username?: string;
  password?: string;
  caFile?: string;
  defaults?: { registry?: string };
}

/** What the global flags carry. */
export interface SettingsFlags {
  server?: string;
  username?: string;
  password?: string;
  caFile?: string;
}

export interface Settings {
  server: string;
  username?: string;
  password?: string;
  caFile?: string;
  /** The registry used when a command omits `-n`/`-r`. */
  defaultRegistry?: string;
}

export function configFilePath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || homedir(), '.config');
  return path.join(base, 'berth', 'config.json');
}

export async function readConfigFile(file: string): Promise<CliConfigFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(`${file} is not valid JSON; fix it or run 'berth configure' again`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new CliError(`${file} must hold a JSON object`);
  return parsed as CliConfigFile;
}

/** Writes the file readable by its owner only: it may hold a password. */
export async function writeConfigFile(file: string, config: CliConfigFile): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, file);
}

function firstSet(...values: (string | undefined)[]): string | undefined {
  return values.find((value) => value !== undefined && value !== '');
}

export function resolveSettings(flags: SettingsFlags, env: NodeJS.ProcessEnv, file: CliConfigFile): Settings {
  const server = firstSet(flags.server, env.BERTH_SERVER, file.server) ?? DEFAULT_SERVER;
  return {
    server: server.replace(/\/+$/, ''),
    username: firstSet(flags.username, env.BERTH_USERNAME, file.username),
    password: firstSet(flags.password, env.BERTH_PASSWORD, file.password),
    caFile: firstSet(flags.caFile, env.BERTH_CA_FILE, file.caFile),
    defaultRegistry: firstSet(env.BERTH_REGISTRY, file.defaults?.registry),
  };
}
