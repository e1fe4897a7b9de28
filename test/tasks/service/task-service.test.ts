import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { IdentityService, ServicePrincipalView } from '../../../src/auth/identity-service.ts';
import type { Principal } from '../../../src/auth/principal.ts';
import { openMetaStore } from '../../../src/meta/index.ts';
import type { MetaStore } from '../../../src/meta/meta-store.ts';
import type { RunRequest } from '../../../src/tasks/engine/run-request.ts';
import { RunLogs } from '../../../src/tasks/run-log.ts';
import { StoredTaskService, type StoredTaskServiceOptions } from '../../../src/tasks/stored-task-service.ts';
import { UploadedSourceStore } from '../../../src/tasks/context/uploads.ts';
import { TaskError } from '../../../src/tasks/task-service.ts';
import { FakeVault } from '../engine/fakes.ts';

const alice: Principal = { kind: 'user', id: 'u-alice', name: 'alice', owner: false };

/** Service principals only, as task identities need them. */
function fakeIdentity(): IdentityService & { principals: ServicePrincipalView[] } {
  const principals: ServicePrincipalView[] = [];
  let counter = 0;
  const identity = {
    principals,
    async createServicePrincipal(name: string) {
      counter++;
      const view: ServicePrincipalView = { appId: `app-${counter}`, displayName: name, principalId: `sp-${counter}`, tenant: 'berth', createdAt: new Date().toISOString() };
      principals.push(view);
      return view;
    },
    async listServicePrincipals() {
      return [...principals];
    },
    async deleteServicePrincipal(appId: string) {
      principals.splice(
        principals.findIndex((sp) => sp.appId === appId),
        1,
      );
    },
  };
  return identity as unknown as IdentityService & { principals: ServicePrincipalView[] };
}

async function rejectsWith(promise: Promise<unknown>, kind: TaskError['kind'], pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => error instanceof TaskError && error.kind === kind && pattern.test(error.message));
}

