/**
 * Git contexts and commit polling over ssh, against a real sshd on a loopback port: the task's git
 * access token is the SSH private key; clones honour `#branch:folder` and commits; a wrong, missing
 * or malformed key, an unreachable host and a changed host key fail with clear messages that never
 * hold key material; the key file exists only while git runs.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import type { RunRecord, TaskRecord } from '../../../src/meta/task-store.ts';
import { ContextError } from '../../../src/tasks/context/context-source.ts';
import { DefaultContextFetcher } from '../../../src/tasks/context/fetcher.ts';
import { fetchGitContext } from '../../../src/tasks/context/git-context.ts';
import { parseGitLocation } from '../../../src/tasks/context/git-location.ts';
import { locationKind } from '../../../src/tasks/context/location-kind.ts';
import { UploadedSourceStore } from '../../../src/tasks/context/uploads.ts';
import { GitCommitPoller } from '../../../src/tasks/triggers/git-poller.ts';
import type { TriggeredRun, TriggeredRuns } from '../../../src/tasks/triggers/triggered-runs.ts';
import type { GitTestRepository } from '../../helpers/git-server.ts';
import { generateSshKey, startSshGitServer, type SshGitServer, type SshKeyPair } from '../../helpers/ssh-git-server.ts';
import { closedPort } from './closed-port.ts';
import { MemoryCursors } from '../../helpers/memory-cursors.ts';

describe('ssh git locations', () => {
  test('ssh:// URLs and the scp-like form are git locations', async () => {
    assert.deepEqual(parseGitLocation('ssh://git@git.example.com:2222/srv/team/app.git#main:src/web'), {
      url: 'ssh://git@git.example.com:2222/srv/team/app.git',
      display: 'ssh://git@git.example.com:2222/srv/team/app.git',
      ref: 'main',
      refIsCommit: false,
      folder: 'src/web',
    });
    assert.deepEqual(parseGitLocation('git@github.com:team/app.git#dev:docker'), {
      url: 'git@github.com:team/app.git',
      display: 'git@github.com:team/app.git',
      ref: 'dev',
      refIsCommit: false,
      folder: 'docker',
    });
    assert.equal(await locationKind('ssh://host/srv/app.git'), 'git');
    assert.equal(await locationKind('git@github.com:team/app.git#main'), 'git');
    assert.equal(await locationKind('team/app.git'), 'unsupported');
  });

  test('passwords and option-like hosts are refused', () => {
    assert.throws(() => parseGitLocation('ssh://git:hunter2@host/app.git'), (error: Error) => {
      assert.ok(error instanceof ContextError);
      assert.match(error.message, /private key/);
      assert.doesNotMatch(error.message, /hunter2/);
      return true;
    });
    assert.throws(() => parseGitLocation('ssh://-oProxyCommand=x/app.git'), /not a valid ssh URL/);
    assert.throws(() => parseGitLocation('ssh://host'), /not a valid ssh URL/);
  });
});

class RecordingRuns implements TriggeredRuns {
  readonly queued: Array<{ task: string; run: TriggeredRun }> = [];
  constructor(readonly tasks: TaskRecord[]) {}
  async queue(registry: string, task: string, run: TriggeredRun): Promise<RunRecord | undefined> {
    this.queued.push({ task, run });
    return { registry, runId: `ca${this.queued.length}` } as RunRecord;
  }
  async allTasks(): Promise<TaskRecord[]> {
    return this.tasks;
  }
}

const vault = {
  unseal: (sealed: string): string => sealed.replace(/^sealed:/, ''),
  isReference: (): boolean => false,
  resolve: async (reference: string): Promise<string> => reference,
};

function taskOn(name: string, contextPath: string, key: string | undefined): TaskRecord {
  return {
    registry: 'contoso',
    name,
    status: 'Enabled',
    platform: 'linux/amd64',
    timeoutSeconds: 600,
    contextPath,
    contextAccessToken: key === undefined ? null : `sealed:${key}`,
    step: { type: 'EncodedTask', taskFileContent: 'steps: []\n', values: [] },
    credentials: [],
    identityPrincipalId: null,
    triggers: {
      source: { enabled: true, pollIntervalSeconds: 1, webhookSecret: 'sealed:s3cret' },
      baseImage: { enabled: false, type: 'Runtime', name: 'defaultBaseimageTriggerName' },
      timers: [],
    },
    createdAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
  } as TaskRecord;
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The body of a private key (its base64 lines), which no message may contain any part of. */
function keyLines(key: SshKeyPair): string[] {
  return key.privateKey.split('\n').filter((line) => line.length > 20 && !line.startsWith('-----'));
}

