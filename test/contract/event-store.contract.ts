/**
 * The events outbox and webhook part of the `MetaStore` contract, run inside `metaStoreContract`
 * on every database: registries `contoso` and `fabrikam` exist.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChangeOrigin, StoredEvent } from '../../src/meta/event-store.ts';
import { RegistryNotFoundError, type MetaStore, type NewManifest } from '../../src/meta/meta-store.ts';
import { WebhookExistsError, WebhookLimitError, type NewWebhook } from '../../src/meta/webhook-store.ts';
import { digestOf } from '../../src/oci/digest.ts';

const imageType = 'application/vnd.oci.image.manifest.v1+json';
const indexType = 'application/vnd.oci.image.index.v1+json';

const origin: ChangeOrigin = {
  requestId: '6f1e0c9a-3b2d-4c5e-8f70-112233445566',
  host: 'contoso.localhost:5000',
  method: 'PUT',
  userAgent: 'docker/24.0',
  address: '127.0.0.1',
  actor: 'owner',
};

/** Links a blob for `label` and returns an image manifest on it (not yet put). */
async function imageOn(store: MetaStore, registry: string, repository: string, label: string, tags: string[] = []): Promise<NewManifest> {
  const layer = Buffer.from(`layer ${label}`);
  await store.linkBlob(registry, repository, digestOf(layer), layer.length);
  const content = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: imageType, label, layers: [digestOf(layer)] }));
  return {
    registry,
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
  };
}

function webhook(registry: string, name: string, overrides: Partial<NewWebhook> = {}): NewWebhook {
  return {
    registry,
    name,
    serviceUri: `http://127.0.0.1:9/${name}`,
    actions: ['push'],
    scope: '',
    status: 'enabled',
    customHeaders: null,
    ...overrides,
  };
}

function later(ms: number): string {
  return new Date(Date.now() + ms).toISOString();
}

async function allEvents(store: MetaStore): Promise<StoredEvent[]> {
  return await store.events.readAfter(0, 10_000);
}