describe('stored task service', () => {
  let dir: string;
  let meta: MetaStore;
  let service: StoredTaskService;
  const vault = new FakeVault();
  const identity = fakeIdentity();
  const woken: number[] = [];
  const stopped: string[] = [];
  const options = (): StoredTaskServiceOptions => ({
    store: meta.tasks,
    vault,
    identity,
    registryExists: async (registry) => (await meta.getRegistry(registry)) !== undefined,
    uploads: { save: async () => 'upload:x', remove: async () => {} },
    logs: new RunLogs(meta.tasks),
    dispatch: { wake: () => void woken.push(Date.now()), cancel: () => false },
    stopDetached: async (owner) => (stopped.push(owner), 0),
    hostPlatform: 'linux/amd64',
    uploadLimitBytes: 1024,
  });

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'berth-task-service-'));
    meta = await openMetaStore({ url: `sqlite:${path.join(dir, 'berth.db')}` });
    await meta.createRegistry('contoso');
    service = new StoredTaskService(options());
  });
  after(async () => {
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('creates a Dockerfile task with sealed secret arguments and shows it without secrets', async () => {
    const view = await service.createTask(
      'contoso',
      {
        name: 'build-web',
        contextPath: 'https://example.com/web.git#main',
        contextAccessToken: 'git-token',
        imageNames: ['web:{{.Run.ID}}'],
        values: [
          { name: 'PLAIN', value: 'p', isSecret: false },
          { name: 'HIDDEN', value: 'h-secret', isSecret: true },
        ],
      },
      alice,
    );
    assert.equal(view.step.type, 'Docker');
    assert.equal(view.step.dockerFilePath, 'Dockerfile');
    assert.equal(view.step.isPushEnabled, true);
    assert.deepEqual(view.step.arguments, [
      { name: 'PLAIN', value: 'p', isSecret: false },
      { name: 'HIDDEN', value: null, isSecret: true },
    ]);
    assert.equal(view.timeout, 3600);
    assert.deepEqual(view.platform, { os: 'linux', architecture: 'amd64' });
    const stored = await meta.tasks.getTask('contoso', 'build-web');
    assert.notEqual(stored?.contextAccessToken, 'git-token');
    assert.equal(vault.unseal(stored!.contextAccessToken!), 'git-token');
  });

  it('derives FileTask from a .yaml file and EncodedTask from --cmd', async () => {
    const file = await service.createTask('contoso', { name: 'file-task', contextPath: '/srv/repo#main', file: 'ci/acr-task.yml' }, alice);
    assert.equal(file.step.type, 'FileTask');
    assert.equal(file.step.taskFilePath, 'ci/acr-task.yml');
    const cmd = await service.createTask('contoso', { name: 'purge-task', contextPath: '/dev/null', cmd: "acr purge --filter 'app:.*' --ago 0d" }, alice);
    assert.equal(cmd.step.type, 'EncodedTask');
    assert.equal(cmd.step.contextPath, null);
    assert.match(Buffer.from(cmd.step.encodedTaskContent!, 'base64').toString(), /acr purge --filter 'app:\.\*' --ago 0d/);
  });

  it('refuses bad names, timeouts, platforms, duplicates and missing contexts', async () => {
    await rejectsWith(service.createTask('contoso', { name: 'abc', contextPath: '/srv/r' }, alice), 'invalid', /5 to 50/);
    await rejectsWith(service.createTask('contoso', { name: 'valid-name', contextPath: '/srv/r', timeoutSeconds: 10 }, alice), 'invalid', /300 to 28800/);
    await rejectsWith(service.createTask('contoso', { name: 'valid-name', contextPath: '/srv/r', platform: 'beos/m68k' }, alice), 'invalid', /platform/);
    await rejectsWith(service.createTask('contoso', { name: 'build-web', contextPath: '/srv/r' }, alice), 'conflict', /already exists/);
    await rejectsWith(service.createTask('contoso', { name: 'no-context', contextPath: null }, alice), 'invalid', /needs a source context/);
    await rejectsWith(service.createTask('nowhere', { name: 'valid-name', contextPath: '/srv/r' }, alice), 'not-found', /registry nowhere/);
    await rejectsWith(service.getTask('contoso', 'missing-task'), 'not-found', /missing-task/);
  });

  it('updates only what is changed', async () => {
    const view = await service.updateTask('contoso', 'build-web', { timeoutSeconds: 600, noPush: true, platform: 'linux/arm64' }, alice);
    assert.equal(view.timeout, 600);
    assert.equal(view.step.isPushEnabled, false);
    assert.deepEqual(view.step.imageNames, ['web:{{.Run.ID}}']);
    assert.deepEqual(view.platform, { os: 'linux', architecture: 'arm64' });
    assert.equal(view.step.arguments?.length, 2);
  });

  it('manages credentials: secret URIs kept, clear passwords sealed, identity credentials need an identity', async () => {
    let view = await service.addCredential('contoso', 'build-web', { loginServer: 'upstream.example.com', username: 'vault://kv/user', password: 'vault://kv/pass' });
    assert.deepEqual(view.credentials.customRegistries['upstream.example.com'], { userName: 'vault://kv/user', password: null, identity: null });
    view = await service.updateCredential('contoso', 'build-web', { loginServer: 'upstream.example.com', password: 'clear-pass' });
    const stored = (await meta.tasks.getTask('contoso', 'build-web'))!.credentials[0]!;
    assert.equal(vault.unseal(stored.password!), 'clear-pass');
    await rejectsWith(service.addCredential('contoso', 'build-web', { loginServer: 'upstream.example.com', username: 'u', password: 'p' }), 'conflict', /already has/);
    await rejectsWith(service.addCredential('contoso', 'build-web', { loginServer: 'other.localhost:5000', useIdentity: true }), 'invalid', /no identity/);
    view = await service.removeCredential('contoso', 'build-web', 'upstream.example.com');
    assert.deepEqual(view.credentials.customRegistries, {});
  });

  it('gives a task an identity and deletes it with the task', async () => {
    const view = await service.createTask('contoso', { name: 'with-identity', contextPath: '/srv/r', assignIdentity: true }, alice);
    assert.equal(view.identity?.principalId, 'sp-1');
    assert.equal(identity.principals[0]?.displayName, 'task-contoso-with-identity');
    const run = await service.runTask('contoso', 'with-identity', {}, alice);
    const request = (await meta.tasks.getRun('contoso', run.runId))!.request as RunRequest;
    assert.deepEqual(request.identity, { kind: 'servicePrincipal', id: 'sp-1', name: 'task-contoso-with-identity', appId: 'app-1' });
    assert.deepEqual(request.caller, alice);
    await service.deleteTask('contoso', 'with-identity');
    assert.equal(identity.principals.length, 0);
    assert.ok(stopped.includes('contoso/with-identity'));
  });

  it('queues task runs with a snapshot of the task and the run values, and wakes the worker', async () => {
    const before = woken.length;
    const run = await service.runTask('contoso', 'file-task', { values: [{ name: 'pw', value: 'run-secret', isSecret: true }] }, alice);
    assert.equal(woken.length, before + 1);
    assert.equal(run.status, 'Queued');
    assert.equal(run.runType, 'AutoRun');
    assert.equal(run.trigger, 'Manual');
    assert.equal(run.task, 'file-task');
    const request = (await meta.tasks.getRun('contoso', run.runId))!.request as RunRequest;
    assert.deepEqual(request.work, { kind: 'file', path: 'ci/acr-task.yml' });
    assert.equal(request.values[0]!.name, 'pw');
    assert.notEqual(request.values[0]!.value, 'run-secret');
    assert.deepEqual(request.identity, request.caller);
    assert.equal(request.detachedOwner, 'contoso/file-task');
    assert.equal((await service.runTask('contoso', 'build-web', {}, alice)).runType, 'AutoBuild');
  });

  it('queues quick builds and quick runs', async () => {
    const build = await service.quickBuild('contoso', { sourceLocation: 'upload:x', imageNames: ['a:1'], buildArgs: [{ name: 'S', value: 'v', isSecret: true }] }, alice);
    assert.equal(build.runType, 'QuickBuild');
    assert.equal(build.task, null);
    const buildRequest = (await meta.tasks.getRun('contoso', build.runId))!.request as RunRequest;
    assert.equal(buildRequest.taskName, 'quickrun');
    assert.equal(buildRequest.work.kind === 'build' && vault.unseal(buildRequest.work.buildArgs[0]!.value), 'v');
    const cmd = await service.quickRun('contoso', { sourceLocation: '/dev/null', cmd: 'busybox echo hi' }, alice);
    const cmdRequest = (await meta.tasks.getRun('contoso', cmd.runId))!.request as RunRequest;
    assert.equal(cmdRequest.source, null);
    assert.equal(cmdRequest.work.kind, 'encoded');
    await rejectsWith(service.quickRun('contoso', { sourceLocation: null }, alice), 'invalid', /exactly one/);
    await rejectsWith(service.quickRun('contoso', { sourceLocation: null, taskFilePath: 'x.yaml' }, alice), 'invalid', /without a source context/);
  });

  it('lists runs newest first, cancels queued runs and all runs of a registry', async () => {
    const runs = await service.listRuns('contoso', { top: 2 });
    assert.equal(runs.length, 2);
    assert.ok(runs[0]!.createTime >= runs[1]!.createTime);
    const [newest] = runs;
    const cancelledView = await service.cancelRun('contoso', newest!.runId);
    assert.equal(cancelledView.status, 'Canceled');
    const all = await service.cancelAllRuns('contoso');
    assert.ok(all.length > 0);
    assert.ok(all.every((run) => run.status === 'Canceled'));
    assert.deepEqual(await service.listRuns('contoso', { status: 'Queued' }), []);
    await rejectsWith(service.getRun('contoso', 'zz99'), 'not-found', /zz99/);
  });

  it('refuses an upload over the size limit', async () => {
    const limited = new StoredTaskService({ ...options(), uploads: new UploadedSourceStore(path.join(dir, 'sources')) });
    await rejectsWith(limited.uploadSource('contoso', Readable.from([Buffer.alloc(4096)])), 'invalid', /over the .* limit/);
  });
});
