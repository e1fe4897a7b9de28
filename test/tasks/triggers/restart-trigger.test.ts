/**
 * A base image pushed while no node runs triggers: the dependent task still runs once when a
 * node comes back, and never a second time after another restart. The push is made through a
 * server started with `tasks.enabled: false`, so the event is surely waiting in the outbox.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ownerAuthorization, startBerth, type BerthProcess } from '../../helpers/berth-process.ts';
import { makeTempDir, removeTempDir } from '../../helpers/exec.ts';
import { startGitServer, type GitServer } from '../../helpers/git-server.ts';
import { skopeoCopy, testImages, type TestImages } from '../../helpers/images.ts';

interface Run {
  runId: string;
  status: string;
  trigger: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const TASK_FILE = `version: v1.1.0
steps:
  - build: -t $Registry/app:$ID --build-arg REGISTRY=$Registry .
  - push: ["$Registry/app:$ID"]
`;

describe('base-image trigger across restarts', () => {
  let scratch: string;
  let data: string;
  let git: GitServer;
  let images: TestImages;
  let berth: BerthProcess | undefined;

  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${berth!.url}/mgmt/v1${path}`, {
      method,
      headers: { authorization: ownerAuthorization(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as T;
  };
  const runs = async () => (await api<{ value: Run[] }>('GET', '/registries/contoso/runs?task=apptask')).value;
  const finishedRuns = async (count: number, timeoutMs: number): Promise<Run[]> => {
    const deadline = Date.now() + timeoutMs;
    let seen = await runs();
    while ((seen.length < count || seen.some((run) => ['Queued', 'Running'].includes(run.status))) && Date.now() < deadline) {
      await sleep(250);
      seen = await runs();
    }
    return seen;
  };

  before(async () => {
    scratch = await makeTempDir('restart-trigger');
    data = join(scratch, 'data');
    [git, images] = await Promise.all([startGitServer(), testImages()]);
  });
  after(async () => {
    await berth?.stop();
    await git?.stop();
    await removeTempDir(scratch);
  });

  test('the push made while triggers were down fires once when a node returns, never twice', async () => {
    berth = await startBerth({ data });
    await berth.createRegistry('contoso');
    await skopeoCopy(images.single.ref, `docker://${berth.registryHost('contoso')}/base:1`, ['--dest-creds', berth.creds]);
    const repo = await git.createRepo('app', { 'acr-task.yaml': TASK_FILE, Dockerfile: 'ARG REGISTRY\nFROM ${REGISTRY}/base:1\nCMD ["true"]\n' });
    await api('POST', '/registries/contoso/tasks', { name: 'apptask', contextPath: `${repo.path}#main`, file: 'acr-task.yaml', assignIdentity: true, commitTriggerEnabled: false });
    await api('POST', '/registries/contoso/tasks/apptask/runs', {});
    const [manual] = await finishedRuns(1, 120_000);
    assert.deepEqual([manual!.status, manual!.trigger], ['Succeeded', 'Manual']);
    await berth.stop();

    const noTasks = join(scratch, 'no-tasks.json');
    await writeFile(noTasks, JSON.stringify({ tasks: { enabled: false } }));
    berth = await startBerth({ data, extraArgs: ['--config', noTasks] });
    // The tag moves to the multi-platform index of the same image: a new digest.
    await skopeoCopy(images.ociIndex.ref, `docker://${berth.registryHost('contoso')}/base:1`, ['--all', '--dest-creds', berth.creds]);
    await sleep(1500);
    assert.equal((await runs()).length, 1, 'a node without the task engine fires nothing');
    await berth.stop();

    berth = await startBerth({ data });
    const afterReturn = await finishedRuns(2, 120_000);
    assert.deepEqual(
      afterReturn.map((run) => [run.status, run.trigger]),
      [
        ['Succeeded', 'Image Update'],
        ['Succeeded', 'Manual'],
      ],
    );
    await berth.stop();

    berth = await startBerth({ data });
    await sleep(3000);
    assert.equal((await runs()).length, 2, 'a second restart fires nothing again');
  });
});
