/**
 * A git server over HTTP for tests: repositories in a temp folder, served through `git http-backend`
 * (CGI) on a random loopback port, optionally behind Basic authentication with a token as password.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run } from './exec.ts';

export interface GitTestRepository {
  /** The repository's folder on this machine (a work tree; also usable as a local context location). */
  path: string;
  /** The commit `createRepo` made. */
  initialCommit: string;
  /** Writes files (paths relative to the root, `/`-separated) and commits them on `branch` (default: the current one); returns the SHA. */
  commit(files: Record<string, string>, message: string, branch?: string): Promise<string>;
}

export interface GitServer {
  /** `http://127.0.0.1:<port>/<name>.git` */
  url(repoName: string): string;
  createRepo(name: string, files: Record<string, string>, branch?: string): Promise<GitTestRepository>;
  stop(): Promise<void>;
}

const AUTHOR = ['-c', 'user.name=Berth Test', '-c', 'user.email=test@berth.invalid', '-c', 'commit.gpgsign=false'];

async function git(cwd: string, args: string[]): Promise<string> {
  const result = await run('git', [...AUTHOR, ...args], { cwd, timeoutMs: 30_000 });
  return result.stdout.trim();
}

async function writeFiles(root: string, files: Record<string, string>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(root, ...name.split('/'));
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
  }
}

/** A git repository made at `repo` with `files` committed on `branch`, which tests commit to. */
export async function createTestRepository(repo: string, files: Record<string, string>, branch: string): Promise<GitTestRepository> {
  await mkdir(repo, { recursive: true });
  await git(repo, ['init', '--quiet', '--initial-branch', branch]);
  const commit = async (changes: Record<string, string>, message: string, onBranch?: string): Promise<string> => {
    const current = await git(repo, ['symbolic-ref', '--short', 'HEAD']);
    const target = onBranch ?? current;
    if (target !== current) await git(repo, ['checkout', '--quiet', '-B', target]);
    await writeFiles(repo, changes);
    await git(repo, ['add', '--all']);
    await git(repo, ['commit', '--quiet', '--allow-empty', '-m', message]);
    const sha = await git(repo, ['rev-parse', 'HEAD']);
    if (target !== current) await git(repo, ['checkout', '--quiet', current]);
    return sha;
  };
  return { path: repo, initialCommit: await commit(files, 'initial commit'), commit };
}

function authorized(header: string | undefined, token: string): { user: string } | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0 || decoded.slice(colon + 1) !== token) return undefined;
  return { user: decoded.slice(0, colon) || 'git' };
}

/** Runs `git http-backend` for one request and relays its CGI answer. */
function serveCgi(root: string, request: http.IncomingMessage, response: http.ServerResponse, user: string | undefined): void {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.replace(/^\?/, ''),
    REQUEST_METHOD: request.method ?? 'GET',
    CONTENT_TYPE: request.headers['content-type'] ?? '',
    REMOTE_ADDR: request.socket.remoteAddress ?? '127.0.0.1',
    ...(user === undefined ? {} : { REMOTE_USER: user }),
    ...(request.headers['content-length'] === undefined ? {} : { CONTENT_LENGTH: request.headers['content-length'] }),
  };
  for (const [name, value] of Object.entries(request.headers)) {
    if (name === 'authorization' || typeof value !== 'string') continue;
    env[`HTTP_${name.toUpperCase().replace(/-/g, '_')}`] = value;
  }
  const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'ignore'] });
  request.pipe(child.stdin);
  child.stdin.on('error', () => undefined);

  let head = Buffer.alloc(0);
  let headersDone = false;
  child.stdout.on('data', (chunk: Buffer) => {
    if (headersDone) {
      response.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n') >= 0 ? head.indexOf('\r\n\r\n') + 4 : head.indexOf('\n\n') >= 0 ? head.indexOf('\n\n') + 2 : -1;
    if (end < 0) return;
    headersDone = true;
    let status = 200;
    for (const line of head.subarray(0, end).toString('latin1').split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
      else response.setHeader(name, value);
    }
    response.statusCode = status;
    response.write(head.subarray(end));
  });
  child.on('close', () => {
    if (!headersDone) response.statusCode = 502;
    response.end();
  });
  child.on('error', () => {
    response.statusCode = 500;
    response.end();
  });
}

export async function startGitServer(options: { token?: string } = {}): Promise<GitServer> {
  const root = await mkdtemp(path.join(tmpdir(), 'berth-git-'));
  const server = http.createServer((request, response) => {
    let user: string | undefined;
    if (options.token !== undefined) {
      user = authorized(request.headers.authorization, options.token)?.user;
      if (user === undefined) {
        response.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' });
        response.end();
        request.resume();
        return;
      }
    }
    serveCgi(root, request, response, user);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: (repoName) => `http://127.0.0.1:${port}/${repoName}.git`,
    async createRepo(name, files, branch = 'main') {
      return createTestRepository(path.join(root, `${name}.git`), files, branch);
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(root, { recursive: true, force: true });
    },
  };
}
