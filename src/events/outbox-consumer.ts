/**
 * A consumer of the events outbox with its own durable cursor: reads the events after the
 * cursor in batches, hands each batch to its handler, then moves the cursor past it. The cursor
 * is stored when the loop idles for a poll interval or stops, and otherwise at most once per
 * poll interval. Events after the stored cursor are handed over again if the process dies, so
 * handlers must be idempotent — that is the price of at-least-once. The loop wakes shortly after
 * this process commits events and otherwise polls (for events other nodes committed).
 */
import type { Logger } from 'pino';
import type { EventStore, StoredEvent } from '../meta/event-store.ts';
import { Wakeup } from './wakeup.ts';

export interface OutboxConsumerOptions {
  /** The cursor's name; one per kind of consumer (`webhooks`, `triggers`, ...). */
  name: string;
  batchSize: number;
  pollMs: number;
  logger: Logger;
}

export type EventHandler = (events: StoredEvent[]) => Promise<void>;

/**
 * How long after a commit the loop wakes: the change's own response goes out first, and the
 * events of a burst of pushes are read together rather than one wake-up each.
 */
const wakeDelayMs = 10;

export class OutboxConsumer {
  readonly #events: EventStore;
  readonly #options: OutboxConsumerOptions;
  readonly #handle: EventHandler;
  readonly #wakeup = new Wakeup();
  #running: Promise<void> | undefined;
  #wakeTimer: NodeJS.Timeout | undefined;
  #stopping = false;
  #unsubscribe: (() => void) | undefined;

  constructor(events: EventStore, options: OutboxConsumerOptions, handle: EventHandler) {
    this.#events = events;
    this.#options = options;
    this.#handle = handle;
  }

  start(): void {
    if (this.#running) return;
    this.#unsubscribe = this.#events.onAppended(() => this.#wakeSoon());
    this.#running = this.#loop();
  }

  wake(): void {
    this.#wakeup.wake();
  }

  /** Stops after the batch in hand; its cursor is moved if it was handled. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#unsubscribe?.();
    clearTimeout(this.#wakeTimer);
    this.#wakeup.wake();
    await this.#running;
  }

  #wakeSoon(): void {
    this.#wakeTimer ??= setTimeout(() => {
      this.#wakeTimer = undefined;
      this.#wakeup.wake();
    }, wakeDelayMs);
  }

  async #loop(): Promise<void> {
    const { name, batchSize, pollMs, logger } = this.#options;
    /** The cursor as last read or handled; undefined: read it from the store. */
    let cursor: number | undefined;
    /** The cursor as last stored. */
    let stored: number | undefined;
    let storedAt = 0;
    // Storing the cursor is a durable commit; under a stream of pushes it is done at most once
    // per poll interval. A crash then hands over at most that much again, which handlers absorb.
    const store = async (force: boolean) => {
      if (cursor === undefined || cursor === stored || (!force && Date.now() - storedAt < pollMs)) return;
      await this.#events.advanceCursor(name, cursor);
      stored = cursor;
      storedAt = Date.now();
    };
    while (!this.#stopping) {
      try {
        if (cursor === undefined) {
          cursor = await this.#events.cursor(name);
          stored = cursor;
        }
        const batch = await this.#events.readAfter(cursor, batchSize);
        if (batch.length > 0) {
          await this.#handle(batch);
          cursor = batch[batch.length - 1]!.sequence;
          await store(false);
          if (batch.length === batchSize) continue;
        }
        await store(false);
      } catch (error) {
        cursor = undefined;
        if (this.#stopping) break;
        logger.error({ err: error, consumer: name }, 'processing events failed; retrying');
      }
      // Woken: this process committed events. Polled: another node may have moved the shared cursor on.
      if (!(await this.#wakeup.sleep(pollMs))) {
        await store(true).catch((error: unknown) => logger.error({ err: error, consumer: name }, 'storing the events cursor failed'));
        cursor = undefined;
      }
    }
    await store(true).catch((error: unknown) => logger.error({ err: error, consumer: name }, 'storing the events cursor failed'));
  }
}
