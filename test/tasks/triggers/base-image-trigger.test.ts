/**
 * The base-image trigger on a real metadata store (events outbox, recorded base images, runs):
 * what a build records, a tag move firing each dependent task once (also when the events are
 * handed over again after a crash), new tags and unchanged digests firing nothing, the trigger
 * settings, cycles, and external upstreams polled — including one that disappears.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { pino } from 'pino';
import type { ChangeOrigin } from '../../../src/meta/event-store.ts';
import { openMetaStore, type MetaStore, type NewManifest } from '../../../src/meta/index.ts';
import type { NewTask, RunRecord } from '../../../src/meta/task-store.ts';
import { digestOf } from '../../../src/oci/digest.ts';
import { BaseImageDigests } from '../../../src/tasks/triggers/base-image-digests.ts';
import { BaseImageTrigger } from '../../../src/tasks/triggers/base-image-trigger.ts';
import type { TaskTriggers } from '../../../src/tasks/triggers/trigger-config.ts';
import type { ImageUpdateTriggerDetails, TriggeredRun } from '../../../src/tasks/triggers/triggered-runs.ts';

const imageType = 'application/vnd.oci.image.manifest.v1+json';
const BASE = 'baseartifacts.localhost:5000';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A small registry answering manifest GETs for `upstream/node:1`; `content` null answers 404. */
class FakeUpstream {
  content: string | null = JSON.stringify({ schemaVersion: 2, mediaType: imageType, label: 'first' });
  readonly server: Server = createServer((request, response) => {
    if (request.url === '/v2/upstream/node/manifests/1' && this.content !== null) {
      response.writeHead(200, { 'content-type': imageType, 'docker-content-digest': digestOf(Buffer.from(this.content)) });
      response.end(request.method === 'HEAD' ? undefined : this.content);
      return;
    }
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
  });

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  digest(): string {
    return digestOf(Buffer.from(this.content!));
  }
}

