/**
 * The registries under test: started by the bench (Berth, Debian's docker-registry, or any
 * command) on a random loopback port with a fresh data directory, or reached at a given URL.
 * Started servers are sampled for memory and stopped by their own pid.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpClient } from './http.ts';
import type { Credentials, TargetSpec } from './options.ts';
import { ResourceSampler, type ResourceSummary } from './resources.ts';

export const defaultBerthCommand = 'bin/berth.js serve --listen 127.0.0.1:{port} --data {data} --domain localhost --log-level error';

export interface TargetEnvironment {
  workDir: string;
  projectRoot: string;
  sampleIntervalMs: number;
  startTimeoutMs: number;
}

export interface RunningTarget {
  name: string;
  kind: TargetSpec['kind'];
  url: string;
  version: string | undefined;
  credentials: Credentials | undefined;
  /** Set when the bench can see the server's process (it started it, or was given its pid). */
  resources: ResourceSampler | undefined;
  /** The last lines the server wrote, for error messages. */
  logTail(): string;
  /** Stops what the bench started and removes its data; returns the memory and CPU summary. */
  stop(): Promise<ResourceSummary | undefined>;
}

/** Stop functions of the servers started and not yet stopped. */
const started = new Set<() => Promise<unknown>>();

/** Stops every server the bench started and removes their data (for an interrupted run). */
export async function stopStartedTargets(): Promise<void> {
  await Promise.all([...started].map((stop) => stop()));
}

export function distributionInstalled(): boolean {
  return spawnSync('docker-registry', ['--version'], { encoding: 'utf8' }).status === 0;
}

export async function startTarget(spec: TargetSpec, env: TargetEnvironment): Promise<RunningTarget> {
  switch (spec.kind) {
    case 'url':
      return externalTarget(spec.name, spec.url, spec.pid, spec.credentials, env);
    case 'distribution':
      return startProcess(spec.name, spec.kind, env, undefined, async (dir, port) => {
        const config = join(dir, 'registry.yml');
        await writeFile(config, distributionConfig(join(dir, 'data'), port));
        return { file: 'docker-registry', args: ['serve', config], cwd: dir, version: distributionVersion() };
      });
    case 'berth': {
      // A fresh Berth creates its installation owner from these on first start.
      const owner = spec.credentials ?? { username: 'bench-owner', password: randomBytes(24).toString('base64url') };
      return startProcess(spec.name, spec.kind, env, owner, async (dir, port) => ({
        ...shellPlan(spec.command, port, dir, env),
        // A short grace period, so the gc workload need not wait an hour for its garbage.
        env: { BERTH_OWNER_USERNAME: owner.username, BERTH_OWNER_PASSWORD: owner.password, BERTH_GC_GRACE_PERIOD_SECONDS: '10' },
        version: berthVersion(env.projectRoot),
      }));
    }
    case 'command':
      return startProcess(spec.name, spec.kind, env, spec.credentials, async (dir, port) => shellPlan(spec.command, port, dir, env));
  }
}

function shellPlan(command: string, port: number, dir: string, env: TargetEnvironment): LaunchPlan {
  return {
    file: '/bin/sh',
    // exec: the pid we hold is the server itself, not a shell around it.
    args: ['-c', `exec ${expandCommand(command, port, join(dir, 'data'))}`],
    cwd: env.projectRoot,
    version: undefined,
  };
}

/** Distribution 2.8's stock settings (in-memory blob descriptor cache) with quiet logs. */
function distributionConfig(rootDirectory: string, port: number): string {
  return [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog: {disabled: true}',
    'storage:',
    `  filesystem: {rootdirectory: ${JSON.stringify(rootDirectory)}}`,
    '  delete: {enabled: true}',
    '  cache: {blobdescriptor: inmemory}',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  secret: bench-secret',
    '',
  ].join('\n');
}

