import { spawn, type ChildProcess } from 'node:child_process';
import { open, readFile, writeFile, mkdir } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killOnExit, makeTempDir, removeTempDir, run } from './exec.ts';

const PROJECT_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;
const LOG_TAIL_BYTES = 8_000;

/** A registry server started by a test: Berth itself, or the reference registry for parity. */
export interface RegistryProcess {
  /** `http(s)://127.0.0.1:<port>` */
  readonly url: string;
  /** `127.0.0.1:<port>`, the registry host as clients write it in image references. */
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** stdout and stderr of every run of the server, appended. */
  readonly logFile: string;
  readonly pid: number;
  /** SIGTERM (SIGKILL after 5 s), then removes the scratch directory. */
  stop(): Promise<void>;
  /** SIGKILL, leaving the data directory as the crash left it. */
  kill9(): Promise<void>;
  /** Stops the server if it still runs and starts it again on the same port and data. */
  restart(): Promise<RegistryProcess>;
  /** The last few KiB of the server's output, for assertion messages. */
  logTail(): Promise<string>;
}

/** The installation owner every Berth started here is bootstrapped with (`BERTH_OWNER_PASSWORD`). */
export const BERTH_OWNER = { username: 'owner', password: 'owner-process-password-51c2' } as const;

export interface BerthProcess extends RegistryProcess {
  /** The owner's credentials as clients take them: `owner:<password>` (skopeo `--creds`). */
  readonly creds: string;
  readonly owner: { readonly username: string; readonly password: string };
  restart(): Promise<BerthProcess>;
  /** `POST /mgmt/v1/registries`; returns the registry's login server `<name>.localhost:<port>`. */
  createRegistry(name: string): Promise<string>;
  /** The login server of a registry: `<name>.localhost:<port>`. */
  registryHost(name: string): string;
}

export interface StartBerthOptions {
  /** Data directory to use (kept on stop); a fresh scratch directory by default. */
  data?: string;
  tls?: 'self-signed';
  domain?: string;
  extraArgs?: string[];
  env?: Record<string, string>;
}

/** Runs `node bin/berth.js serve` on a free loopback port and waits until `GET /v2/` answers. */
export async function startBerth(options: StartBerthOptions = {}): Promise<BerthProcess> {
  const workDir = await makeTempDir('berth-server');
  const dataDir = options.data ?? join(workDir, 'data');
  const domain = options.domain ?? 'localhost';
  const scheme = options.tls === 'self-signed' ? 'https' : 'http';
  const port = await freePort();
  const args = [
    join(PROJECT_ROOT, 'bin/berth.js'),
    'serve',
    '--listen',
    `127.0.0.1:${port}`,
    '--data',
    dataDir,
    '--domain',
    domain,
    ...(options.tls === 'self-signed' ? ['--tls-self-signed'] : []),
    ...(options.extraArgs ?? []),
  ];
  const server = await launch({
    name: 'berth',
    command: process.execPath,
    args,
    env: { BERTH_OWNER_PASSWORD: BERTH_OWNER.password, ...options.env },
    workDir,
    dataDir,
    port,
    scheme,
  });
  const restartServer = server.restart;
  const berth: BerthProcess = Object.assign(server, {
    creds: `${BERTH_OWNER.username}:${BERTH_OWNER.password}`,
    owner: BERTH_OWNER,
    async restart(): Promise<BerthProcess> {
      await restartServer();
      return berth;
    },
    registryHost: (name: string) => `${name}.${domain}:${port}`,
    async createRegistry(name: string): Promise<string> {
      const body = JSON.stringify({ name });
      const { status, text } = await request('POST', `${server.url}/mgmt/v1/registries`, body, ownerAuthorization());
      if (status !== 201) throw new Error(`POST /mgmt/v1/registries ${body} answered ${status}: ${text}`);
      return `${name}.${domain}:${port}`;
    },
  });
  return berth;
}

export interface ReferenceRegistryOptions {
  /** Require this user's Basic credentials (an htpasswd file made with `htpasswd -B`). */
  htpasswdUser?: { username: string; password: string };
}

/** Runs Distribution 2.8 (Debian's `docker-registry`) with deletes enabled, as a reference. */
export async function startReferenceRegistry(options: ReferenceRegistryOptions = {}): Promise<RegistryProcess> {
  const workDir = await makeTempDir('reference-registry');
  const dataDir = join(workDir, 'data');
  await mkdir(dataDir);
  const port = await freePort();
  const configFile = join(workDir, 'registry.yml');
  const htpasswdFile = join(workDir, 'htpasswd');
  if (options.htpasswdUser) {
    const { stdout } = await run('htpasswd', ['-Bbn', options.htpasswdUser.username, options.htpasswdUser.password]);
    await writeFile(htpasswdFile, stdout);
  }
  await writeFile(
    configFile,
    [
      'version: 0.1',
      'log: {level: info}',
      'storage:',
      `  filesystem: {rootdirectory: ${dataDir}}`,
      '  delete: {enabled: true}',
      `http: {addr: 127.0.0.1:${port}, secret: reference-registry-secret}`,
      ...(options.htpasswdUser ? [`auth: {htpasswd: {realm: reference-registry, path: ${htpasswdFile}}}`] : []),
      '',
    ].join('\n'),
  );
  return launch({
    name: 'docker-registry',
    command: 'docker-registry',
    args: ['serve', configFile],
    env: {},
    workDir,
    dataDir,
    port,
    scheme: 'http',
  });
}