export function eventStoreContract(current: () => MetaStore, reopen: () => Promise<MetaStore>): void {
  describe('events outbox', () => {
    it('records a push with its tags and origin in the put, in sequence order', async () => {
      const store = current();
      assert.equal(await store.events.latestSequence(), 0);
      const first = await imageOn(store, 'contoso', 'app', 'one', ['v1', 'latest']);
      await store.putManifest({ ...first, origin });
      const second = await imageOn(store, 'fabrikam', 'web', 'two');
      await store.putManifest(second);

      const events = await allEvents(store);
      assert.equal(events.length, 2);
      const [push, untagged] = events as [StoredEvent, StoredEvent];
      assert.ok(push.sequence < untagged.sequence);
      assert.equal(await store.events.latestSequence(), untagged.sequence);
      assert.match(push.id, /^[0-9a-f-]{36}$/);
      assert.match(push.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.deepEqual(
        { ...push, sequence: 0, id: '', createdAt: '' },
        {
          sequence: 0,
          id: '',
          createdAt: '',
          action: 'push',
          registry: 'contoso',
          repository: 'app',
          digest: first.digest,
          mediaType: imageType,
          size: first.content.length,
          tags: ['latest', 'v1'],
          origin,
        },
      );
      assert.equal(untagged.registry, 'fabrikam');
      assert.deepEqual(untagged.tags, []);
      assert.equal(untagged.origin, null);
    });

    it('records a push again when the same manifest is put again (a tag moved back)', async () => {
      const store = current();
      const manifest = await imageOn(store, 'contoso', 'app', 'one', ['latest']);
      await store.putManifest(manifest);
      await store.putManifest({ ...manifest, tags: ['stable'] });
      assert.deepEqual((await allEvents(store)).map((event) => [event.action, event.tags]), [
        ['push', ['latest']],
        ['push', ['stable']],
      ]);
    });

    it('records nothing for a put that fails', async () => {
      const store = current();
      const manifest = await imageOn(store, 'contoso', 'app', 'one');
      await assert.rejects(store.putManifest({ ...manifest, blobs: [digestOf('missing')] }));
      await assert.rejects(store.putManifest({ ...manifest, registry: 'nosuchregistry' }), RegistryNotFoundError);
      assert.deepEqual(await allEvents(store), []);
    });

    it('records a manifest delete with the tags it removed, and a tag deleted alone as untag', async () => {
      const store = current();
      const kept = await imageOn(store, 'contoso', 'app', 'kept', ['keep']);
      const gone = await imageOn(store, 'contoso', 'app', 'gone', ['b', 'a']);
      await store.putManifest(kept);
      await store.putManifest(gone);
      assert.equal(await store.deleteTag('contoso', 'app', 'keep', { ...origin, method: 'DELETE' }), true);
      assert.equal(await store.deleteTag('contoso', 'app', 'keep'), false);
      assert.deepEqual(await store.deleteManifest('contoso', 'app', gone.digest, { ...origin, method: 'DELETE' }), { status: 'deleted' });
      assert.deepEqual(await store.deleteManifest('contoso', 'app', gone.digest), { status: 'not-found' });

      const [, , untag, deleted, ...rest] = await allEvents(store);
      assert.deepEqual(rest, []);
      assert.deepEqual(
        { action: untag?.action, digest: untag?.digest, tags: untag?.tags, method: untag?.origin?.method },
        { action: 'untag', digest: kept.digest, tags: ['keep'], method: 'DELETE' },
      );
      assert.deepEqual(
        { action: deleted?.action, digest: deleted?.digest, mediaType: deleted?.mediaType, size: deleted?.size, tags: deleted?.tags },
        { action: 'delete', digest: gone.digest, mediaType: imageType, size: gone.content.length, tags: ['a', 'b'] },
      );
    });

    it('records nothing for a delete refused because an index references the manifest', async () => {
      const store = current();
      const child = await imageOn(store, 'contoso', 'app', 'child');
      await store.putManifest(child);
      const content = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: indexType, manifests: [child.digest] }));
      await store.putManifest({ ...child, digest: digestOf(content), mediaType: indexType, content, blobs: [], manifests: [child.digest] });
      const before = await store.events.latestSequence();
      assert.equal((await store.deleteManifest('contoso', 'app', child.digest)).status, 'referenced');
      assert.equal(await store.events.latestSequence(), before);
    });

    it('pages through events after a sequence', async () => {
      const store = current();
      for (const label of ['a', 'b', 'c', 'd', 'e']) await store.putManifest(await imageOn(store, 'contoso', 'app', label));
      const all = await allEvents(store);
      const page = await store.events.readAfter(all[1]!.sequence, 2);
      assert.deepEqual(page.map((event) => event.sequence), [all[2]!.sequence, all[3]!.sequence]);
      assert.deepEqual(await store.events.readAfter(all[4]!.sequence, 10), []);
    });

    it('tells listeners after a change commits, not for a change that did not happen', async () => {
      const store = current();
      let calls = 0;
      const unsubscribe = store.events.onAppended(() => calls++);
      await store.putManifest(await imageOn(store, 'contoso', 'app', 'one', ['x']));
      await store.deleteTag('contoso', 'app', 'x');
      await store.deleteTag('contoso', 'app', 'x');
      unsubscribe();
      await store.putManifest(await imageOn(store, 'contoso', 'app', 'two'));
      assert.equal(calls, 2);
    });

    it('keeps each consumer cursor durably, moving only forward', async () => {
      let store = current();
      assert.equal(await store.events.cursor('webhooks'), 0);
      await store.events.advanceCursor('webhooks', 7);
      await store.events.advanceCursor('webhooks', 5);
      await store.events.advanceCursor('audit', 2);
      store = await reopen();
      assert.equal(await store.events.cursor('webhooks'), 7);
      assert.equal(await store.events.cursor('audit'), 2);
    });

    it('keeps events across a reopen, and the sequence keeps growing', async () => {
      let store = current();
      await store.putManifest(await imageOn(store, 'contoso', 'app', 'one'));
      const [first] = await allEvents(store);
      store = await reopen();
      await store.putManifest(await imageOn(store, 'contoso', 'app', 'two'));
      const events = await allEvents(store);
      assert.equal(events.length, 2);
      assert.equal(events[0]?.id, first?.id);
      assert.ok(events[1]!.sequence > first!.sequence);
    });

    it('prunes only old events that every consumer has passed', async () => {
      const store = current();
      for (const label of ['a', 'b', 'c']) await store.putManifest(await imageOn(store, 'contoso', 'app', label));
      const all = await allEvents(store);
      await store.events.advanceCursor('webhooks', all[2]!.sequence);
      await store.events.advanceCursor('audit', all[0]!.sequence);
      assert.equal(await store.events.prune(later(-60_000)), 0, 'nothing is old enough');
      assert.equal(await store.events.prune(later(60_000)), 1, 'only what the slowest consumer passed');
      assert.deepEqual((await allEvents(store)).map((event) => event.sequence), [all[1]!.sequence, all[2]!.sequence]);
    });

    it('never lets a reader pass an event that commits late, under concurrent puts', async () => {
      const store = current();
      const manifests = await Promise.all(Array.from({ length: 40 }, (_, i) => imageOn(store, i % 2 ? 'contoso' : 'fabrikam', `repo${i % 5}`, `m${i}`, [`t${i}`])));
      const seen: number[] = [];
      let cursor = 0;
      let writing = true;
      const reader = (async () => {
        // Bounded in time, not rounds: on a loaded machine the puts may take many empty reads.
        const deadline = Date.now() + 60_000;
        while (Date.now() < deadline) {
          const batch = await store.events.readAfter(cursor, 7);
          for (const event of batch) seen.push(event.sequence);
          if (batch.length > 0) cursor = batch[batch.length - 1]!.sequence;
          else if (!writing) return;
          else await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      await Promise.all(manifests.map((manifest) => store.putManifest(manifest)));
      writing = false;
      await reader;
      assert.equal(seen.length, 40, 'every event read exactly once');
      assert.deepEqual(seen, [...seen].sort((a, b) => a - b));
      assert.equal(new Set(seen).size, 40);
    });
  });

  describe('webhooks', () => {
    it('creates, reads, lists, updates and deletes webhooks', async () => {
      const store = current();
      const created = await store.webhooks.createWebhook(webhook('contoso', 'hookb', { actions: ['push', 'delete'], scope: 'app:*', customHeaders: 'sealed' }));
      await store.webhooks.createWebhook(webhook('contoso', 'hooka'));
      await store.webhooks.createWebhook(webhook('fabrikam', 'hookb'));
      assert.match(created.id, /^[0-9a-f-]{36}$/);
      assert.deepEqual(
        { ...created, id: '', createdAt: '', updatedAt: '' },
        { ...webhook('contoso', 'hookb', { actions: ['push', 'delete'], scope: 'app:*', customHeaders: 'sealed' }), id: '', createdAt: '', updatedAt: '' },
      );
      assert.deepEqual(await store.webhooks.getWebhook('contoso', 'hookb'), created);
      assert.deepEqual((await store.webhooks.listWebhooks('contoso')).map((hook) => hook.name), ['hooka', 'hookb']);
      assert.equal(await store.webhooks.countWebhooks('contoso'), 2);

      const updated = await store.webhooks.updateWebhook('contoso', 'hookb', { status: 'disabled', scope: '', customHeaders: null });
      assert.equal(updated?.status, 'disabled');
      assert.equal(updated?.scope, '');
      assert.equal(updated?.customHeaders, null);
      assert.deepEqual(updated?.actions, ['push', 'delete']);
      assert.equal(await store.webhooks.updateWebhook('contoso', 'nohook', { status: 'enabled' }), undefined);
      assert.deepEqual((await store.webhooks.listEnabledWebhooks(['contoso', 'fabrikam'])).map((hook) => `${hook.registry}/${hook.name}`), ['contoso/hooka', 'fabrikam/hookb']);

      assert.equal(await store.webhooks.deleteWebhook('contoso', 'hookb'), true);
      assert.equal(await store.webhooks.deleteWebhook('contoso', 'hookb'), false);
      assert.equal(await store.webhooks.getWebhook('contoso', 'hookb'), undefined);
    });

    it("refuses a second webhook of the same name, and more than the registry's SKU allows", async () => {
      const store = current();
      await store.createRegistry('basicregistry', { sku: 'Basic' });
      await store.webhooks.createWebhook(webhook('basicregistry', 'hookone'));
      await assert.rejects(store.webhooks.createWebhook(webhook('basicregistry', 'hookone')), WebhookExistsError);
      await store.webhooks.createWebhook(webhook('basicregistry', 'hooktwo'));
      await assert.rejects(store.webhooks.createWebhook(webhook('basicregistry', 'hookthree')), (error: unknown) => error instanceof WebhookLimitError && error.limit === 2);
      await assert.rejects(store.webhooks.createWebhook(webhook('nosuchregistry', 'hookone')), RegistryNotFoundError);
    });

    it('never exceeds the limit under concurrent creates', async () => {
      const store = current();
      await store.createRegistry('basicracing', { sku: 'Basic' });
      const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => store.webhooks.createWebhook(webhook('basicracing', `racing${i}`))));
      assert.equal(results.filter((result) => result.status === 'fulfilled').length, 2);
      assert.equal(await store.webhooks.countWebhooks('basicracing'), 2);
    });

    it('go with their registry, deliveries included', async () => {
      const store = current();
      const hook = await store.webhooks.createWebhook(webhook('fabrikam', 'hookone'));
      await store.webhooks.enqueueDeliveries([{ webhookId: hook.id, eventId: 'e1', eventSequence: 1, action: 'push', payload: '{}' }], later(0));
      await store.deleteRegistry('fabrikam');
      assert.deepEqual(await store.webhooks.listWebhooks('fabrikam'), []);
      assert.deepEqual(await store.webhooks.listDeliveries(hook.id, 10), []);
    });
  });

  describe('webhook deliveries', () => {
    async function twoHooks(store: MetaStore) {
      const one = await store.webhooks.createWebhook(webhook('contoso', 'hookone'));
      const two = await store.webhooks.createWebhook(webhook('contoso', 'hooktwo'));
      return { one, two };
    }

    it('queues a delivery once per webhook and event', async () => {
      const store = current();
      const { one } = await twoHooks(store);
      const delivery = { webhookId: one.id, eventId: 'e1', eventSequence: 1, action: 'push', payload: '{"a":1}' };
      await store.webhooks.enqueueDeliveries([delivery], later(0));
      await store.webhooks.enqueueDeliveries([{ ...delivery, payload: '{"a":2}' }], later(0));
      const [listed, ...rest] = await store.webhooks.listDeliveries(one.id, 10);
      assert.deepEqual(rest, []);
      assert.equal(listed?.payload, '{"a":1}');
      assert.equal(listed?.status, 'pending');
      assert.equal(listed?.attempts, 0);
    });

    it('leases due deliveries, oldest first, at most one per webhook per claim, each to one claimer', async () => {
      const store = current();
      const { one, two } = await twoHooks(store);
      await store.webhooks.enqueueDeliveries(
        [
          { webhookId: one.id, eventId: 'e1', eventSequence: 1, action: 'push', payload: '{}' },
          { webhookId: two.id, eventId: 'e1', eventSequence: 1, action: 'push', payload: '{}' },
        ],
        later(0),
      );
      await store.webhooks.enqueueDeliveries([{ webhookId: one.id, eventId: 'e2', eventSequence: 2, action: 'push', payload: '{}' }], later(5));
      const claim = (exclude: string[] = []) => store.webhooks.claimDeliveries({ now: later(10), leaseUntil: later(60_000), limit: 10, excludeWebhooks: exclude });

      const first = await claim();
      assert.deepEqual(first.map((delivery) => `${delivery.webhook.name}:${delivery.eventId}`).sort(), ['hookone:e1', 'hooktwo:e1']);
      assert.equal(first[0]?.attempts, 1, 'claiming counts the attempt');
      assert.ok(first[0]?.webhook.serviceUri.startsWith('http://127.0.0.1:9/'));
      assert.deepEqual((await claim([one.id])).map((delivery) => delivery.eventId), [], 'hookone excluded; hooktwo leased');

      const [a, b] = await Promise.all([claim(), claim()]);
      const racing = [...a!, ...b!].map((delivery) => `${delivery.webhook.name}:${delivery.eventId}`);
      assert.deepEqual(racing, ['hookone:e2'], 'the one left goes to one claimer');

      await store.webhooks.releaseDeliveries([{ webhookId: one.id, eventId: 'e1' }]);
      const again = await claim();
      assert.deepEqual(again.map((delivery) => `${delivery.webhook.name}:${delivery.eventId}:${delivery.attempts}`), ['hookone:e1:1'], 'released: due at once, attempt not counted');
    });

    it('records attempts: a retry waits until due, delivered and failed ones are never claimed again', async () => {
      const store = current();
      const { one, two } = await twoHooks(store);
      await store.webhooks.enqueueDeliveries(
        [
          { webhookId: one.id, eventId: 'e1', eventSequence: 1, action: 'push', payload: '{}' },
          { webhookId: two.id, eventId: 'e1', eventSequence: 1, action: 'push', payload: '{}' },
        ],
        later(0),
      );
      const claim = (at: number) => store.webhooks.claimDeliveries({ now: later(at), leaseUntil: later(at + 60_000), limit: 10, excludeWebhooks: [] });
      assert.equal((await claim(1)).length, 2);
      const attemptedAt = later(0);
      await store.webhooks.recordAttempt(
        { webhookId: one.id, eventId: 'e1' },
        { status: 'pending', attemptedAt, nextAttemptAt: later(30_000), response: { status: 500, reason: 'Internal Server Error', headers: { 'x-a': 'b' }, body: 'oops' }, error: 'HTTP 500' },
      );
      await store.webhooks.recordAttempt({ webhookId: two.id, eventId: 'e1' }, { status: 'delivered', attemptedAt, response: { status: 200, reason: 'OK', headers: {}, body: '' }, error: null });

      assert.deepEqual(await claim(2), [], 'the retry is not due yet');
      const [retry] = await claim(31_000);
      assert.equal(retry?.webhookId, one.id);
      assert.equal(retry?.attempts, 2);
      assert.deepEqual(retry?.response, { status: 500, reason: 'Internal Server Error', headers: { 'x-a': 'b' }, body: 'oops' });
      assert.equal(retry?.lastAttemptAt, attemptedAt);
      await store.webhooks.recordAttempt({ webhookId: one.id, eventId: 'e1' }, { status: 'failed', attemptedAt, response: null, error: 'timed out' });
      assert.deepEqual(await claim(3_600_000), []);
      const [failed] = await store.webhooks.listDeliveries(one.id, 10);
      assert.deepEqual({ status: failed?.status, response: failed?.response, error: failed?.error }, { status: 'failed', response: null, error: 'timed out' });
    });

    it('records a ping as attempted once, lists newest first, prunes finished ones', async () => {
      const store = current();
      const { one } = await twoHooks(store);
      await store.webhooks.enqueueDeliveries([{ webhookId: one.id, eventId: 'e1', eventSequence: 1, action: 'push', payload: '{}' }], later(-10_000));
      await store.webhooks.recordDelivery(
        { webhookId: one.id, eventId: 'ping1', eventSequence: null, action: 'ping', payload: '{"action":"ping"}' },
        { status: 'delivered', attemptedAt: later(0), response: { status: 204, reason: 'No Content', headers: {}, body: '' }, error: null },
      );
      const listed = await store.webhooks.listDeliveries(one.id, 10);
      assert.deepEqual(listed.map((delivery) => [delivery.eventId, delivery.status, delivery.attempts]), [
        ['ping1', 'delivered', 1],
        ['e1', 'pending', 0],
      ]);
      assert.equal(await store.webhooks.pruneDeliveries(later(60_000)), 1, 'pending deliveries are kept');
      assert.deepEqual((await store.webhooks.listDeliveries(one.id, 10)).map((delivery) => delivery.eventId), ['e1']);
    });
  });
}
