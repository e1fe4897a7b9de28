/**
 * The base-image trigger end to end against a real in-process Berth, with the real run engine and
 * executor (buildah): a task's manual run records what it builds FROM; a new digest under that tag
 * runs it again with trigger `Image Update` within 2 s, a new tag does not; a chain
 * upstream → base → app flows through; a cycle of two tasks stops after one round.
 *
 * The server runs with its own task worker off; the test composes the engine with the trigger's
 * build hook on the server's metadata store, as a node with triggers would.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { createAuth } from '../../../src/auth/index.ts';
import type { Principal } from '../../../src/auth/principal.ts';
import { issueRunCredential } from '../../../src/auth/run-credentials.ts';
import { installationRegistryResolver } from '../../../src/import/installation-hosts.ts';
import type { MetaStore } from '../../../src/meta/meta-store.ts';
import type { RunRecord } from '../../../src/meta/task-store.ts';
import { DefaultContextFetcher } from '../../../src/tasks/context/fetcher.ts';
import { UploadedSourceStore } from '../../../src/tasks/context/uploads.ts';
import type { Installation } from '../../../src/tasks/engine/installation.ts';
import { RunEngine } from '../../../src/tasks/engine/run-engine.ts';
import { taskFileLoader } from '../../../src/tasks/engine/task-file-loader.ts';
import { RunLogs } from '../../../src/tasks/run-log.ts';
import { BaseImageDigests } from '../../../src/tasks/triggers/base-image-digests.ts';
import { BaseImageTrigger, taskCredentialResolver } from '../../../src/tasks/triggers/base-image-trigger.ts';
import type { ImageUpdateTriggerDetails } from '../../../src/tasks/triggers/triggered-runs.ts';
import { RunWorker } from '../../../src/tasks/worker.ts';
import { OWNER, startTestBerth, type TestBerth } from '../../helper.ts';
import { makeTempDir, removeTempDir, run, startAll } from '../../helpers/exec.ts';
import { skopeoCopy, testImages, type TestImages } from '../../helpers/images.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const finished = (run: RunRecord | undefined) => run !== undefined && !['Queued', 'Running'].includes(run.status);

describe('base-image triggers with real builds', () => {
  let server: TestBerth;
  let images: TestImages;
  let meta: MetaStore;
  let worker: RunWorker;
  let trigger: BaseImageTrigger;
  let owner: Principal;
  let registry: string;
  let work: string;
  const logLines: string[] = [];
  const creds = `${OWNER.username}:${OWNER.password}`;

  /** A local git repository holding `files`, as a task context `<dir>#main`. */
  const repository = async (name: string, files: Record<string, string>): Promise<string> => {
    const dir = join(work, name);
    await mkdir(dir, { recursive: true });
    for (const [file, text] of Object.entries(files)) await writeFile(join(dir, file), text);
    const git = (...args: string[]) => run('git', ['-C', dir, ...args]);
    await git('init', '-q', '-b', 'main');
    await git('add', '.');
    await git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'init');
    return `${dir}#main`;
  };

  const createTask = async (name: string, from: string, imageNames: string[]) => {
    const context = await repository(name, { Dockerfile: `ARG REGISTRY=${registry}\nFROM \${REGISTRY}/${from}\nCOPY marker.txt /${name}.txt\n`, 'marker.txt': name });
    await server.berth.tasks.service.createTask('contoso', { name, contextPath: context, imageNames, assignIdentity: true }, owner);
  };

  const runsOf = (task: string) => meta.tasks.listRuns('contoso', { task });
  const waitForRun = async (runId: string, ms = 120_000): Promise<RunRecord> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const current = await meta.tasks.getRun('contoso', runId);
      if (finished(current) || Date.now() > deadline) return current!;
      await sleep(100);
    }
  };
  /** Waits until the task has `count` runs (bounded), then until all are finished. */
  const waitForRuns = async (task: string, count: number, ms = 180_000): Promise<RunRecord[]> => {
    const deadline = Date.now() + ms;
    let runs = await runsOf(task);
    while ((runs.length < count || !runs.every(finished)) && Date.now() < deadline) {
      await sleep(200);
      runs = await runsOf(task);
    }
    return runs;
  };
  const manualRun = async (task: string): Promise<RunRecord> => {
    const view = await server.berth.tasks.service.runTask('contoso', task, {}, owner);
    const done = await waitForRun(view.runId);
    assert.equal(done.status, 'Succeeded', done.errorMessage ?? '');
    return done;
  };
  const pushBase = (source: string, target: string, flags: string[] = []) => skopeoCopy(source, `docker://${registry}/${target}`, ['--dest-creds', creds, ...flags]);

  before(async () => {
    await startAll(
      startTestBerth({ tasks: { enabled: false, workers: 2, maxContextMiB: 64, pollMilliseconds: 1000 } }).then((started) => (server = started)),
      testImages().then((built) => (images = built)),
      makeTempDir('berth-base-image-runs-').then((dir) => (work = dir)),
    );
    const created = await server.request('/mgmt/v1/registries', { method: 'POST', body: JSON.stringify({ name: 'contoso' }), headers: { 'content-type': 'application/json' } });
    assert.equal(created.status, 201);
    const suffix = `:${new URL(server.url).port}`;
    registry = `contoso.localhost${suffix}`;
    const users = (await (await server.request('/mgmt/v1/users')).json()) as { value: { username: string; principalId: string }[] };
    const user = users.value.find((candidate) => candidate.username === OWNER.username)!;
    owner = { kind: 'user', id: user.principalId, name: user.username, owner: true };

    // The server's own store: the trigger is woken by the commits of its pushes.
    meta = server.berth.meta;
    const auth = await createAuth({ meta, secretKeyFile: join(server.dataDir, 'secret.key'), throttle: server.berth.config.auth.throttle });
    const directory = server.berth.directory;
    const registryOf = installationRegistryResolver(directory, () => suffix, '127.0.0.1');
    const installation: Installation = {
      loginServer: (name) => `${directory.loginServer(name)}${suffix}`,
      endpoints: async () => ['contoso.localhost', 'localhost'].map((host) => ({ loginServer: `${host}${suffix}`, insecure: true, hostAddress: '127.0.0.1' })),
      registryOf,
      serverUrl: () => server.url,
      caFile: undefined,
    };
    const { service, vault, executor } = server.berth.tasks;
    trigger = new BaseImageTrigger({
      events: meta.events,
      triggers: meta.triggers,
      tasks: meta.tasks,
      runs: {
        async queue(registryName, name, triggered) {
          const task = await meta.tasks.getTask(registryName, name);
          if (!task || task.status === 'Disabled') return undefined;
          const queued = await service.queueTaskRun(task, { trigger: triggered.trigger, caller: null, values: [], triggerDetails: triggered.details });
          worker.wake();
          return queued;
        },
      },
      digests: new BaseImageDigests({ manifests: meta }),
      registryOf,
      credentialsFor: taskCredentialResolver(vault),
      logger: pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) }),
    });
    const uploads = new UploadedSourceStore(join(work, 'sources'));
    const engine = new RunEngine({
      store: meta.tasks,
      logs: new RunLogs(meta.tasks),
      executor,
      contexts: new DefaultContextFetcher({ uploads, maxContextBytes: 64 * 1024 * 1024 }),
      uploads,
      vault,
      taskFiles: taskFileLoader,
      runCredentials: (request) => issueRunCredential(auth.tokens, request),
      installation,
      workRoot: await makeTempDir('berth-base-image-work-'),
      onBuilt: (builtRun, build) => trigger.recordBuild(builtRun, build),
    });
    worker = new RunWorker({ store: meta.tasks, engine, concurrency: 2, pollMs: 200, cancelPollMs: 500, workerId: 'base-image-runs-test' });
    await executor.cleanUp();
    await worker.start();
    trigger.start();
  });

  after(async () => {
    await trigger?.stop();
    await worker?.stop();
    await server?.close();
    if (work) await removeTempDir(work);
  });

  test('a new digest under the base tag runs the task with trigger Image Update within 2 s; a new tag does not', async () => {
    await pushBase(images.single.ref, 'base:1');
    await createTask('teamapp', 'base:1', ['teamapp:{{.Run.ID}}']);
    await manualRun('teamapp');
    const recorded = await meta.triggers.baseImageDependencies('contoso', 'teamapp');
    assert.deepEqual(
      recorded.map(({ registry: owner, repository, tag, type }) => ({ owner, repository, tag, type })),
      [{ owner: 'contoso', repository: 'base', tag: '1', type: 'Runtime' }],
    );

    await pushBase(images.ociIndex.ref, 'base:1', ['--all']);
    const pushed = Date.now();
    let triggered: RunRecord | undefined;
    while (!triggered && Date.now() - pushed < 5000) {
      triggered = (await runsOf('teamapp')).find((candidate) => candidate.trigger === 'Image Update');
      if (!triggered) await sleep(20);
    }
    assert.ok(triggered, 'a run was queued');
    assert.ok(Date.parse(triggered.createTime) - pushed < 2000, `queued ${Date.parse(triggered.createTime) - pushed} ms after the push`);
    const details = triggered.triggerDetails as ImageUpdateTriggerDetails;
    assert.deepEqual(details.images.map((image) => [image.loginServer, image.repository, image.tag, image.digest]), [[registry, 'base', '1', images.ociIndex.digest]]);
    assert.equal((await waitForRun(triggered.runId)).status, 'Succeeded');

    await pushBase(images.single.ref, 'base:2');
    await sleep(1500);
    assert.equal((await runsOf('teamapp')).length, 2, 'a new tag fires nothing');
  });

  test('a chain flows through: upstream → baseimg (pushes base-chain:1) → app', async () => {
    await pushBase(images.single.ref, 'upstream:1');
    await createTask('baseimg', 'upstream:1', ['base-chain:1']);
    await manualRun('baseimg');
    await createTask('appchain', 'base-chain:1', ['appchain:{{.Run.ID}}']);
    await manualRun('appchain');

    await pushBase(images.ociIndex.ref, 'upstream:1', ['--all']);
    const base = await waitForRuns('baseimg', 2);
    const app = await waitForRuns('appchain', 2);
    assert.deepEqual(base.map((each) => `${each.trigger} ${each.status}`), ['Image Update Succeeded', 'Manual Succeeded']);
    assert.deepEqual(app.map((each) => `${each.trigger} ${each.status}`), ['Image Update Succeeded', 'Manual Succeeded']);
    assert.deepEqual((app[0]!.triggerDetails as ImageUpdateTriggerDetails).chain, ['contoso/baseimg']);
  });

  test('a cycle (each task builds the other one’s base) stops after one round, with a log line', async () => {
    await pushBase(images.single.ref, 'cycle-a:1');
    await pushBase(images.single.ref, 'cycle-b:1');
    // cyclea builds cycle-a:1 FROM cycle-b:1; cycleb builds cycle-b:1 FROM cycle-a:1.
    await createTask('cyclea', 'cycle-b:1', ['cycle-a:1']);
    await createTask('cycleb', 'cycle-a:1', ['cycle-b:1']);
    // cycleb's manual run records its base, then pushes cycle-b:1 — its dependency cyclea is not recorded yet.
    await manualRun('cycleb');
    // cyclea's manual run pushes cycle-a:1: cycleb runs (chain [cyclea]) and pushes cycle-b:1, which would run cyclea again.
    await manualRun('cyclea');

    const deadline = Date.now() + 60_000;
    while (!logLines.some((line) => line.includes('base-image trigger cycle')) && Date.now() < deadline) await sleep(200);
    await sleep(2000);
    const a = await waitForRuns('cyclea', 1);
    const b = await waitForRuns('cycleb', 2);
    assert.deepEqual(a.map((each) => each.trigger), ['Manual']);
    assert.deepEqual(b.map((each) => `${each.trigger} ${each.status}`), ['Image Update Succeeded', 'Manual Succeeded']);
    assert.ok(logLines.some((line) => line.includes('base-image trigger cycle: contoso/cyclea -> contoso/cycleb -> contoso/cyclea')), logLines.join('\n'));
  });
});
