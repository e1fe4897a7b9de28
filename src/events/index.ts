/**
 * Event delivery for one process: the `webhooks` consumer of the outbox (fan-out into queued
 * deliveries) and the delivery loop, plus an hourly prune of events every consumer has passed
 * and of finished deliveries older than the retention. Started by `server.ts`; nothing else in
 * the server depends on it running.
 */
import type { Logger } from 'pino';
import type { EventStore } from '../meta/event-store.ts';
import type { WebhookStore } from '../meta/webhook-store.ts';
import { DeliverySender } from './delivery-sender.ts';
import { OutboxConsumer } from './outbox-consumer.ts';
import type { WebhookClient } from './webhook-client.ts';
import { WEBHOOK_CONSUMER, webhookFanOut } from './webhook-fan-out.ts';

/** The `events` section of the configuration, and a logger. */
export interface EventDeliveryOptions {
  pollMilliseconds: number;
  /** Consumed events and finished deliveries are kept this long. */
  keepDays: number;
  webhooks: {
    timeoutSeconds: number;
    maxAttempts: number;
    retryBaseSeconds: number;
    retryMaxSeconds: number;
    concurrency: number;
  };
  logger: Logger;
}

export interface EventDelivery {
  stop(): Promise<void>;
}

const PRUNE_INTERVAL_MS = 3600_000;
const EVENT_BATCH = 100;

export function startEventDelivery(stores: { events: EventStore; webhooks: WebhookStore }, client: WebhookClient, options: EventDeliveryOptions): EventDelivery {
  const { logger, webhooks } = options;
  const sender = new DeliverySender(stores.webhooks, client, {
    concurrency: webhooks.concurrency,
    pollMs: options.pollMilliseconds,
    // Longer than any attempt (bounded by the timeout), so a lease ends only when its node died.
    leaseMs: 2 * webhooks.timeoutSeconds * 1000 + 5000,
    retry: { maxRetries: webhooks.maxAttempts - 1, baseDelayMs: webhooks.retryBaseSeconds * 1000, maxDelayMs: webhooks.retryMaxSeconds * 1000 },
    logger,
  });
  const fanOut = new OutboxConsumer(
    stores.events,
    { name: WEBHOOK_CONSUMER, batchSize: EVENT_BATCH, pollMs: options.pollMilliseconds, logger },
    webhookFanOut(stores.webhooks, () => sender.wake()),
  );

  const prune = async () => {
    const before = new Date(Date.now() - options.keepDays * 86_400_000).toISOString();
    const events = await stores.events.prune(before);
    const deliveries = await stores.webhooks.pruneDeliveries(before);
    if (events + deliveries > 0) logger.info({ events, deliveries }, 'pruned old events and webhook deliveries');
  };
  const pruning = setInterval(() => void prune().catch((error: unknown) => logger.error({ err: error }, 'pruning events failed')), PRUNE_INTERVAL_MS);
  pruning.unref();

  fanOut.start();
  sender.start();
  return {
    async stop() {
      clearInterval(pruning);
      await fanOut.stop();
      await sender.stop();
    },
  };
}
