/**
 * The `webhooks` consumer of the outbox: turns each event into ACR event JSON and queues one
 * delivery per enabled webhook of its registry whose actions and scope match. A webhook gets
 * only events that happened after it was created. Queueing is idempotent (one delivery per
 * webhook and event id), so a batch handed over twice queues nothing twice.
 */
import type { StoredEvent } from '../meta/event-store.ts';
import type { NewDelivery, WebhookRecord, WebhookStore } from '../meta/webhook-store.ts';
import { webhookMessagesOf } from './acr-event.ts';
import { scopeMatches } from './scope.ts';

export const WEBHOOK_CONSUMER = 'webhooks';

function matches(webhook: WebhookRecord, event: StoredEvent, action: string, tag: string | undefined): boolean {
  return (
    webhook.registry === event.registry &&
    event.createdAt >= webhook.createdAt &&
    (webhook.actions as string[]).includes(action) &&
    scopeMatches(webhook.scope, event.repository, tag)
  );
}

/** The deliveries a batch of events calls for. */
export function deliveriesFor(events: StoredEvent[], webhooks: WebhookRecord[]): NewDelivery[] {
  const deliveries: NewDelivery[] = [];
  for (const event of events) {
    for (const message of webhookMessagesOf(event)) {
      for (const webhook of webhooks) {
        if (!matches(webhook, event, message.action, message.tag)) continue;
        deliveries.push({
          webhookId: webhook.id,
          eventId: message.eventId,
          eventSequence: event.sequence,
          action: message.action,
          payload: JSON.stringify(message.body),
        });
      }
    }
  }
  return deliveries;
}

/** The handler of the `webhooks` consumer; `queued` is called when deliveries were queued. */
export function webhookFanOut(webhooks: WebhookStore, queued: () => void): (events: StoredEvent[]) => Promise<void> {
  return async (events) => {
    const registries = [...new Set(events.map((event) => event.registry))];
    const candidates = await webhooks.listEnabledWebhooks(registries);
    if (candidates.length === 0) return;
    const deliveries = deliveriesFor(events, candidates);
    if (deliveries.length === 0) return;
    await webhooks.enqueueDeliveries(deliveries, new Date().toISOString());
    queued();
  };
}
