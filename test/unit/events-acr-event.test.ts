import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pingEvent, webhookMessagesOf } from '../../src/events/acr-event.ts';
import { deliveriesFor } from '../../src/events/webhook-fan-out.ts';
import type { StoredEvent } from '../../src/meta/event-store.ts';
import type { WebhookRecord } from '../../src/meta/webhook-store.ts';

const push: StoredEvent = {
  sequence: 7,
  id: '0b8e2f3a-58c4-4d0e-9f5e-5f2a1c3d4e5f',
  createdAt: '2026-01-31T12:00:00.123Z',
  action: 'push',
  registry: 'contoso',
  repository: 'hello-world',
  digest: 'sha256:aa',
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  size: 524,
  tags: ['v1'],
  origin: { requestId: 'req-1', host: 'contoso.localhost:5000', method: 'PUT', userAgent: 'docker/24.0', address: '127.0.0.1', actor: 'owner' },
};

function hook(overrides: Partial<WebhookRecord>): WebhookRecord {
  return {
    id: 'h1',
    registry: 'contoso',
    name: 'hookone',
    serviceUri: 'http://127.0.0.1:9/',
    actions: ['push', 'delete'],
    scope: '',
    status: 'enabled',
    customHeaders: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

describe("ACR's webhook event JSON", () => {
  it('sends a push as ACR does: target with media type, size, digest, length, repository, tag; the request', () => {
    const [message, ...rest] = webhookMessagesOf(push);
    assert.deepEqual(rest, []);
    assert.equal(
      JSON.stringify(message?.body),
      JSON.stringify({
        id: push.id,
        timestamp: '2026-01-31T12:00:00.123Z',
        action: 'push',
        target: { mediaType: push.mediaType, size: 524, digest: 'sha256:aa', length: 524, repository: 'hello-world', tag: 'v1' },
        request: { id: 'req-1', host: 'contoso.localhost:5000', method: 'PUT', useragent: 'docker/24.0' },
      }),
      'same fields, same order, no actor or address',
    );
  });

  it('sends one event per tag, each with a stable id of its own, and one without a tag for a push by digest', () => {
    const messages = webhookMessagesOf({ ...push, tags: ['latest', 'v1'] });
    assert.deepEqual(messages.map((message) => message.tag), ['latest', 'v1']);
    assert.notEqual(messages[0]?.eventId, messages[1]?.eventId);
    assert.deepEqual(webhookMessagesOf({ ...push, tags: ['latest', 'v1'] }).map((message) => message.eventId), messages.map((message) => message.eventId));
    for (const message of messages) assert.match(message.eventId, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const [byDigest] = webhookMessagesOf({ ...push, tags: [] });
    assert.equal(byDigest?.eventId, push.id);
    assert.equal('tag' in (byDigest?.body.target ?? {}), false);
  });

  it('sends a manifest delete without tag or size, and nothing for a tag deleted alone', () => {
    const [deleted] = webhookMessagesOf({ ...push, action: 'delete', tags: ['v1'], origin: { ...push.origin!, method: 'DELETE' } });
    assert.deepEqual(deleted?.body.target, { mediaType: push.mediaType, digest: 'sha256:aa', repository: 'hello-world' });
    assert.equal(deleted?.body.request?.method, 'DELETE');
    assert.deepEqual(webhookMessagesOf({ ...push, action: 'untag' }), []);
  });

  it('leaves out the request of a change no request made', () => {
    const [message] = webhookMessagesOf({ ...push, origin: null });
    assert.equal('request' in (message?.body ?? {}), false);
  });

  it('pings with an event that has no target', () => {
    assert.deepEqual(pingEvent('p1', '2026-01-31T12:00:00.000Z'), { id: 'p1', timestamp: '2026-01-31T12:00:00.000Z', action: 'ping' });
  });
});

describe('webhook fan-out', () => {
  it("queues an event for each enabled webhook of its registry whose actions and scope match, created before it", () => {
    const webhooks = [
      hook({ id: 'all' }),
      hook({ id: 'deletes-only', actions: ['delete'] }),
      hook({ id: 'other-repo', scope: 'other:*' }),
      hook({ id: 'v1-only', scope: 'hello-world:v1' }),
      hook({ id: 'other-registry', registry: 'fabrikam' }),
      hook({ id: 'newer', createdAt: '2026-02-01T00:00:00.000Z' }),
    ];
    const deliveries = deliveriesFor([push, { ...push, sequence: 8, id: 'd-1', action: 'delete', tags: [] }], webhooks);
    assert.deepEqual(
      deliveries.map((delivery) => `${delivery.webhookId}:${delivery.action}:${delivery.eventSequence}`),
      ['all:push:7', 'v1-only:push:7', 'all:delete:8', 'deletes-only:delete:8'],
    );
    assert.equal(JSON.parse(deliveries[0]!.payload).target.tag, 'v1');
  });
});