describe('the base-image trigger on a real metadata store', () => {
  let dir: string;
  let meta: MetaStore;
  let logLines: string[];
  let queued: Array<{ registry: string; task: string; run: TriggeredRun }>;
  let trigger: BaseImageTrigger;
  let upstream: FakeUpstream;
  let upstreamHost: string;
  let counter = 0;

  const logger = () => pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });
  const makeTrigger = (pollSeconds = 3600) =>
    new BaseImageTrigger({
      events: meta.events,
      triggers: meta.triggers,
      tasks: meta.tasks,
      // Queues a real run, so a run's trigger details (its chain) can be read back.
      runs: {
        async queue(registry, task, run) {
          queued.push({ registry, task, run });
          return meta.tasks.queueRun({ registry, task, runType: 'AutoBuild', trigger: run.trigger, platform: 'linux/amd64', request: {}, triggerDetails: run.details });
        },
      },
      digests: new BaseImageDigests({ manifests: meta, timeoutMs: 2000 }),
      registryOf: async (loginServer) => ({ [BASE]: 'baseartifacts', 'contoso.localhost:5000': 'contoso' })[loginServer],
      logger: logger(),
      pollSeconds,
      eventPollMs: 60_000,
    });

  /** Puts a new manifest under `tags` of `baseartifacts/<repository>`; returns its digest. */
  const push = async (repository: string, tags: string[], origin: ChangeOrigin | null = null): Promise<string> => {
    const layer = Buffer.from(`layer ${++counter}`);
    await meta.linkBlob('baseartifacts', repository, digestOf(layer), layer.length);
    const content = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: imageType, layers: [digestOf(layer)], n: counter }));
    const manifest: NewManifest = {
      registry: 'baseartifacts',
      repository,
      digest: digestOf(content),
      mediaType: imageType,
      artifactType: null,
      subject: null,
      annotations: null,
      content,
      blobs: [digestOf(layer)],
      manifests: [],
      tags,
      origin,
    };
    await meta.putManifest(manifest);
    return manifest.digest;
  };

  const createTask = async (registry: string, name: string, triggers: Partial<TaskTriggers> | null = null) => {
    const task: NewTask = {
      registry,
      name,
      status: 'Enabled',
      platform: 'linux/amd64',
      timeoutSeconds: 600,
      contextPath: '/srv/app#main',
      contextAccessToken: null,
      step: { type: 'Docker', dockerFilePath: 'Dockerfile', imageNames: [`${name}:1`], isPushEnabled: true, noCache: false, arguments: [] },
      credentials: [],
      identityPrincipalId: null,
      triggers,
    };
    await meta.tasks.createTask(task);
  };

  /** A finished manual run of the task that built `dockerfile` (recorded as the engine's hook does). */
  const build = async (registry: string, task: string, dockerfile: string, target?: string): Promise<RunRecord> => {
    const run = await meta.tasks.queueRun({ registry, task, runType: 'AutoBuild', trigger: 'Manual', platform: 'linux/amd64', request: {} });
    await trigger.recordBuild(run, { dockerfileText: dockerfile, buildArgs: [], ...(target !== undefined ? { target } : {}) });
    return run;
  };

  const allEvents = () => meta.events.readAfter(0, 1000);
  const waitFor = async (condition: () => boolean, ms: number) => {
    const deadline = Date.now() + ms;
    while (!condition() && Date.now() < deadline) await sleep(20);
  };

  before(async () => {
    upstream = new FakeUpstream();
    upstreamHost = await upstream.listen();
  });

  after(async () => {
    await new Promise((resolve) => upstream.server.close(resolve));
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-base-image-'));
    meta = await openMetaStore({ url: `sqlite:${join(dir, 'berth.db')}` });
    await meta.createRegistry('baseartifacts');
    await meta.createRegistry('contoso');
    logLines = [];
    queued = [];
    trigger = makeTrigger();
  });

  afterEach(async () => {
    await trigger.stop();
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a build records its base images with the digests their tags point at (external ones read over HTTP)', async () => {
    const base = await push('node', ['15-alpine']);
    await createTask('contoso', 'app');
    await build('contoso', 'app', `FROM ${upstreamHost}/upstream/node:1 AS build\nFROM ${BASE}/node:15-alpine\nCOPY --from=build /a /a\nFROM ${BASE}/missing:1 AS unused\n`, '1');
    const recorded = await meta.triggers.baseImageDependencies('contoso', 'app');
    assert.deepEqual(
      recorded.map(({ loginServer, registry, repository, tag, digest, type }) => ({ loginServer, registry, repository, tag, digest, type })).sort((a, b) => a.repository.localeCompare(b.repository)),
      [
        { loginServer: BASE, registry: 'baseartifacts', repository: 'node', tag: '15-alpine', digest: base, type: 'Runtime' },
        { loginServer: upstreamHost, registry: null, repository: 'upstream/node', tag: '1', digest: upstream.digest(), type: 'BuildTime' },
      ],
    );
  });

  test('a new digest under the tag queues one Image Update run within 2 s; a new tag or the same digest does not', async () => {
    await push('node', ['15-alpine']);
    await createTask('contoso', 'app');
    await build('contoso', 'app', `FROM ${BASE}/node:15-alpine\n`);
    trigger.start();
    await waitFor(() => false, 300);
    assert.equal(queued.length, 0, 'the push before the build fires nothing');

    const started = Date.now();
    const moved = await push('node', ['15-alpine']);
    await waitFor(() => queued.length > 0, 2000);
    assert.ok(Date.now() - started < 2000, `queued after ${Date.now() - started} ms`);
    assert.equal(queued.length, 1);
    const [{ registry, task, run }] = queued as [(typeof queued)[number]];
    assert.deepEqual({ registry, task, trigger: run.trigger }, { registry: 'contoso', task: 'app', trigger: 'Image Update' });
    const details = run.details as ImageUpdateTriggerDetails;
    assert.deepEqual(details.images, [{ loginServer: BASE, repository: 'node', tag: '15-alpine', digest: moved }]);
    assert.deepEqual(details.chain, []);

    await push('node', ['16-alpine']);
    const digest = (await meta.getManifestByTag('baseartifacts', 'node', '15-alpine'))!.digest;
    const again = (await allEvents()).find((event) => event.digest === digest)!;
    await trigger.handleEvents([{ ...again, sequence: 9999, tags: ['15-alpine'] }]);
    await waitFor(() => false, 300);
    assert.equal(queued.length, 1);
  });

  test('events handed over again after a crash queue nothing twice; a restarted consumer fires once', async () => {
    await push('node', ['15-alpine']);
    await createTask('contoso', 'app');
    await build('contoso', 'app', `FROM ${BASE}/node:15-alpine\n`);
    await push('node', ['15-alpine']);

    // Handled, then the process dies before the consumer's cursor is stored.
    await trigger.handleEvents(await allEvents());
    assert.equal(queued.length, 1);
    const restarted = makeTrigger();
    restarted.start();
    await waitFor(() => false, 500);
    await restarted.stop();
    assert.equal(queued.length, 1);
    const runs = await meta.tasks.listRuns('contoso', { task: 'app' });
    assert.deepEqual(runs.map((run) => run.trigger).sort(), ['Image Update', 'Manual']);
  });

  test('a stale event (the tag has moved on since) fires nothing; the newest digest fires once', async () => {
    await push('node', ['15-alpine']);
    await createTask('contoso', 'app');
    await build('contoso', 'app', `FROM ${BASE}/node:15-alpine\n`);
    await push('node', ['15-alpine']);
    const latest = await push('node', ['15-alpine']);
    await trigger.handleEvents(await allEvents());
    await trigger.handleEvents(await allEvents());
    assert.equal(queued.length, 1);
    assert.equal((queued[0]!.run.details as ImageUpdateTriggerDetails).images[0]!.digest, latest);
  });

  test('the trigger settings: disabled, Runtime ignoring build-time bases, All including them', async () => {
    await push('sdk', ['1']);
    await push('node', ['1']);
    const dockerfile = `FROM ${BASE}/sdk:1 AS build\nFROM ${BASE}/node:1\nCOPY --from=build /a /a\n`;
    await createTask('contoso', 'runtime');
    await createTask('contoso', 'all', { baseImage: { enabled: true, type: 'All', name: 'b' } });
    await createTask('contoso', 'off', { baseImage: { enabled: false, type: 'All', name: 'b' } });
    for (const task of ['runtime', 'all', 'off']) await build('contoso', task, dockerfile);

    await push('sdk', ['1']);
    await trigger.handleEvents(await allEvents());
    assert.deepEqual(queued.map((entry) => entry.task), ['all']);
    await push('node', ['1']);
    await trigger.handleEvents(await allEvents());
    assert.deepEqual(queued.map((entry) => entry.task).sort(), ['all', 'all', 'runtime']);
  });

  test('a cycle ends: a task already upstream in the chain is not queued again, with a log line', async () => {
    // a builds baseartifacts/a-base FROM b-base; b builds b-base FROM a-base.
    await push('a-base', ['1']);
    await push('b-base', ['1']);
    await createTask('baseartifacts', 'a');
    await createTask('baseartifacts', 'b');
    const manual = await build('baseartifacts', 'a', `FROM ${BASE}/b-base:1\n`);
    await build('baseartifacts', 'b', `FROM ${BASE}/a-base:1\n`);

    const byRun = (run: RunRecord): ChangeOrigin => ({ requestId: 'r', host: BASE, method: 'PUT', userAgent: 'buildah', run: { registry: run.registry, runId: run.runId } });
    // a's manual run pushes a-base: b runs, with chain [a].
    await push('a-base', ['1'], byRun(manual));
    await trigger.handleEvents(await allEvents());
    assert.deepEqual(queued.map((entry) => [entry.task, (entry.run.details as ImageUpdateTriggerDetails).chain]), [['b', ['baseartifacts/a']]]);
    // b's triggered run pushes b-base: a is upstream already, so nothing more runs.
    const bRun = (await meta.tasks.listRuns('baseartifacts', { task: 'b', top: 1 }))[0]!;
    assert.equal(bRun.trigger, 'Image Update');
    await push('b-base', ['1'], byRun(bRun));
    await trigger.handleEvents(await allEvents());
    assert.equal(queued.length, 1);
    assert.ok(logLines.some((line) => line.includes('base-image trigger cycle: baseartifacts/a -> baseartifacts/b -> baseartifacts/a')), logLines.join('\n'));
  });

  test('an external upstream is polled: a moved tag fires once; one that disappears is logged and fires nothing', async () => {
    upstream.content = JSON.stringify({ schemaVersion: 2, mediaType: imageType, label: 'first' });
    await createTask('contoso', 'app');
    await build('contoso', 'app', `FROM ${upstreamHost}/upstream/node:1\n`);
    await trigger.pollExternal();
    assert.equal(queued.length, 0);

    upstream.content = JSON.stringify({ schemaVersion: 2, mediaType: imageType, label: 'second' });
    await trigger.pollExternal();
    await trigger.pollExternal();
    assert.equal(queued.length, 1);
    assert.deepEqual((queued[0]!.run.details as ImageUpdateTriggerDetails).images, [{ loginServer: upstreamHost, repository: 'upstream/node', tag: '1', digest: upstream.digest() }]);

    upstream.content = null;
    await trigger.pollExternal();
    await trigger.pollExternal();
    assert.equal(queued.length, 1);
    assert.equal(logLines.filter((line) => line.includes(`base image ${upstreamHost}/upstream/node:1 is unavailable`)).length, 1, logLines.join('\n'));

    upstream.content = JSON.stringify({ schemaVersion: 2, mediaType: imageType, label: 'third' });
    await trigger.pollExternal();
    assert.equal(queued.length, 2);
    assert.ok(logLines.some((line) => line.includes('is available again')));
  });

  test('the poll loop picks up an external move by itself', async () => {
    upstream.content = JSON.stringify({ schemaVersion: 2, mediaType: imageType, label: 'loop-1' });
    await createTask('contoso', 'app');
    await build('contoso', 'app', `FROM ${upstreamHost}/upstream/node:1\n`);
    trigger = makeTrigger(0.2);
    trigger.start();
    upstream.content = JSON.stringify({ schemaVersion: 2, mediaType: imageType, label: 'loop-2' });
    await waitFor(() => queued.length > 0, 3000);
    assert.equal(queued.length, 1);
    await waitFor(() => false, 500);
    assert.equal(queued.length, 1, 'later polls of the same digest fire nothing');
  });

  test('an unreachable external upstream fires nothing and is logged', async () => {
    const gone = new FakeUpstream();
    const goneHost = await gone.listen();
    await createTask('contoso', 'app');
    await build('contoso', 'app', `FROM ${goneHost}/upstream/node:1\n`);
    await new Promise((resolve) => gone.server.close(resolve));
    await trigger.pollExternal();
    assert.equal(queued.length, 0);
    assert.ok(logLines.some((line) => line.includes(`base image ${goneHost}/upstream/node:1 is unavailable`)));
  });
});