function expandCommand(template: string, port: number, dataDir: string): string {
  return template.replaceAll('{port}', String(port)).replaceAll('{data}', shellQuote(dataDir));
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

function distributionVersion(): string | undefined {
  const out = spawnSync('docker-registry', ['--version'], { encoding: 'utf8' }).stdout?.trim();
  return out ? out.split(/\s+/).pop() : undefined;
}

function berthVersion(projectRoot: string): string | undefined {
  try {
    const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version?: string };
    const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: projectRoot, encoding: 'utf8' });
    const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: projectRoot, encoding: 'utf8' });
    const suffix = commit.status === 0 ? ` (${commit.stdout.trim()}${dirty.stdout?.trim() ? ', modified' : ''})` : '';
    return `${pkg.version ?? '?'}${suffix}`;
  } catch {
    return undefined;
  }
}

function externalTarget(
  name: string,
  url: string,
  pid: number | undefined,
  credentials: Credentials | undefined,
  env: TargetEnvironment,
): RunningTarget {
  const resources = pid !== undefined ? new ResourceSampler(pid, env.sampleIntervalMs) : undefined;
  resources?.start();
  return {
    name,
    kind: 'url',
    url: url.replace(/\/+$/, ''),
    version: undefined,
    credentials,
    resources,
    logTail: () => '',
    stop: async () => resources?.stop(),
  };
}

interface LaunchPlan {
  file: string;
  args: string[];
  cwd: string;
  env?: Record<string, string>;
  version: string | undefined;
}

async function startProcess(
  name: string,
  kind: TargetSpec['kind'],
  env: TargetEnvironment,
  credentials: Credentials | undefined,
  plan: (dir: string, port: number) => Promise<LaunchPlan>,
): Promise<RunningTarget> {
  const dir = await mkdtemp(join(env.workDir, `berth-bench-${name}-`));
  const logFile = join(dir, 'server.log');
  const logTail = () => tailOf(logFile);
  let child: ChildProcess | undefined;
  let resources: ResourceSampler | undefined;

  const stop = async (): Promise<ResourceSummary | undefined> => {
    started.delete(stop);
    const summary = resources?.stop();
    if (child) await stopChild(child);
    await rm(dir, { recursive: true, force: true });
    // Let the writeback of this server's data finish before the next target starts.
    spawnSync('sync');
    return summary;
  };
  started.add(stop);

  try {
    const port = await freePort();
    const launch = await plan(dir, port);
    const log = openSync(logFile, 'a');
    try {
      child = spawn(launch.file, launch.args, { cwd: launch.cwd, env: { ...process.env, ...launch.env }, stdio: ['ignore', log, log] });
    } finally {
      closeSync(log);
    }
    const url = `http://127.0.0.1:${port}`;
    await waitUntilReady(url, child, env.startTimeoutMs, logTail);
    resources = new ResourceSampler(child.pid!, env.sampleIntervalMs);
    resources.start();
    return { name, kind, url, version: launch.version, credentials, resources, logTail, stop };
  } catch (error) {
    const tail = logTail();
    await stop();
    throw new Error(`${name} did not start: ${(error as Error).message}${tail ? `\n--- server log ---\n${tail}` : ''}`);
  }
}

async function waitUntilReady(url: string, child: ChildProcess, timeoutMs: number, logTail: () => string): Promise<void> {
  const http = new HttpClient(url, 1);
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`the process exited (${child.exitCode ?? child.signalCode})`);
      }
      const status = await http
        .request('GET', '/v2/', { idleTimeoutMs: 1000 })
        .then((res) => res.status)
        .catch(() => 0);
      if (status === 200 || status === 401) return;
      await sleep(100);
    }
    throw new Error(`no answer on ${url}/v2/ within ${timeoutMs} ms${logTail() ? '' : ' (empty log)'}`);
  } finally {
    http.close();
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const graceful = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
  if (!graceful) {
    child.kill('SIGKILL');
    await exited;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** The last lines of a log that may be large: only its final 16 KiB are read. */
function tailOf(file: string, lines = 20): string {
  if (!existsSync(file)) return '';
  const size = statSync(file).size;
  const length = Math.min(size, 16 * 1024);
  const buffer = Buffer.alloc(length);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buffer, 0, length, size - length);
  } finally {
    closeSync(fd);
  }
  return buffer.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
}