describe('git contexts over ssh', () => {
  let work: string;
  let server: SshGitServer;
  let repo: GitTestRepository;
  let devCommit: string;
  let otherKey: SshKeyPair;
  let fetcher: DefaultContextFetcher;
  let runCount = 0;

  before(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'berth-git-ssh-'));
    server = await startSshGitServer();
    otherKey = await generateSshKey(work, 'stranger');
    repo = await server.createRepo('app', {
      Dockerfile: 'FROM busybox\n',
      'web/Dockerfile': 'FROM busybox\nCOPY index.html /www/\n',
      'web/index.html': '<h1>main</h1>\n',
    });
    devCommit = await repo.commit({ 'web/index.html': '<h1>dev</h1>\n' }, 'dev work', 'dev');
    fetcher = new DefaultContextFetcher({
      uploads: new UploadedSourceStore(path.join(work, 'sources')),
      maxContextBytes: 1024 * 1024,
      gitTimeoutMs: 30_000,
    });
  });
  after(async () => {
    await server?.stop();
    await rm(work, { recursive: true, force: true });
  });

  async function freshFolder(): Promise<string> {
    const into = path.join(work, `run-${++runCount}`);
    await mkdir(into);
    return into;
  }

  async function contextError(location: string, accessToken: string | undefined): Promise<ContextError> {
    try {
      await fetcher.fetch({ location, into: await freshFolder(), signal: new AbortController().signal, ...(accessToken === undefined ? {} : { accessToken }) });
    } catch (error) {
      assert.ok(error instanceof ContextError, `expected a ContextError, got ${String(error)}`);
      for (const line of [...keyLines(server.clientKey), ...keyLines(otherKey)]) assert.ok(!error.message.includes(line), 'the message holds key material');
      assert.doesNotMatch(error.message, /PRIVATE KEY/);
      return error;
    }
    assert.fail(`fetching ${location} succeeded`);
  }

  const sshKeyFolders = async (): Promise<string[]> => (await readdir(tmpdir())).filter((name) => name.startsWith('berth-ssh-') && !name.startsWith('berth-ssh-git'));

  test('a branch and folder are cloned with the right key, and the key file is gone afterwards', async () => {
    const before = new Set(await sshKeyFolders());
    const fetched = await fetcher.fetch({
      location: `${server.url(repo.path)}#dev:web`,
      into: await freshFolder(),
      accessToken: server.clientKey.privateKey,
      signal: new AbortController().signal,
    });
    assert.equal(fetched.commit, devCommit);
    assert.equal(fetched.branch, 'dev');
    assert.ok(fetched.dir);
    assert.deepEqual((await readdir(fetched.dir)).sort(), ['Dockerfile', 'index.html']);
    assert.equal(await readFile(path.join(fetched.dir, 'index.html'), 'utf8'), '<h1>dev</h1>\n');
    assert.deepEqual((await sshKeyFolders()).filter((name) => !before.has(name)), [], 'a temporary key folder was left behind');
  });

  test('a commit by its SHA and the default branch', async () => {
    const pinned = await fetcher.fetch({
      location: `${server.url(repo.path)}#${devCommit}:web`,
      into: await freshFolder(),
      accessToken: server.clientKey.privateKey,
      signal: new AbortController().signal,
    });
    assert.equal(pinned.commit, devCommit);
    assert.equal(pinned.branch, undefined);
    const tip = await fetcher.fetch({ location: server.url(repo.path), into: await freshFolder(), accessToken: server.clientKey.privateKey, signal: new AbortController().signal });
    assert.equal(tip.commit, repo.initialCommit);
    assert.equal(tip.branch, 'main');
  });

  test('the host key is recorded on first use and a different one is refused', async () => {
    const knownHostsFile = path.join(work, 'engine', 'ssh_known_hosts');
    const location = parseGitLocation(`${server.url(repo.path)}#main`);
    const options = { git: 'git', accessToken: server.clientKey.privateKey, knownHostsFile, signal: new AbortController().signal, timeoutMs: 30_000 };
    await fetchGitContext(location, { ...options, into: await freshFolder() });
    assert.match(await readFile(knownHostsFile, 'utf8'), new RegExp(`^\\[127\\.0\\.0\\.1\\]:${server.port} ssh-ed25519 `, 'm'));
    await fetchGitContext(location, { ...options, into: await freshFolder() });

    const impostor = otherKey.publicKey.split(' ').slice(0, 2).join(' ');
    await writeFile(knownHostsFile, `[127.0.0.1]:${server.port} ${impostor}\n`);
    await assert.rejects(fetchGitContext(location, { ...options, into: await freshFolder() }), (error: Error) => {
      assert.ok(error instanceof ContextError);
      assert.match(error.message, /SSH host key of ssh:\/\/root@127\.0\.0\.1:\d+\/.* differs/);
      return true;
    });
  });

  test('a wrong key, no key and a token that is no key fail clearly, without key material', async () => {
    const location = `${server.url(repo.path)}#main`;
    const wrong = await contextError(location, otherKey.privateKey);
    assert.equal(wrong.message, `authentication failed for ${server.url(repo.path)}`);
    const none = await contextError(location, undefined);
    assert.equal(none.message, `authentication failed for ${server.url(repo.path)} (no SSH private key was given as the git access token)`);
    const notKey = await contextError(location, 'ghp-not-a-key-1234');
    assert.match(notKey.message, /is not an SSH private key/);
    assert.doesNotMatch(notKey.message, /ghp-not-a-key/);
    const broken = await contextError(location, server.clientKey.privateKey.replace(/^([A-Za-z0-9+/]{20})/m, 'AAAAAAAAAAAAAAAAAAAA'));
    assert.match(broken.message, /authentication failed|not a usable SSH private key/);
  });

  test('an unreachable host and a missing repository', async () => {
    const port = closedPort();
    const unreachable = await contextError(`ssh://root@127.0.0.1:${port}${repo.path}#main`, server.clientKey.privateKey);
    assert.equal(unreachable.message, `cannot reach ssh://root@127.0.0.1:${port}${repo.path}: connect to host 127.0.0.1 port ${port}: Connection refused`);
    const missing = await contextError(`${server.url('/srv/no-such-repo.git')}#main`, server.clientKey.privateKey);
    assert.equal(missing.message, `the git repository ${server.url('/srv/no-such-repo.git')} does not exist`);
    const branch = await contextError(`${server.url(repo.path)}#no-such-branch`, server.clientKey.privateKey);
    assert.match(branch.message, /the branch or tag "no-such-branch" does not exist/);
  });

  test('the commit poller follows a branch over ssh, and logs a wrong key without key material', async () => {
    const chunks: string[] = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          chunks.push(chunk.toString('utf8'));
          done();
        },
      }),
    );
    const cursors = new MemoryCursors();
    const runs = new RecordingRuns([
      taskOn('over-ssh', `${server.url(repo.path)}#main:web`, server.clientKey.privateKey),
      taskOn('wrong-key', `${server.url(repo.path)}#main`, otherKey.privateKey),
    ]);
    const poller = new GitCommitPoller({
      triggers: cursors,
      runs,
      vault,
      tickMs: 100,
      logger,
      sshKnownHostsFile: path.join(work, 'poller', 'ssh_known_hosts'),
    });
    poller.start();
    try {
      await until(() => cursors.cursors.get('contoso/over-ssh') === repo.initialCommit, 10_000, 'the first head');
      const next = await repo.commit({ 'web/index.html': '<h1>v2</h1>\n' }, 'new work');
      await until(() => runs.queued.length > 0, 10_000, 'the new commit to queue a run');
      assert.deepEqual(runs.queued, [
        {
          task: 'over-ssh',
          run: { trigger: 'Commit', details: { eventType: 'commit', commitId: next, branchName: 'main', repositoryUrl: server.url(repo.path), providerType: 'Poll' } },
        },
      ]);
      await until(() => chunks.join('').includes('authentication failed'), 10_000, 'the wrong key to be logged');
    } finally {
      await poller.stop();
    }
    const logged = chunks.join('');
    assert.match(logged, new RegExp(`authentication failed for ${server.url(repo.path).replace(/[.]/g, '\\.')}`));
    for (const line of [...keyLines(server.clientKey), ...keyLines(otherKey)]) assert.ok(!logged.includes(line), 'the log holds key material');
    assert.equal(cursors.cursors.get('contoso/wrong-key'), undefined);
  });
});
