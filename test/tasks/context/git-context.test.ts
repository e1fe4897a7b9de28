import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ContextError, type FetchedContext } from '../../../src/tasks/context/context-source.ts';
import { DefaultContextFetcher } from '../../../src/tasks/context/fetcher.ts';
import { UploadedSourceStore } from '../../../src/tasks/context/uploads.ts';
import { closedPort } from './closed-port.ts';
import { startGitServer, type GitServer, type GitTestRepository } from '../../helpers/git-server.ts';

const TOKEN = 'ghp-test-token-4d9c1e';

describe('git contexts', () => {
  let work: string;
  let server: GitServer;
  let repo: GitTestRepository;
  let devCommit: string;
  let mainTip: string;
  let fetcher: DefaultContextFetcher;
  let intoCount = 0;

  before(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'berth-git-context-'));
    server = await startGitServer({ token: TOKEN });
    repo = await server.createRepo('app', {
      Dockerfile: 'FROM busybox\n',
      'web/Dockerfile': 'FROM busybox\nCOPY index.html /www/\n',
      'web/index.html': '<h1>v1</h1>\n',
    });
    devCommit = await repo.commit({ 'web/index.html': '<h1>dev</h1>\n' }, 'dev work', 'dev');
    mainTip = await repo.commit({ 'web/index.html': '<h1>v2</h1>\n' }, 'second release');
    fetcher = new DefaultContextFetcher({
      uploads: new UploadedSourceStore(path.join(work, 'sources')),
      maxContextBytes: 1024 * 1024,
      gitTimeoutMs: 30_000,
    });
  });
  after(async () => {
    await server.stop();
    await rm(work, { recursive: true, force: true });
  });

  async function fetchContext(location: string, accessToken?: string, signal = new AbortController().signal): Promise<{ into: string; fetched: FetchedContext }> {
    const into = path.join(work, `run-${++intoCount}`);
    await mkdir(into);
    const fetched = await fetcher.fetch({ location, into, signal, ...(accessToken === undefined ? {} : { accessToken }) });
    return { into, fetched };
  }

  async function contextError(location: string, accessToken?: string): Promise<ContextError> {
    try {
      await fetchContext(location, accessToken);
    } catch (error) {
      assert.ok(error instanceof ContextError, `expected a ContextError, got ${String(error)}`);
      return error;
    }
    assert.fail(`fetching ${location} succeeded`);
  }

  test('a branch and folder over HTTP with the access token', async () => {
    const { into, fetched } = await fetchContext(`${server.url('app')}#main:web`, TOKEN);
    assert.equal(fetched.dir, path.join(into, 'web'));
    assert.equal(fetched.commit, mainTip);
    assert.equal(fetched.branch, 'main');
    assert.equal(await readFile(path.join(into, 'web', 'index.html'), 'utf8'), '<h1>v2</h1>\n');
    assert.ok(!(await readdir(into)).includes('.git'), 'the .git folder is not part of the context');
  });

  test('no fragment: the default branch at the repository root', async () => {
    const { into, fetched } = await fetchContext(server.url('app'), TOKEN);
    assert.equal(fetched.dir, into);
    assert.equal(fetched.commit, mainTip);
    assert.equal(fetched.branch, 'main');
    assert.ok((await stat(path.join(into, 'Dockerfile'))).isFile());
  });

  test('another branch, and a commit by its SHA', async () => {
    const dev = await fetchContext(`${server.url('app')}#dev:web`, TOKEN);
    assert.equal(dev.fetched.commit, devCommit);
    assert.equal(dev.fetched.branch, 'dev');
    assert.equal(await readFile(path.join(dev.into, 'web', 'index.html'), 'utf8'), '<h1>dev</h1>\n');

    const old = await fetchContext(`${server.url('app')}#${repo.initialCommit}:web`, TOKEN);
    assert.equal(old.fetched.commit, repo.initialCommit);
    assert.equal(old.fetched.branch, undefined);
    assert.equal(await readFile(path.join(old.into, 'web', 'index.html'), 'utf8'), '<h1>v1</h1>\n');
  });

  test('credentials written in the URL are used too', async () => {
    const url = server.url('app').replace('http://', `http://builder:${TOKEN}@`);
    const { fetched } = await fetchContext(`${url}#main`);
    assert.equal(fetched.commit, mainTip);
  });

  test('a wrong token: authentication failed, and the token is never shown', async () => {
    const wrong = 'wrong-token-83b1';
    const error = await contextError(`${server.url('app')}#main:web`, wrong);
    assert.equal(error.message, `authentication failed for ${server.url('app')}`);
    assert.ok(!error.message.includes(wrong));

    const fromUrl = await contextError(`${server.url('app').replace('http://', `http://u:${wrong}@`)}#main`);
    assert.equal(fromUrl.message, `authentication failed for ${server.url('app')}`);
  });

  test('no token for a private repository', async () => {
    const error = await contextError(`${server.url('app')}#main`);
    assert.equal(error.message, `authentication failed for ${server.url('app')} (no access token was given)`);
  });

  test('an unreachable host fails quickly and clearly', async () => {
    const url = `http://127.0.0.1:${closedPort()}/x.git`;
    const started = Date.now();
    const error = await contextError(`${url}#main`, TOKEN);
    assert.match(error.message, new RegExp(`^cannot reach ${url.replace(/[.]/g, '\\.')}: .*(refused|connect)`, 'i'));
    assert.ok(Date.now() - started < 10_000);
  });

  test('an unknown branch, a missing folder, a missing repository', async () => {
    assert.equal(
      (await contextError(`${server.url('app')}#nope:web`, TOKEN)).message,
      `the branch or tag "nope" does not exist in ${server.url('app')}`,
    );
    assert.equal(
      (await contextError(`${server.url('app')}#main:missing`, TOKEN)).message,
      `the folder "missing" does not exist in ${server.url('app')} at main`,
    );
    assert.equal(
      (await contextError(`${server.url('app')}#main:Dockerfile`, TOKEN)).message,
      `the folder "Dockerfile" does not exist in ${server.url('app')} at main`,
    );
    assert.equal(
      (await contextError(`${server.url('ghost')}#main`, TOKEN)).message,
      `the git repository ${server.url('ghost')} does not exist`,
    );
  });

  test('a repository on this machine, as a path or a file URL', async () => {
    const byPath = await fetchContext(`${repo.path}#main:web`);
    assert.equal(byPath.fetched.dir, path.join(byPath.into, 'web'));
    assert.equal(byPath.fetched.commit, mainTip);
    assert.equal(byPath.fetched.branch, 'main');
    assert.equal(await readFile(path.join(byPath.into, 'web', 'index.html'), 'utf8'), '<h1>v2</h1>\n');

    const byUrl = await fetchContext(`file://${repo.path}#dev:web`);
    assert.equal(byUrl.fetched.commit, devCommit);
    assert.equal(await readFile(path.join(byUrl.into, 'web', 'index.html'), 'utf8'), '<h1>dev</h1>\n');

    const bySha = await fetchContext(`${repo.path}#${repo.initialCommit}`);
    assert.equal(bySha.fetched.commit, repo.initialCommit);

    assert.equal(
      (await contextError(`${repo.path}#nope`)).message,
      `the branch or tag "nope" does not exist in ${repo.path}`,
    );
  });

  test('a canceled run stops the fetch with the signal reason', async () => {
    const controller = new AbortController();
    const reason = new Error('run canceled');
    controller.abort(reason);
    await assert.rejects(fetchContext(`${server.url('app')}#main`, TOKEN, controller.signal), (error) => error === reason);
  });

  test('a server that never answers: the clone times out, and a cancel stops it at once', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(silent.address() as { port: number }).port}/stuck.git`;
    try {
      const impatient = new DefaultContextFetcher({
        uploads: new UploadedSourceStore(path.join(work, 'sources')),
        maxContextBytes: 1024 * 1024,
        gitTimeoutMs: 1000,
      });
      const into = path.join(work, `run-${++intoCount}`);
      await mkdir(into);
      let started = Date.now();
      await assert.rejects(
        impatient.fetch({ location: url, into, signal: new AbortController().signal }),
        (error: Error) => error instanceof ContextError && error.message === `fetching ${url} timed out after 1 s`,
      );
      assert.ok(Date.now() - started < 5000);

      const controller = new AbortController();
      const reason = new Error('run canceled');
      setTimeout(() => controller.abort(reason), 300);
      started = Date.now();
      await assert.rejects(fetchContext(url, TOKEN, controller.signal), (error) => error === reason);
      assert.ok(Date.now() - started < 5000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  test('locations that are not contexts', async () => {
    assert.deepEqual(await fetcher.fetch({ location: null, into: work, signal: new AbortController().signal }), { dir: undefined });
    assert.deepEqual(await fetcher.fetch({ location: '/dev/null', into: work, signal: new AbortController().signal }), { dir: undefined });
    const error = await contextError(`https://u:${TOKEN}@example.com/page`);
    assert.match(error.message, /^unsupported context location "https:\/\/example\.com\/page"/);
    assert.ok(!error.message.includes(TOKEN));
  });
});
