/**
 * The run engine's build hook for the base-image trigger: a task run's successful build hands over
 * its Dockerfile, build arguments and target; quick builds hand over nothing; a failing hook is a
 * warning in the log, never the run's failure.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { openMetaStore, type MetaStore } from '../../../src/meta/index.ts';
import type { RunRecord } from '../../../src/meta/task-store.ts';
import type { ContextRequest } from '../../../src/tasks/context/context-source.ts';
import { RunEngine, type BuiltDockerfile } from '../../../src/tasks/engine/run-engine.ts';
import type { RunRequest } from '../../../src/tasks/engine/run-request.ts';
import { RunLogs } from '../../../src/tasks/run-log.ts';
import { FakeExecutor, FakeVault, jsonTaskFiles } from '../engine/fakes.ts';

const DOCKERFILE = 'ARG REGISTRY=contoso.localhost:5000\nFROM ${REGISTRY}/base:1\n';

describe('the run engine hands successful task builds to onBuilt', () => {
  let dir: string;
  let meta: MetaStore;
  let built: Array<{ run: RunRecord; build: BuiltDockerfile }>;
  let failing: boolean;
  let engine: RunEngine;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'berth-build-hook-'));
    meta = await openMetaStore({ url: `sqlite:${path.join(dir, 'berth.db')}` });
    await meta.createRegistry('contoso');
    built = [];
    failing = false;
    engine = new RunEngine({
      store: meta.tasks,
      logs: new RunLogs(meta.tasks, { flushMs: 20, pollMs: 100 }),
      executor: new FakeExecutor(),
      contexts: {
        async fetch(request: ContextRequest) {
          await writeFile(path.join(request.into, 'app.Dockerfile'), DOCKERFILE);
          return { dir: request.into };
        },
      },
      uploads: { save: async () => 'upload:x', remove: async () => {} },
      vault: new FakeVault(),
      taskFiles: jsonTaskFiles,
      runCredentials: () => ({ username: 'run-user', password: 'run-password', revoke: () => {} }),
      installation: {
        loginServer: (registry) => `${registry}.localhost:5000`,
        endpoints: async () => [],
        registryOf: async () => undefined,
        serverUrl: () => 'http://127.0.0.1:5000',
        caFile: undefined,
      },
      workRoot: dir,
      onBuilt: async (run, build) => {
        if (failing) throw new Error('the trigger store is unavailable');
        built.push({ run, build });
      },
    });
  });

  afterEach(async () => {
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  const execute = async (task: string | null): Promise<RunRecord> => {
    const request: RunRequest = {
      version: 1,
      source: '/srv/app#main',
      sourceAccessToken: null,
      work: { kind: 'build', dockerfile: 'app.Dockerfile', imageNames: ['app:1'], buildArgs: [{ name: 'REGISTRY', value: 'other.localhost:5000', isSecret: false }], target: 'final', noPush: true, noCache: false },
      values: [],
      credentials: [],
      identity: { kind: 'user', id: 'u1', name: 'alice', owner: false },
      caller: null,
      taskName: task ?? 'quickrun',
      timeoutSeconds: 600,
      detachedOwner: null,
    };
    await meta.tasks.queueRun({ registry: 'contoso', task, runType: task ? 'AutoBuild' : 'QuickBuild', trigger: 'Manual', platform: 'linux/amd64', request });
    const run = (await meta.tasks.claimRun('test-worker'))!;
    await engine.execute(run, new AbortController().signal);
    return (await meta.tasks.getRun('contoso', run.runId))!;
  };
  const logOf = async (run: RunRecord) => (await meta.tasks.readRunLog('contoso', run.runId, 0)).map((chunk) => chunk.text).join('');

  test('a task run’s build: the Dockerfile text, the build arguments and the target', async () => {
    const run = await execute('teamapp');
    assert.equal(run.status, 'Succeeded');
    assert.equal(built.length, 1);
    assert.equal(built[0]!.run.runId, run.runId);
    assert.deepEqual(built[0]!.build, { dockerfileText: DOCKERFILE, buildArgs: [['REGISTRY', 'other.localhost:5000']], target: 'final' });
  });

  test('a quick build hands over nothing', async () => {
    assert.equal((await execute(null)).status, 'Succeeded');
    assert.deepEqual(built, []);
  });

  test('a failing hook leaves the run Succeeded, with a warning in its log', async () => {
    failing = true;
    const run = await execute('teamapp');
    assert.equal(run.status, 'Succeeded');
    assert.match(await logOf(run), /Warning: the base images of this build were not recorded: the trigger store is unavailable/);
  });
});
