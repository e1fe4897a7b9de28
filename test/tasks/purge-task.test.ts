/**
 * `acr purge …` and `berth purge …` as a run's command, end to end on a real in-process Berth with
 * the real engine: a quick run as the seeds write it, a stored task whose identity has no role
 * assignment purging its own registry (the run credential may delete there), another registry
 * purged through a task credential only where the identity may delete, and the purge API asking
 * for delete rights rather than the right to manage the registry.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Principal } from '../../src/auth/principal.ts';
import type { Tasks } from '../../src/tasks/index.ts';
import type { RunView } from '../../src/tasks/task-service.ts';
import { OWNER, startTestBerth, type TestBerth } from '../helper.ts';
import { assignRole, createRegistry, createUser, mgmt } from '../helpers/identity.ts';
import { pushImage, type Image } from '../helpers/oci-http.ts';

describe('purge as a task command', () => {
  let server: TestBerth | undefined;
  let tasks: Tasks;
  let owner: Principal;
  let contoso: string;
  let other: string;

  const finished = async (registry: string, run: RunView): Promise<{ run: RunView; log: string }> => {
    let log = '';
    for await (const chunk of tasks.service.readLog(registry, run.runId, { follow: true, signal: AbortSignal.timeout(60_000) })) log += chunk;
    return { run: await tasks.service.getRun(registry, run.runId), log };
  };

  /** Digests of the repository's manifests and its tags, as `acr manifest list-metadata` shows them. */
  const contents = async (registry: string, repository: string): Promise<{ digests: string[]; tags: string[] }> => {
    const host = registry === 'contoso' ? contoso : other;
    const response = await server!.request(`/acr/v1/${repository}/_manifests`, { host });
    if (response.status === 404) return { digests: [], tags: [] };
    assert.equal(response.status, 200, await response.clone().text());
    const body = (await response.json()) as { manifests: { digest: string; tags?: string[] }[] };
    return { digests: body.manifests.map((m) => m.digest).sort(), tags: body.manifests.flatMap((m) => m.tags ?? []).sort() };
  };

  /** Pushes `app:latest` `count` times: all but the last push leave an untagged manifest. */
  const pushLatest = async (host: string, count: number): Promise<Image[]> => {
    const images: Image[] = [];
    for (let index = 0; index < count; index++) images.push(await pushImage(server!, 'app', 'latest', undefined, host));
    return images;
  };

  before(async () => {
    server = await startTestBerth();
    contoso = await createRegistry(server, 'contoso');
    other = await createRegistry(server, 'otherreg');
    tasks = server.berth.tasks;
    const users = (await (await server.request('/mgmt/v1/users')).json()) as { value: { username: string; principalId: string }[] };
    const user = users.value.find((candidate) => candidate.username === OWNER.username)!;
    owner = { kind: 'user', id: user.principalId, name: user.username, owner: true };
  });

  after(async () => {
    await server?.close();
  });

  test("a quick run of the berth spelling with --untagged-only deletes only the untagged manifests", async () => {
    const images = await pushLatest(contoso, 3);
    const queued = await tasks.service.quickRun('contoso', { sourceLocation: null, cmd: "berth purge --filter 'app:.*' --untagged-only --ago 0d" }, owner);
    const { run, log } = await finished('contoso', queued);
    assert.equal(run.status, 'Succeeded', log);
    assert.deepEqual(await contents('contoso', 'app'), { digests: [images[2]!.digest], tags: ['latest'] });
    assert.match(log, /untagged/);
  });

  test("the seeds' `acr purge --filter 'app:.*' --untagged --ago 0d` runs as written: the matching tag and every manifest it leaves go", async () => {
    await pushLatest(contoso, 2);
    const queued = await tasks.service.quickRun('contoso', { sourceLocation: null, cmd: "acr purge --filter 'app:.*' --untagged --ago 0d" }, owner);
    const { run, log } = await finished('contoso', queued);
    assert.equal(run.status, 'Succeeded', log);
    assert.deepEqual(await contents('contoso', 'app'), { digests: [], tags: [] });
  });

  test("a stored task's identity without any role purges its own registry; `--registry {{.Run.Registry}}` names it", async () => {
    const images = await pushLatest(contoso, 3);
    await tasks.service.createTask(
      'contoso',
      { name: 'purgetask', contextPath: null, cmd: "acr purge --registry {{.Run.Registry}} --filter 'app:.*' --untagged-only --ago 0d", assignIdentity: true },
      owner,
    );
    const queued = await tasks.service.runTask('contoso', 'purgetask', {}, owner);
    const { run, log } = await finished('contoso', queued);
    assert.equal(run.status, 'Succeeded', log);
    assert.deepEqual(await contents('contoso', 'app'), { digests: [images[2]!.digest], tags: ['latest'] });
  });

  test("purging another registry takes a task credential for it and delete rights of the task's identity there", async () => {
    const images = await pushLatest(other, 2);
    const task = await tasks.service.createTask(
      'contoso',
      { name: 'purgeother', contextPath: null, cmd: `acr purge --registry ${other} --filter 'app:.*' --untagged-only --ago 0d`, assignIdentity: true },
      owner,
    );
    const runOnce = async () => finished('contoso', await tasks.service.runTask('contoso', 'purgeother', {}, owner));

    const uncredentialed = await runOnce();
    assert.equal(uncredentialed.run.status, 'Failed', uncredentialed.log);
    assert.match(uncredentialed.log, /no credential for registry otherreg; add one to the task with 'berth task credential add/);

    await tasks.service.addCredential('contoso', 'purgeother', { loginServer: other, useIdentity: true });
    const principalId = task.identity!.principalId;
    await assignRole(server!, principalId, 'Reader', '/registries/otherreg');
    const refused = await runOnce();
    assert.equal(refused.run.status, 'Failed', refused.log);
    assert.match(refused.log, /may not delete in otherreg\/app; purge needs delete rights/);
    assert.equal((await contents('otherreg', 'app')).digests.length, 2, 'nothing was deleted');

    await assignRole(server!, principalId, 'AcrDelete', '/registries/otherreg');
    const allowed = await runOnce();
    assert.equal(allowed.run.status, 'Succeeded', allowed.log);
    assert.deepEqual(await contents('otherreg', 'app'), { digests: [images[1]!.digest], tags: ['latest'] });
  });

  test('a caller with delete rights but no right to manage the registry may purge it through the API', async () => {
    const images = await pushLatest(other, 2);
    await pushImage(server!, 'web', '1', undefined, other);
    const user = await createUser(server!, 'deleter', 'deleter-password-1');
    await assignRole(server!, user.principalId, 'AcrDelete', '/registries/otherreg/repositories/app');
    const auth = { username: 'deleter', password: 'deleter-password-1' };
    const refused = await mgmt(server!, 'POST', '/registries/otherreg/purge', { filters: ['.*:.*'], ago: '0d', untagged: true }, auth);
    assert.equal(refused.status, 403, 'the filter covers a repository it may not delete in');
    assert.equal(
      (await mgmt(server!, 'POST', '/registries/otherreg/purge', { filters: ['app:.*'], ago: '0d', untaggedOnly: true, includeLocked: true }, auth)).status,
      403,
      'unlocking needs metadata write rights',
    );
    const purged = await mgmt(server!, 'POST', '/registries/otherreg/purge', { filters: ['app:.*'], ago: '0d', untaggedOnly: true }, auth);
    assert.equal(purged.status, 200);
    assert.deepEqual(await contents('otherreg', 'app'), { digests: [images[1]!.digest], tags: ['latest'] });
    assert.equal((await contents('otherreg', 'web')).digests.length, 1);
  });

  test('an acr command other than purge fails the run with a clear message', async () => {
    const { run, log } = await finished('contoso', await tasks.service.quickRun('contoso', { sourceLocation: null, cmd: 'acr tag list' }, owner));
    assert.equal(run.status, 'Failed', log);
    assert.match(log, /only 'acr purge' runs here/);
  });
});
