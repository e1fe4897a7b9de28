/**
 * The credential files of container tools, written as `az acr login` leaves them: docker's
 * `config.json` (an `identitytoken` it exchanges itself) and the containers `auth.json` of
 * podman, buildah and skopeo (the null-GUID user with the refresh token as its password).
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { CliError } from './errors.ts';

function home(env: NodeJS.ProcessEnv): string {
  return env.HOME || homedir();
}

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.DOCKER_CONFIG || path.join(home(env), '.docker'), 'config.json');
}

export function containersAuthPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.REGISTRY_AUTH_FILE) return env.REGISTRY_AUTH_FILE;
  if (env.XDG_RUNTIME_DIR) return path.join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json');
  return path.join(home(env), '.config', 'containers', 'auth.json');
}

interface AuthFile {
  auths?: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

function basic(username: string, password: string): string {
  return Buffer.from(`${username}:${password}`).toString('base64');
}

/** docker stores an identity token with the user name and an empty password in `auth`. */
export async function writeDockerAuth(file: string, loginServer: string, username: string, refreshToken: string): Promise<void> {
  await updateAuthFile(file, loginServer, { auth: basic(username, ''), identitytoken: refreshToken });
}

export async function writeContainersAuth(file: string, loginServer: string, username: string, password: string): Promise<void> {
  await updateAuthFile(file, loginServer, { auth: basic(username, password) });
}

/** Replaces one registry's entry, keeping every other entry and setting of the file. */
async function updateAuthFile(file: string, loginServer: string, entry: Record<string, unknown>): Promise<void> {
  const current = await readAuthFile(file);
  const updated: AuthFile = { ...current, auths: { ...current.auths, [loginServer]: entry } };
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(updated, null, '\t')}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, file);
}

async function readAuthFile(file: string): Promise<AuthFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
  }
  if (text.trim() === '') return {};
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as AuthFile;
  } catch {
    throw new CliError(`${file} is not a JSON object; fix or remove it, then log in again`);
  }
}
