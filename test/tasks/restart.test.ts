/**
 * A server killed with -9 while a run is in progress: after the restart the run is marked Error
 * (never lost, never left Running), what it left behind (its storage, its container) is removed,
 * and new runs work.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ownerAuthorization, startBerth, type BerthProcess } from '../helpers/berth-process.ts';
import { run } from '../helpers/exec.ts';
import { skopeoCopy, testImages } from '../helpers/images.ts';

interface RunView {
  runId: string;
  status: string;
  runErrorMessage: string | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('task runs across a kill -9 of the server', () => {
  let berth: BerthProcess;
  let registryHost: string;

  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${berth.url}/mgmt/v1${path}`, {
      method,
      headers: { authorization: ownerAuthorization(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as T;
  };
  const quickRun = (cmd: string) => api<RunView>('POST', '/registries/contoso/runs', { type: 'QuickRun', sourceLocation: null, cmd });
  const waitFor = async (runId: string, done: (view: RunView) => boolean, timeoutMs: number): Promise<RunView> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const view = await api<RunView>('GET', `/registries/contoso/runs/${runId}`);
      if (done(view) || Date.now() > deadline) return view;
      await sleep(200);
    }
  };

  before(async () => {
    berth = await startBerth();
    registryHost = await berth.createRegistry('contoso');
    const images = await testImages();
    await skopeoCopy(images.single.ref, `docker://${registryHost}/base:1`, ['--dest-creds', berth.creds]);
  });
  after(async () => berth?.stop());

  test('the interrupted run becomes Error, its leftovers are removed, and the next run succeeds', async () => {
    const queued = await quickRun(`${registryHost}/base:1 sh -c "echo started; sleep 317"`);
    const running = await waitFor(queued.runId, (view) => view.status === 'Running', 60_000);
    assert.equal(running.status, 'Running');
    // Wait until the step's container is up, so the crash leaves one behind.
    const runsDir = join(berth.dataDir, 'tasks', 'runs');
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const log = await fetch(`${berth.url}/mgmt/v1/registries/contoso/runs/${queued.runId}/log`, { headers: { authorization: ownerAuthorization() } });
      if ((await log.text()).includes('started')) break;
      await sleep(200);
    }
    assert.equal((await readdir(runsDir)).length, 1);

    await berth.kill9();
    await berth.restart();

    const after = await waitFor(queued.runId, (view) => view.status !== 'Running', 10_000);
    assert.equal(after.status, 'Error');
    assert.match(after.runErrorMessage ?? '', /restarted/);
    assert.deepEqual(await readdir(runsDir), [], 'the crashed run’s storage was removed at start-up');
    // Anchored, so that no other process of the machine that happens to sleep matches.
    const containers = await run('pgrep', ['-f', '^sleep 317$'], { allowFailure: true });
    assert.equal(containers.stdout.trim(), '', 'the crashed run’s container was stopped');

    const next = await quickRun(`${registryHost}/base:1 echo after-restart`);
    const finished = await waitFor(next.runId, (view) => !['Queued', 'Running'].includes(view.status), 120_000);
    assert.equal(finished.status, 'Succeeded', finished.runErrorMessage ?? '');
  });
});