interface LaunchSpec {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  /** Scratch directory owned by the handle, removed on stop. */
  workDir: string;
  dataDir: string;
  port: number;
  scheme: 'http' | 'https';
}

async function launch(spec: LaunchSpec): Promise<RegistryProcess> {
  const logFile = join(spec.workDir, 'server.log');
  const url = `${spec.scheme}://127.0.0.1:${spec.port}`;
  let child: ChildProcess;
  try {
    child = await spawnServer(spec, logFile, url);
  } catch (error) {
    await removeTempDir(spec.workDir);
    throw error;
  }

  const logTail = async (): Promise<string> => {
    const log = await readFile(logFile).catch(() => Buffer.alloc(0));
    return log.subarray(Math.max(0, log.length - LOG_TAIL_BYTES)).toString('utf8');
  };

  const handle: RegistryProcess = {
    url,
    host: `127.0.0.1:${spec.port}`,
    port: spec.port,
    dataDir: spec.dataDir,
    logFile,
    get pid() {
      return child.pid ?? -1;
    },
    async stop() {
      await terminate(child);
      await removeTempDir(spec.workDir);
    },
    async kill9() {
      await signalAndWait(child, 'SIGKILL', STOP_GRACE_MS);
    },
    async restart() {
      await terminate(child);
      child = await spawnServer(spec, logFile, url);
      return handle;
    },
    logTail,
  };
  return handle;
}

async function spawnServer(spec: LaunchSpec, logFile: string, url: string): Promise<ChildProcess> {
  const log = await open(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(spec.command, spec.args, {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', log.fd, log.fd],
    });
  } finally {
    await log.close();
  }
  killOnExit(child);
  const exited = new Promise<string>((resolveExit) => {
    child.once('exit', (code, signal) => resolveExit(`exited with ${code ?? signal}`));
    child.once('error', (error) => resolveExit(`failed to start: ${error.message}`));
  });
  const failure = await Promise.race([waitUntilAnswering(`${url}/v2/`), exited]);
  if (failure !== undefined) {
    await terminate(child);
    const output = await readFile(logFile, 'utf8').catch(() => '');
    throw new Error(
      `${spec.name} (${[spec.command, ...spec.args].join(' ')}) ${failure}\n--- server output ---\n${output.slice(-LOG_TAIL_BYTES)}`,
    );
  }
  return child;
}

/** `Authorization: Basic ...` of the owner, for requests a test makes without a client. */
export function ownerAuthorization(): string {
  return `Basic ${Buffer.from(`${BERTH_OWNER.username}:${BERTH_OWNER.password}`).toString('base64')}`;
}

/** Resolves undefined once GET answers 200 or 401, or a reason after the ready timeout. */
async function waitUntilAnswering(url: string): Promise<string | undefined> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = 'no answer';
  while (Date.now() < deadline) {
    const status = await probe(url);
    if (status === 200 || status === 401) return undefined;
    last = typeof status === 'number' ? `last answer ${status}` : status;
    await new Promise((r) => setTimeout(r, 100));
  }
  return `did not answer GET ${url} within ${READY_TIMEOUT_MS} ms (${last})`;
}

/** The status of one GET, or why there was none. */
async function probe(url: string): Promise<number | string> {
  try {
    return (await request('GET', url)).status;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * One HTTP exchange that accepts any certificate (the self-signed TLS mode is checked by its own
 * tests, and fetch cannot be told to trust it).
 */
function request(method: string, url: string, json?: string, authorization?: string): Promise<{ status: number; text: string }> {
  const client = url.startsWith('https:') ? https : http;
  return new Promise((resolveRequest, reject) => {
    const outgoing = client.request(
      url,
      {
        method,
        rejectUnauthorized: false,
        timeout: 5_000,
        headers: {
          ...(json === undefined ? {} : { 'content-type': 'application/json' }),
          ...(authorization === undefined ? {} : { authorization }),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolveRequest({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`${method} ${url} timed out`)));
    outgoing.on('error', reject);
    outgoing.end(json);
  });
}

async function terminate(child: ChildProcess): Promise<void> {
  if (await signalAndWait(child, 'SIGTERM', STOP_GRACE_MS)) return;
  await signalAndWait(child, 'SIGKILL', STOP_GRACE_MS);
}

/** Sends a signal and waits for the exit; true if the process is gone. */
function signalAndWait(child: ChildProcess, signal: NodeJS.Signals, waitMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolveWait) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolveWait(false);
    }, waitMs);
    const onExit = () => {
      clearTimeout(timer);
      resolveWait(true);
    };
    child.once('exit', onExit);
    child.kill(signal);
  });
}

/** A loopback port that was free a moment ago (the OS hands out ports round-robin, so reuse is unlikely). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolvePort(address.port);
        else reject(new Error('no port assigned'));
      });
    });
  });
}
