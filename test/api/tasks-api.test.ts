/**
 * API-shape tests of the tasks, runs and secrets routes: routing, validation, permissions,
 * problem+json, streaming of uploads and logs, and the OpenAPI document. The management API is
 * built with small in-test doubles of the task engine, the secret vault and the identity
 * services; the engine itself is tested end to end elsewhere.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { RouteRecord } from '../../src/api/openapi.ts';
import type { Principal } from '../../src/auth/principal.ts';
import type { QuickRunInput, RunView, TaskInput, TaskView } from '../../src/tasks/task-service.ts';
import { basic, buildApi, FakeTasks, FakeVault, OWNER, READER } from '../helpers/task-api-doubles.ts';

describe('tasks, runs and secrets API (API-shape tests with in-test doubles)', () => {
  let app: FastifyInstance;
  let routes: RouteRecord[];
  let tasks: FakeTasks;
  let vault: FakeVault;
  let url: string;

  before(async () => {
    tasks = new FakeTasks();
    vault = new FakeVault();
    ({ app, routes } = await buildApi(tasks, vault));
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(() => app.close());

  const send = (method: string, path: string, body?: unknown, auth = OWNER) =>
    app.inject({
      method: method as 'GET',
      url: `/mgmt/v1${path}`,
      headers: { authorization: basic(auth), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });

  it('creates, shows, lists, updates and deletes a task in ACR shape', async () => {
    const created = await send('POST', '/registries/contoso/tasks', {
      name: 'helloworld',
      contextPath: 'https://git.example.com/app.git#main',
      file: 'Dockerfile',
      imageNames: ['hello:{{.Run.ID}}'],
      values: [{ name: 'A', value: '1', isSecret: false }, { name: 'TOKEN', value: 's3cret', isSecret: true }],
      timeoutSeconds: 600,
    });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.json().name, 'helloworld');
    assert.deepEqual(created.json().trigger, { baseImageTrigger: { status: 'Enabled' } }, 'trigger configuration passes through');
    const input = tasks.calls.find((call) => call.method === 'createTask')!.args[1] as TaskInput;
    assert.deepEqual(input.values, [{ name: 'A', value: '1', isSecret: false }, { name: 'TOKEN', value: 's3cret', isSecret: true }]);
    assert.equal((tasks.calls.find((call) => call.method === 'createTask')!.args[2] as Principal).kind, 'user', 'the caller is handed over');

    assert.equal((await send('GET', '/registries/contoso/tasks/helloworld')).json().step.contextPath, 'https://git.example.com/app.git#main');
    assert.deepEqual((await send('GET', '/registries/contoso/tasks')).json().value.map((task: TaskView) => task.name), ['helloworld']);
    assert.equal((await send('PATCH', '/registries/contoso/tasks/helloworld', { status: 'Disabled', noPush: true })).statusCode, 200);
    assert.deepEqual(tasks.calls.at(-1), { method: 'updateTask', args: ['contoso', 'helloworld', { status: 'Disabled', noPush: true }] });
    assert.equal((await send('DELETE', '/registries/contoso/tasks/helloworld')).statusCode, 204);
    assert.equal((await send('GET', '/registries/contoso/tasks/helloworld')).statusCode, 404);
  });

  it('answers TaskError kinds and invalid input as problem+json', async () => {
    await send('POST', '/registries/contoso/tasks', { name: 'dupetask', contextPath: '/dev/null', cmd: 'busybox echo hi' });
    const conflict = await send('POST', '/registries/contoso/tasks', { name: 'dupetask', contextPath: '/dev/null', cmd: 'busybox echo hi' });
    assert.equal(conflict.statusCode, 409);
    assert.match(conflict.headers['content-type'] as string, /^application\/problem\+json/);
    assert.equal(conflict.json().detail, 'task dupetask already exists');

    const missing = await send('GET', '/registries/contoso/tasks/nosuchtask');
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().title, 'Not found');

    for (const [body, why] of [
      [{ name: 'abc' }, 'a name under 5 characters'],
      [{ name: 'goodname', unknown: 1 }, 'an unknown field'],
      [{ name: 'goodname', timeoutSeconds: 100 }, 'a timeout under 300 s'],
      [{ name: 'goodname', platform: 'Linux AMD64' }, 'a malformed platform'],
      [{ name: 'goodname', values: [{ name: 'A' }] }, 'a value without value'],
    ] as const) {
      const refused = await send('POST', '/registries/contoso/tasks', body);
      assert.equal(refused.statusCode, 400, why);
      assert.match(refused.headers['content-type'] as string, /^application\/problem\+json/, why);
    }
  });

  it('manages task credentials and stops detached containers', async () => {
    await send('POST', '/registries/contoso/tasks', { name: 'credtask', contextPath: '/dev/null', cmd: 'busybox true' });
    assert.equal((await send('POST', '/registries/contoso/tasks/credtask/credentials', { loginServer: 'docker.io', username: 'u', password: 'vault://kv/pw' })).statusCode, 200);
    assert.deepEqual(tasks.calls.at(-1)!.args, ['contoso', 'credtask', { loginServer: 'docker.io', username: 'u', password: 'vault://kv/pw' }]);
    assert.equal((await send('PATCH', '/registries/contoso/tasks/credtask/credentials/other.localhost:5000', { useIdentity: true })).statusCode, 200);
    assert.deepEqual(tasks.calls.at(-1)!.args, ['contoso', 'credtask', { useIdentity: true, loginServer: 'other.localhost:5000' }]);
    assert.equal((await send('DELETE', '/registries/contoso/tasks/credtask/credentials/docker.io')).statusCode, 200);
    assert.deepEqual(tasks.calls.at(-1), { method: 'removeCredential', args: ['contoso', 'credtask', 'docker.io'] });
    assert.deepEqual((await send('POST', '/registries/contoso/tasks/credtask/stop-detached')).json(), { stopped: 2 });
  });

  it('queues task runs, quick builds and quick runs with ACR run fields', async () => {
    await send('POST', '/registries/contoso/tasks', { name: 'runtask', contextPath: '/dev/null', cmd: 'busybox true' });
    const run = await send('POST', '/registries/contoso/tasks/runtask/runs', { values: [{ name: 'X', value: 'y', isSecret: false }] });
    assert.equal(run.statusCode, 202, run.body);
    assert.equal(run.headers.location, `/mgmt/v1/registries/contoso/runs/${run.json().runId}`);
    assert.equal(run.json().name, run.json().runId, "a run's name is its id");
    assert.deepEqual(run.json().triggerDetails, { internal: 'kept as given' });
    assert.equal((await send('POST', '/registries/contoso/tasks/runtask/runs', {})).statusCode, 202, 'values are optional');

    const build = await send('POST', '/registries/contoso/runs', { type: 'QuickBuild', sourceLocation: 'upload:u1', imageNames: ['app:v1'], buildArgs: [{ name: 'V', value: '1', isSecret: false }], noPush: true });
    assert.equal(build.statusCode, 202, build.body);
    assert.equal(build.json().runType, 'QuickBuild');
    assert.deepEqual(tasks.calls.at(-1)!.args[1], { sourceLocation: 'upload:u1', imageNames: ['app:v1'], buildArgs: [{ name: 'V', value: '1', isSecret: false }], noPush: true });

    const quick = await send('POST', '/registries/contoso/runs', { type: 'QuickRun', sourceLocation: null, taskFileContent: 'version: v1.1.0\nsteps:\n  - cmd: busybox echo hi\n' });
    assert.equal(quick.statusCode, 202, quick.body);
    assert.equal((tasks.calls.at(-1)!.args[1] as QuickRunInput).sourceLocation, null);

    for (const [body, why] of [
      [{ type: 'QuickRun', cmd: 'busybox true', taskFileContent: 'x' }, 'a command and a task file'],
      [{ type: 'QuickRun' }, 'nothing to run'],
      [{ type: 'QuickBuild', imageNames: ['a:b'] }, 'a build without a context'],
      [{ type: 'Other', sourceLocation: 'x' }, 'an unknown run type'],
      [{ type: 'QuickBuild', sourceLocation: 'x', cmd: 'busybox' }, 'a quick run field in a build'],
    ] as const) {
      assert.equal((await send('POST', '/registries/contoso/runs', body)).statusCode, 400, why);
    }
  });

  it('lists, shows and cancels runs', async () => {
    const listed = await send('GET', '/registries/contoso/runs?task=runtask&status=Queued&top=5');
    assert.equal(listed.statusCode, 200);
    assert.ok(listed.json().value.length > 0);
    assert.deepEqual(tasks.calls.at(-1), { method: 'listRuns', args: ['contoso', { task: 'runtask', status: 'Queued', top: 5 }] });
    assert.equal((await send('GET', '/registries/contoso/runs?status=Started')).statusCode, 400);
    assert.equal((await send('GET', '/registries/contoso/runs?top=0')).statusCode, 400);

    const first = listed.json().value.at(-1) as RunView;
    assert.equal((await send('GET', `/registries/contoso/runs/${first.runId}`)).json().runId, first.runId);
    assert.equal((await send('GET', '/registries/contoso/runs/zz999')).statusCode, 404);
    assert.equal((await send('POST', `/registries/contoso/runs/${first.runId}/cancel`)).json().status, 'Canceled');
    const cancelled = await send('POST', '/registries/contoso/runs/cancel');
    assert.equal(cancelled.statusCode, 200);
    assert.ok(cancelled.json().value.length > 0 && cancelled.json().value.every((run: RunView) => run.status === 'Canceled'));
  });

  it('needs read_registry to read and manage_registry to change or run; credentials are required', async () => {
    assert.equal((await send('GET', '/registries/contoso/tasks', undefined, READER)).statusCode, 200);
    assert.equal((await send('GET', '/registries/contoso/runs', undefined, READER)).statusCode, 200);
    assert.equal((await send('POST', '/registries/contoso/tasks', { name: 'readertask' }, READER)).statusCode, 403);
    assert.equal((await send('POST', '/registries/contoso/runs', { type: 'QuickRun', cmd: 'busybox true' }, READER)).statusCode, 403);
    assert.equal((await send('POST', '/registries/contoso/runs/cancel', undefined, READER)).statusCode, 403);
    assert.equal((await send('GET', '/vaults/kv1/secrets', undefined, READER)).statusCode, 403);
    const anonymous = await app.inject({ method: 'GET', url: '/mgmt/v1/registries/contoso/tasks' });
    assert.equal(anonymous.statusCode, 401);
  });

  it('POST /sources streams a gzip body to the engine without buffering it', async () => {
    const size = 5 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 7);
    const body = Readable.from((function* () {
      for (let sent = 0; sent < size; sent += chunk.length) yield chunk;
    })());
    const response = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const request = http.request(`${url}/mgmt/v1/registries/contoso/sources`, {
        method: 'POST',
        headers: { authorization: basic(OWNER), 'content-type': 'application/gzip' },
      });
      request.on('response', (incoming) => {
        let text = '';
        incoming.on('data', (data: Buffer) => (text += data));
        incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, text }));
      });
      request.on('error', reject);
      body.pipe(request);
    });
    assert.equal(response.status, 201, response.text);
    assert.deepEqual(JSON.parse(response.text), { location: 'upload:u1' });
    assert.deepEqual({ bytes: tasks.uploaded?.bytes, wasStream: tasks.uploaded?.wasStream }, { bytes: size, wasStream: true });

    const json = await send('POST', '/registries/contoso/sources', { not: 'an archive' });
    assert.equal(json.statusCode, 415, 'only gzip archives are accepted');
  });

  it('GET .../log?follow=true streams chunks as they are written and stops when the client leaves', async () => {
    const log = tasks.logOf('ca1');
    log.chunks.push('Queued a run with ID: ca1\n');
    const replay = await send('GET', '/registries/contoso/runs/ca1/log');
    assert.equal(replay.statusCode, 200);
    assert.match(replay.headers['content-type'] as string, /^text\/plain/);
    assert.equal(replay.body, 'Queued a run with ID: ca1\n', 'without follow: what is written so far');
    assert.equal((await send('GET', '/registries/contoso/runs/zz999/log')).statusCode, 404);

    const received: string[] = [];
    const incoming = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get(`${url}/mgmt/v1/registries/contoso/runs/ca1/log?follow=true`, { headers: { authorization: basic(OWNER) } }, resolve).on('error', reject);
    });
    assert.equal(incoming.headers['transfer-encoding'], 'chunked');
    const nextChunk = () => new Promise<string>((resolve) => incoming.once('data', (data: Buffer) => resolve(data.toString())));
    received.push(await nextChunk());
    const second = nextChunk();
    log.chunks.push('Step ID: acb_step_0 marked as successful\n');
    log.wake();
    received.push(await second);
    assert.deepEqual(received, ['Queued a run with ID: ca1\n', 'Step ID: acb_step_0 marked as successful\n']);
    incoming.destroy();
    const deadline = Date.now() + 5000;
    while (!log.aborted && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(log.aborted, 'the log reader is told the client left');

    log.aborted = false;
    const following = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get(`${url}/mgmt/v1/registries/contoso/runs/ca1/log?follow=true`, { headers: { authorization: basic(OWNER) } }, resolve).on('error', reject);
    });
    let text = '';
    following.on('data', (data: Buffer) => (text += data));
    const ended = new Promise((resolve) => following.on('end', resolve));
    log.chunks.push('Run ID: ca1 was successful after 1s\n');
    log.finished = true;
    log.wake();
    await ended;
    assert.match(text, /was successful after 1s\n$/, 'the response ends when the run finishes');
  });

  it('sets, shows, lists and deletes secrets in az keyvault shape', async () => {
    const set = await send('PUT', '/vaults/kv1/secrets/db-password', { value: 's3cret!', contentType: 'text/plain' });
    assert.equal(set.statusCode, 200, set.body);
    const shown = await send('GET', '/vaults/kv1/secrets/db-password');
    assert.deepEqual(shown.json(), {
      id: 'https://kv1.vault.azure.net/secrets/db-password/v1',
      name: 'db-password',
      vault: 'kv1',
      version: 'v1',
      value: 's3cret!',
      contentType: 'text/plain',
      attributes: { enabled: true, created: '2024-01-01T00:00:00.000Z', updated: '2024-01-01T00:00:00.000Z' },
    });
    const listed = await send('GET', '/vaults/kv1/secrets');
    assert.deepEqual(listed.json().value.map((secret: { name: string }) => secret.name), ['db-password']);
    assert.ok(!('value' in listed.json().value[0]), 'a listing never shows values');
    assert.equal((await send('PUT', '/vaults/kv1/secrets/bad_name', { value: 'x' })).statusCode, 400);
    assert.equal((await send('PUT', '/vaults/kv1/secrets/novalue', {})).statusCode, 400);
    assert.equal((await send('DELETE', '/vaults/kv1/secrets/db-password')).statusCode, 204);
    assert.equal((await send('GET', '/vaults/kv1/secrets/db-password')).statusCode, 404);
    assert.equal((await send('DELETE', '/vaults/kv1/secrets/db-password')).statusCode, 404);
  });

  it('documents every new route in the OpenAPI document', async () => {
    const document = app.swagger() as { paths: Record<string, Record<string, { summary?: string; responses?: object; tags?: string[] }>> };
    const ours = routes.filter((route) => route.method !== 'HEAD' && /\/(tasks|runs|sources|vaults)\b/.test(route.url));
    assert.ok(ours.length >= 20, `only ${ours.length} routes`);
    for (const route of ours) {
      const operation = document.paths[route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')]?.[route.method.toLowerCase()];
      assert.ok(operation?.summary, `${route.method} ${route.url} has a summary`);
      assert.ok(operation.responses && Object.keys(operation.responses).length > 1, `${route.method} ${route.url} has responses`);
    }
  });
});
