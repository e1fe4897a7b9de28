import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startTestBerth, type TestBerth } from '../helper.ts';
import { imageOf, pushBlob, pushImage, type Image } from '../helpers/oci-http.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

/** Fast delivery for tests: 1 s timeout, retries after ~0.2 s doubling to 1 s, 5 attempts. */
export const fastEvents = {
  pollMilliseconds: 50,
  webhooks: { timeoutSeconds: 1, retryBaseSeconds: 0.2, retryMaxSeconds: 1, maxAttempts: 5 },
};

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Delivery {
  id: string;
  action: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  error: string | null;
  nextAttemptTime: string | null;
  eventRequestMessage: { content: Record<string, any>; headers: Record<string, string>; method: string; requestUri: string };
  eventResponseMessage: { content: string; headers: Record<string, string>; reasonPhrase: string; statusCode: string } | null;
}

describe('webhooks: az acr webhook create|update|show|list|delete|ping|list-events', () => {
  let server: TestBerth;
  let receiver: WebhookReceiver;
  let contoso: string;

  const mgmt = async (method: string, path: string, body?: unknown) => {
    const response = await server.request(`/mgmt/v1${path}`, {
      method,
      ...(body !== undefined && { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };
  const createHook = async (registry: string, body: Record<string, unknown>) => {
    const created = await mgmt('POST', `/registries/${registry}/webhooks`, body);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body;
  };
  const deliveries = async (registry: string, name: string): Promise<Delivery[]> => {
    const listed = await mgmt('GET', `/registries/${registry}/webhooks/${name}/events`);
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    return listed.body.value as Delivery[];
  };
  /** Polls list-events until `enough`. */
  const deliveriesWhen = async (registry: string, name: string, enough: (list: Delivery[]) => boolean, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const list = await deliveries(registry, name);
      if (enough(list)) return list;
      if (Date.now() > deadline) throw new Error(`list-events never got there: ${JSON.stringify(list, null, 2)}`);
      await sleep(50);
    }
  };
  /** docker push: blobs, then the manifest with the client's User-Agent. */
  const dockerPush = async (repository: string, tag: string, image: Image = imageOf()) => {
    for (const blob of [image.config, ...image.layers]) await pushBlob(server, repository, blob, contoso);
    const response = await server.request(`/v2/${repository}/manifests/${tag}`, {
      method: 'PUT',
      host: contoso,
      body: image.manifest,
      headers: { 'content-type': image.mediaType, 'user-agent': 'docker/24.0.7 go/go1.20' },
    });
    assert.equal(response.status, 201, await response.text());
    return image;
  };

  before(async () => {
    server = await startTestBerth({ events: fastEvents });
    receiver = await startWebhookReceiver();
    contoso = `contoso.localhost:${new URL(server.url).port}`;
    assert.equal((await mgmt('POST', '/registries', { name: 'contoso' })).status, 201);
  });
  after(async () => {
    await server.close();
    await receiver.close();
  });

  it("delivers ACR's push and delete event JSON with the custom headers to the service URI", async () => {
    const created = await createHook('contoso', {
      name: 'mainhook',
      serviceUri: `${receiver.url}/main`,
      actions: ['push', 'delete'],
      customHeaders: { 'X-Hook-Secret': 's3cret', Authorization: 'Bearer abc' },
    });
    assert.deepEqual(created, {
      id: '/registries/contoso/webhooks/mainhook',
      name: 'mainhook',
      type: 'Berth/registries/webhooks',
      provisioningState: 'Succeeded',
      status: 'enabled',
      scope: '',
      actions: ['push', 'delete'],
      createdAt: created.createdAt,
    });

    const image = await dockerPush('hello-world', 'v1');
    const [push] = await receiver.waitFor((requests) => requests.length >= 1, { path: '/main' });
    assert.equal(push?.method, 'POST');
    assert.equal(push?.headers['content-type'], 'application/json');
    assert.equal(push?.headers['x-hook-secret'], 's3cret');
    assert.equal(push?.headers.authorization, 'Bearer abc');
    assert.match(String(push?.headers['user-agent']), /^berth\//);
    assert.match(String(push?.body.id), uuid);
    assert.match(String(push?.body.timestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(Object.keys(push!.body), ['id', 'timestamp', 'action', 'target', 'request']);
    assert.equal(push?.body.action, 'push');
    assert.deepEqual(push?.body.target, {
      mediaType: image.mediaType,
      size: image.manifest.length,
      digest: image.digest,
      length: image.manifest.length,
      repository: 'hello-world',
      tag: 'v1',
    });
    assert.match(String(push?.body.request.id), uuid);
    assert.deepEqual({ ...push?.body.request, id: '' }, { id: '', host: contoso, method: 'PUT', useragent: 'docker/24.0.7 go/go1.20' });

    // A tag deleted alone fires nothing (as ACR); a manifest delete fires `delete` without tag or size.
    const keep = await dockerPush('hello-world', 'keep');
    assert.equal((await server.request(`/v2/hello-world/manifests/keep`, { method: 'DELETE', host: contoso })).status, 202);
    assert.equal((await server.request(`/v2/hello-world/manifests/${image.digest}`, { method: 'DELETE', host: contoso })).status, 202);
    const events = await receiver.waitFor((requests) => requests.some((request) => request.body.action === 'delete'), { path: '/main' });
    assert.deepEqual(
      events.map((request) => `${request.body.action}:${request.body.target.tag ?? '-'}:${request.body.target.digest === keep.digest ? 'keep' : 'v1'}`),
      ['push:v1:v1', 'push:keep:keep', 'delete:-:v1'],
    );
    const deleted = events[2]!.body;
    assert.deepEqual(deleted.target, { mediaType: image.mediaType, digest: image.digest, repository: 'hello-world' });
    assert.equal(deleted.request.method, 'DELETE');

    const listed = await deliveriesWhen('contoso', 'mainhook', (list) => list.length === 3 && list.every((delivery) => delivery.status === 'delivered'));
    const newest = listed[0]!;
    assert.equal(newest.id, deleted.id);
    assert.equal(newest.attempts, 1);
    assert.deepEqual(newest.eventRequestMessage.content, deleted);
    assert.equal(newest.eventRequestMessage.method, 'POST');
    assert.equal(newest.eventRequestMessage.requestUri, `${receiver.url}/main`);
    assert.equal(newest.eventRequestMessage.headers['X-Hook-Secret'], '***', 'custom header values are never shown');
    assert.equal(newest.eventResponseMessage?.statusCode, '200');
    assert.equal(newest.eventResponseMessage?.content, '{"ok":true}');
    assert.equal(newest.eventResponseMessage?.headers['x-receiver'], 'test');

    const config = await mgmt('GET', '/registries/contoso/webhooks/mainhook/config');
    assert.deepEqual(config.body, { serviceUri: `${receiver.url}/main`, customHeaders: { 'X-Hook-Secret': '***', Authorization: '***' } });
    assert.equal(JSON.stringify((await mgmt('GET', '/registries/contoso/webhooks/mainhook')).body).includes('s3cret'), false);
    assert.equal((await mgmt('DELETE', '/registries/contoso/webhooks/mainhook')).status, 204);
  });

  it('sends only what the scope and actions select', async () => {
    await createHook('contoso', { name: 'prodhook', serviceUri: `${receiver.url}/prod`, actions: ['push'], scope: 'app:prod' });
    await createHook('contoso', { name: 'sampleshook', serviceUri: `${receiver.url}/samples`, actions: ['push'], scope: 'samples/*:*' });
    await createHook('contoso', { name: 'deleteshook', serviceUri: `${receiver.url}/deletes`, actions: ['delete'] });
    await createHook('contoso', { name: 'everything', serviceUri: `${receiver.url}/everything`, actions: ['push'] });
    for (const [repository, tag] of [['app', 'dev'], ['app', 'prod'], ['samples/web', 'v1'], ['other', 'prod']] as const) {
      await dockerPush(repository, tag);
    }
    await receiver.waitFor((requests) => requests.length === 4, { path: '/everything' });
    await sleep(300);
    const seen = (path: string) => receiver.received.filter((request) => request.path === path).map((request) => `${request.body.target.repository}:${request.body.target.tag}`);
    assert.deepEqual(seen('/prod'), ['app:prod']);
    assert.deepEqual(seen('/samples'), ['samples/web:v1']);
    assert.deepEqual(seen('/deletes'), []);
    for (const name of ['prodhook', 'sampleshook', 'deleteshook', 'everything']) await mgmt('DELETE', `/registries/contoso/webhooks/${name}`);
  });

  it('sends nothing to a disabled webhook, and resumes with new events once enabled', async () => {
    await createHook('contoso', { name: 'offhook', serviceUri: `${receiver.url}/off`, actions: ['push'], status: 'disabled' });
    await createHook('contoso', { name: 'onhook', serviceUri: `${receiver.url}/on`, actions: ['push'] });
    await dockerPush('quiet', 'v1');
    await receiver.waitFor((requests) => requests.length === 1, { path: '/on' });
    await sleep(300);
    assert.equal(receiver.received.filter((request) => request.path === '/off').length, 0);
    assert.deepEqual(await deliveries('contoso', 'offhook'), []);

    const enabled = await mgmt('PATCH', '/registries/contoso/webhooks/offhook', { status: 'enabled' });
    assert.equal(enabled.body.status, 'enabled');
    await dockerPush('quiet', 'v2');
    const received = await receiver.waitFor((requests) => requests.length >= 1, { path: '/off' });
    await sleep(200);
    assert.deepEqual(received.map((request) => request.body.target.tag), ['v2']);
    for (const name of ['offhook', 'onhook']) await mgmt('DELETE', `/registries/contoso/webhooks/${name}`);
  });

  it('retries an endpoint that answers 500 with backoff until it recovers, then records it delivered', async () => {
    receiver.setMode('fail', '/flaky');
    await createHook('contoso', { name: 'flakyhook', serviceUri: `${receiver.url}/flaky`, actions: ['push'] });
    await dockerPush('retried', 'v1');
    const failures = await receiver.waitFor((requests) => requests.length >= 2, { path: '/flaky' });
    const pending = (await deliveries('contoso', 'flakyhook'))[0]!;
    assert.equal(pending.status, 'pending');
    assert.ok(pending.attempts >= 2);
    assert.ok(pending.nextAttemptTime);
    assert.equal(pending.eventResponseMessage?.statusCode, '500');
    assert.equal(pending.eventResponseMessage?.content, 'receiver is down');
    assert.match(pending.error ?? '', /500/);
    assert.equal(new Set(failures.map((request) => request.body.id)).size, 1, 'the same event id on every attempt');

    receiver.setMode('ok', '/flaky');
    const [delivered] = await deliveriesWhen('contoso', 'flakyhook', (list) => list[0]?.status === 'delivered');
    assert.ok(delivered!.attempts >= 3);
    assert.equal(delivered!.error, null);
    await mgmt('DELETE', '/registries/contoso/webhooks/flakyhook');
  });

  it('gives up after the configured attempts and records the event as failed', async () => {
    receiver.setMode('fail', '/down');
    await createHook('contoso', { name: 'downhook', serviceUri: `${receiver.url}/down`, actions: ['push'] });
    await dockerPush('given-up', 'v1');
    const [failed] = await deliveriesWhen('contoso', 'downhook', (list) => list[0]?.status === 'failed');
    assert.equal(failed!.attempts, 5);
    assert.equal(receiver.received.filter((request) => request.path === '/down').length, 5);
    await mgmt('DELETE', '/registries/contoso/webhooks/downhook');
  });

  it('keeps serving pushes and pulls, and other webhooks, while an endpoint hangs', async () => {
    receiver.setMode('hang', '/hang');
    await createHook('contoso', { name: 'hanghook', serviceUri: `${receiver.url}/hang`, actions: ['push'] });
    await createHook('contoso', { name: 'livelyhook', serviceUri: `${receiver.url}/lively`, actions: ['push'] });
    const started = Date.now();
    for (let i = 0; i < 5; i++) {
      const image = await dockerPush('busy', `v${i}`);
      const pulled = await server.request(`/v2/busy/manifests/v${i}`, { host: contoso, headers: { accept: image.mediaType } });
      assert.equal(pulled.status, 200);
    }
    assert.ok(Date.now() - started < 5000, 'the registry is not held up by a hanging webhook');
    await receiver.waitFor((requests) => requests.length === 5, { path: '/lively', timeoutMs: 5000 });
    await receiver.waitFor((requests) => requests.length >= 1, { path: '/hang' });
    const [hanging] = await deliveriesWhen('contoso', 'hanghook', (list) => list.some((delivery) => delivery.attempts >= 1 && delivery.error !== null));
    assert.ok(hanging);
    const timedOut = (await deliveries('contoso', 'hanghook')).find((delivery) => delivery.error !== null)!;
    assert.match(timedOut.error ?? '', /within 1000 ms/);
    assert.equal(timedOut.eventResponseMessage, null);
    for (const name of ['hanghook', 'livelyhook']) await mgmt('DELETE', `/registries/contoso/webhooks/${name}`);
  });

  it('pings: sends a ping event at once and lists its result', async () => {
    await createHook('contoso', { name: 'pinghook', serviceUri: `${receiver.url}/ping`, actions: ['delete'] });
    const ping = await mgmt('POST', '/registries/contoso/webhooks/pinghook/ping');
    assert.equal(ping.status, 200);
    assert.match(ping.body.id, uuid);
    const [received] = receiver.received.filter((request) => request.path === '/ping');
    assert.deepEqual({ ...received?.body, timestamp: '' }, { id: ping.body.id, timestamp: '', action: 'ping' });
    const [listed] = await deliveries('contoso', 'pinghook');
    assert.deepEqual([listed?.id, listed?.action, listed?.status, listed?.eventResponseMessage?.statusCode], [ping.body.id, 'ping', 'delivered', '200']);
    await mgmt('DELETE', '/registries/contoso/webhooks/pinghook');
  });

  it("refuses more webhooks than the registry's SKU allows", async () => {
    assert.equal((await mgmt('POST', '/registries', { name: 'basicregistry', sku: 'Basic' })).status, 201);
    for (const name of ['basicone', 'basictwo']) await createHook('basicregistry', { name, serviceUri: receiver.url, actions: ['push'] });
    const third = await mgmt('POST', '/registries/basicregistry/webhooks', { name: 'basicthree', serviceUri: receiver.url, actions: ['push'] });
    assert.equal(third.status, 409);
    assert.match(third.body.detail, /2 webhooks, the most its Basic SKU allows/);
    assert.equal((await mgmt('GET', '/registries/basicregistry/webhooks')).body.value.length, 2);
  });

  it('validates what it is given and answers 404 for what does not exist', async () => {
    const invalid = async (body: Record<string, unknown>, pattern: RegExp) => {
      const answer = await mgmt('POST', '/registries/contoso/webhooks', { name: 'badhook', serviceUri: receiver.url, actions: ['push'], ...body });
      assert.equal(answer.status, 400, JSON.stringify(answer.body));
      assert.match(answer.body.detail, pattern);
    };
    await invalid({ serviceUri: 'ftp://example.com/x' }, /http:\/\/ or https:\/\//);
    await invalid({ serviceUri: 'not a url' }, /not an absolute URL/);
    await invalid({ actions: ['pull'] }, /actions/);
    await invalid({ actions: [] }, /actions/);
    await invalid({ scope: 'a:b:c' }, /more than one ":"/);
    await invalid({ customHeaders: { 'Content-Type': 'text/plain' } }, /set by Berth/);
    await invalid({ customHeaders: { 'X-Bad': 'line\nbreak' } }, /one line/);
    await invalid({ name: 'bad' }, /name/);
    await invalid({ extra: true }, /additional/);
    assert.equal((await mgmt('GET', '/registries/contoso/webhooks/nosuchhook')).status, 404);
    assert.equal((await mgmt('POST', '/registries/contoso/webhooks/nosuchhook/ping')).status, 404);
    assert.equal((await mgmt('GET', '/registries/nosuchregistry/webhooks')).status, 404);
    assert.equal((await mgmt('POST', '/registries/nosuchregistry/webhooks', { name: 'somehook', serviceUri: receiver.url, actions: ['push'] })).status, 404);
    await createHook('contoso', { name: 'twicehook', serviceUri: receiver.url, actions: ['push'] });
    assert.equal((await mgmt('POST', '/registries/contoso/webhooks', { name: 'twicehook', serviceUri: receiver.url, actions: ['push'] })).status, 409);
    assert.equal((await mgmt('PATCH', '/registries/contoso/webhooks/twicehook', { scope: 'bad scope!' })).status, 400);
    await mgmt('DELETE', '/registries/contoso/webhooks/twicehook');
  });

  it('needs credentials, and manage rights to change webhooks', async () => {
    assert.equal((await server.request('/mgmt/v1/registries/contoso/webhooks', { auth: 'none' })).status, 401);
    const password = 'reader-password-1234';
    assert.equal((await mgmt('POST', '/users', { username: 'hookreader', password })).status, 201);
    assert.equal((await mgmt('POST', '/role-assignments', { assignee: 'hookreader', role: 'Reader', scope: '/registries/contoso' })).status, 201);
    const asReader = (method: string, path: string, body?: unknown) =>
      server.request(`/mgmt/v1${path}`, {
        method,
        auth: { username: 'hookreader', password },
        ...(body !== undefined && { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
    assert.equal((await asReader('GET', '/registries/contoso/webhooks')).status, 200);
    assert.equal((await asReader('POST', '/registries/contoso/webhooks', { name: 'readerhook', serviceUri: receiver.url, actions: ['push'] })).status, 403);
  });
});
