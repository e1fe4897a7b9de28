/**
 * The delivery loop: leases due webhook deliveries, sends each once, and records the result —
 * delivered on a 2xx, retried later with backoff on a timeout, network error, 408, 429 or 5xx,
 * failed on any other answer or when the attempts run out. Deliveries to different webhooks go
 * out in parallel (up to `concurrency`), one at a time per webhook, so an endpoint that hangs
 * holds one slot for one timeout and never the others — nor the registry, which only writes
 * events. On stop, attempts in flight are cancelled and their leases released, so the next
 * start (or another node) sends them at once: at-least-once, never lost.
 */
import type { Logger } from 'pino';
import type { AttemptResult, ClaimedDelivery, DeliveryKey, WebhookStore } from '../meta/webhook-store.ts';
import { retryDecision, type RetryOptions } from '../outbound/retry.ts';
import type { WebhookClient } from './webhook-client.ts';
import { Wakeup } from './wakeup.ts';

export interface DeliverySenderOptions {
  concurrency: number;
  pollMs: number;
  /** How long a claimed delivery stays leased to this process; longer than an attempt can take. */
  leaseMs: number;
  /** `maxRetries` = attempts after the first. */
  retry: RetryOptions;
  logger: Logger;
  now?: () => number;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export class DeliverySender {
  readonly #store: WebhookStore;
  readonly #client: WebhookClient;
  readonly #options: DeliverySenderOptions;
  readonly #now: () => number;
  readonly #wakeup = new Wakeup();
  readonly #cancel = new AbortController();
  /** By webhook id. */
  readonly #inFlight = new Map<string, Promise<void>>();
  #running: Promise<void> | undefined;
  #stopping = false;

  constructor(store: WebhookStore, client: WebhookClient, options: DeliverySenderOptions) {
    this.#store = store;
    this.#client = client;
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  start(): void {
    this.#running ??= this.#loop();
  }

  wake(): void {
    this.#wakeup.wake();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#cancel.abort();
    this.#wakeup.wake();
    await this.#running;
    await Promise.all(this.#inFlight.values());
  }

  async #loop(): Promise<void> {
    const { concurrency, pollMs, leaseMs, logger } = this.#options;
    while (!this.#stopping) {
      let more = false;
      const free = concurrency - this.#inFlight.size;
      if (free > 0) {
        try {
          const now = this.#now();
          const claimed = await this.#store.claimDeliveries({
            now: iso(now),
            leaseUntil: iso(now + leaseMs),
            limit: free,
            excludeWebhooks: [...this.#inFlight.keys()],
          });
          for (const delivery of claimed) this.#launch(delivery);
          more = claimed.length === free;
        } catch (error) {
          if (!this.#stopping) logger.error({ err: error }, 'claiming webhook deliveries failed; retrying');
        }
      }
      if (!more && !this.#stopping) await this.#wakeup.sleep(pollMs);
    }
  }

  #launch(delivery: ClaimedDelivery): void {
    const task = this.#deliver(delivery)
      .catch((error: unknown) => {
        this.#options.logger.error({ err: error, webhook: delivery.webhook.name, registry: delivery.webhook.registry }, 'recording a webhook delivery failed');
      })
      .finally(() => {
        this.#inFlight.delete(delivery.webhookId);
        this.#wakeup.wake();
      });
    this.#inFlight.set(delivery.webhookId, task);
  }

  async #deliver(delivery: ClaimedDelivery): Promise<void> {
    const key: DeliveryKey = { webhookId: delivery.webhookId, eventId: delivery.eventId };
    if (delivery.webhook.status !== 'enabled') {
      await this.#store.recordAttempt(key, { status: 'failed', attemptedAt: iso(this.#now()), response: null, error: 'the webhook was disabled before the event was sent' });
      return;
    }
    let attempt;
    try {
      attempt = await this.#client.send(delivery.webhook, delivery.payload, this.#cancel.signal);
    } catch {
      // Cancelled because we are stopping: hand the delivery back untouched.
      await this.#store.releaseDeliveries([key]);
      return;
    }
    const result = this.#resultOf(delivery, attempt);
    await this.#store.recordAttempt(key, result);
    if (result.status !== 'delivered') {
      const context = { webhook: delivery.webhook.name, registry: delivery.webhook.registry, event: delivery.eventId, attempt: delivery.attempts, error: attempt.error };
      if (result.status === 'failed') this.#options.logger.warn(context, 'webhook delivery failed; giving up');
      else this.#options.logger.info({ ...context, retryAt: result.nextAttemptAt }, 'webhook delivery failed; will retry');
    }
  }

  #resultOf(delivery: ClaimedDelivery, attempt: Awaited<ReturnType<WebhookClient['send']>>): AttemptResult {
    const now = this.#now();
    const base = { attemptedAt: iso(now), response: attempt.response, error: attempt.error };
    if (attempt.ok) return { ...base, status: 'delivered' };
    const decision = retryDecision(attempt.outcome, delivery.attempts, this.#options.retry, { now });
    if (!decision.retry) return { ...base, status: 'failed' };
    return { ...base, status: 'pending', nextAttemptAt: iso(now + decision.delayMs) };
  }
}
