/**
 * The task service and run engine end to end with the real executor (buildah and podman) against
 * a real in-process Berth: a quick build pushed and pulled back, a multi-step file with parallel
 * steps and a failing gate, and secret values masked in the log.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Principal } from '../../../src/auth/principal.ts';
import type { Tasks } from '../../../src/tasks/index.ts';
import type { RunView } from '../../../src/tasks/task-service.ts';
import { OWNER, startTestBerth, type TestBerth } from '../../helper.ts';
import { startAll } from '../../helpers/exec.ts';
import { remoteManifest, skopeoCopy, testImages, type TestImages } from '../../helpers/images.ts';
import { makeFolder, packFolder } from '../context/archives.ts';

describe('task runs with buildah and podman against a real Berth', () => {
  let server: TestBerth | undefined;
  let images: TestImages;
  let tasks: Tasks | undefined;
  let owner: Principal;
  let registry: string;

  /** The whole log, followed live until the run finishes (at most 3 minutes). */
  const followLog = async (runId: string): Promise<string> => {
    let text = '';
    for await (const chunk of tasks!.service.readLog('contoso', runId, { follow: true, signal: AbortSignal.timeout(180_000) })) text += chunk;
    return text;
  };
  const finished = async (run: RunView): Promise<{ run: RunView; log: string }> => {
    const log = await followLog(run.runId);
    return { run: await tasks!.service.getRun('contoso', run.runId), log };
  };

  before(async () => {
    await startAll(
      startTestBerth().then((started) => (server = started)),
      testImages().then((built) => (images = built)),
    );
    const created = await server!.request('/mgmt/v1/registries', {
      method: 'POST',
      body: JSON.stringify({ name: 'contoso' }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(created.status, 201);
    const port = new URL(server!.url).port;
    registry = `contoso.localhost:${port}`;
    await skopeoCopy(images.single.ref, `docker://${registry}/base:1`, ['--dest-creds', `${OWNER.username}:${OWNER.password}`]);

    tasks = server!.berth.tasks;
    const users = (await (await server!.request('/mgmt/v1/users')).json()) as { value: { username: string; principalId: string }[] };
    const user = users.value.find((candidate) => candidate.username === OWNER.username)!;
    owner = { kind: 'user', id: user.principalId, name: user.username, owner: true };
  });

  after(async () => {
    await server?.close();
  });

  test('a quick build with ARG, ENV and RUN is pushed under a {{.Run.ID}} tag and can be pulled back', async () => {
    const folder = await makeFolder({
      Dockerfile: [
        `FROM ${registry}/base:1`,
        'ARG GREETING=unset',
        'ENV FROM_ENV=env-value',
        'RUN echo "$GREETING $FROM_ENV" > /greeting.txt',
        'CMD ["cat", "/greeting.txt"]',
        '',
      ].join('\n'),
    });
    const source = await tasks!.service.uploadSource('contoso', packFolder(folder));
    const queued = await tasks!.service.quickBuild(
      'contoso',
      { sourceLocation: source, imageNames: ['hello:{{.Run.ID}}'], buildArgs: [{ name: 'GREETING', value: 'hi', isSecret: false }] },
      owner,
    );
    assert.equal(queued.runType, 'QuickBuild');
    const { run, log } = await finished(queued);
    assert.equal(run.status, 'Succeeded', log);
    assert.match(log, /Executing step ID: build/);
    assert.match(log, new RegExp(`Run ID: ${run.runId} was successful after \\d+s`));
    assert.equal(run.outputImages.length, 1);
    const [image] = run.outputImages;
    assert.deepEqual({ registry: image!.registry, repository: image!.repository, tag: image!.tag }, { registry, repository: 'hello', tag: run.runId });
    const pulled = await remoteManifest(`${registry}/hello:${run.runId}`, `${OWNER.username}:${OWNER.password}`);
    assert.equal(pulled.digest, image!.digest);
  });

  test('parallel steps run, a failing gate fails the run and its dependants never run; secrets are masked', async () => {
    const secret = 'sup3r-s3cret-value';
    const file = [
      'version: v1.1.0',
      'steps:',
      '  - id: left',
      `    cmd: {{.Run.Registry}}/base:1 sh -c "sleep 1; echo left says {{.Values.pw}}"`,
      "    when: ['-']",
      '  - id: right',
      '    cmd: {{.Run.Registry}}/base:1 sh -c "sleep 1; echo right done"',
      "    when: ['-']",
      '  - id: gate',
      '    cmd: {{.Run.Registry}}/base:1 sh -c "exit 3"',
      "    when: ['left', 'right']",
      '  - id: after-gate',
      '    cmd: {{.Run.Registry}}/base:1 sh -c "echo should-never-print"',
      "    when: ['gate']",
      '',
    ].join('\n');
    const queued = await tasks!.service.quickRun('contoso', { sourceLocation: null, taskFileContent: file, values: [{ name: 'pw', value: secret, isSecret: true }] }, owner);
    const { run, log } = await finished(queued);
    assert.equal(run.status, 'Failed', log);
    assert.match(run.runErrorMessage ?? '', /gate/);
    assert.match(log, /left says \*\*\*\*\*/);
    assert.doesNotMatch(log, new RegExp(secret));
    assert.match(log, /right done/);
    // Both parallel steps started before either finished.
    const rightStarted = log.indexOf('Executing step ID: right');
    const leftStarted = log.indexOf('Executing step ID: left');
    assert.ok(rightStarted >= 0 && leftStarted >= 0);
    assert.ok(Math.max(leftStarted, rightStarted) < Math.min(log.indexOf('Step ID: left marked as successful'), log.indexOf('Step ID: right marked as successful')));
    assert.match(log, /Step ID: after-gate skipped: step gate did not succeed/);
    assert.doesNotMatch(log, /Executing step ID: after-gate|should-never-print/);
  });
});
