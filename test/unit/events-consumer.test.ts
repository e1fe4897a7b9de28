import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import pino from 'pino';
import { OutboxConsumer } from '../../src/events/outbox-consumer.ts';
import type { EventStore, StoredEvent } from '../../src/meta/event-store.ts';

/** An in-memory outbox with one consumer cursor. */
function memoryOutbox() {
  const events: StoredEvent[] = [];
  const listeners = new Set<() => void>();
  const cursors = new Map<string, number>();
  const store: EventStore = {
    async readAfter(after, limit) {
      return events.filter((event) => event.sequence > after).slice(0, limit);
    },
    async latestSequence() {
      return events.at(-1)?.sequence ?? 0;
    },
    async cursor(consumer) {
      return cursors.get(consumer) ?? 0;
    },
    async advanceCursor(consumer, sequence) {
      cursors.set(consumer, Math.max(cursors.get(consumer) ?? 0, sequence));
    },
    onAppended(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async prune() {
      return 0;
    },
  };
  const append = (count: number) => {
    for (let i = 0; i < count; i++) {
      const sequence = events.length + 1;
      events.push({ sequence, id: `e${sequence}`, createdAt: '', action: 'push', registry: 'r', repository: 'a', digest: 'd', mediaType: null, size: null, tags: [], origin: null });
    }
    for (const listener of listeners) listener();
  };
  return { store, append, cursors };
}

const logger = pino({ level: 'silent' });

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !condition(); i++) await sleep(10);
  assert.ok(condition(), 'condition not reached in 4 s');
}

describe('outbox consumer', () => {
  it('hands over every event once, in order and in batches, when woken', async () => {
    const outbox = memoryOutbox();
    const handled: number[][] = [];
    const consumer = new OutboxConsumer(outbox.store, { name: 'test', batchSize: 3, pollMs: 60_000, logger }, async (batch) => {
      handled.push(batch.map((event) => event.sequence));
    });
    consumer.start();
    outbox.append(7);
    await until(() => handled.flat().length === 7);
    assert.deepEqual(handled, [[1, 2, 3], [4, 5, 6], [7]]);
    await consumer.stop();
    assert.equal(outbox.cursors.get('test'), 7, 'the cursor is stored on stop');
  });

  it('reads the events of a burst of commits together, soon after the burst', async () => {
    const outbox = memoryOutbox();
    const handled: number[][] = [];
    const consumer = new OutboxConsumer(outbox.store, { name: 'test', batchSize: 100, pollMs: 60_000, logger }, async (batch) => {
      handled.push(batch.map((event) => event.sequence));
    });
    consumer.start();
    await sleep(20);
    for (let i = 0; i < 5; i++) {
      outbox.append(1);
      // The next commit comes a moment later, as from another request.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await until(() => handled.flat().length === 5);
    assert.deepEqual(handled, [[1, 2, 3, 4, 5]]);
    await consumer.stop();
  });

  it('starts after the stored cursor, and hands a failed batch over again', async () => {
    const outbox = memoryOutbox();
    outbox.append(4);
    await outbox.store.advanceCursor('test', 2);
    const handled: number[] = [];
    let failures = 1;
    const consumer = new OutboxConsumer(outbox.store, { name: 'test', batchSize: 10, pollMs: 20, logger }, async (batch) => {
      if (failures-- > 0) throw new Error('receiver store down');
      handled.push(...batch.map((event) => event.sequence));
    });
    consumer.start();
    await until(() => handled.length === 2);
    await consumer.stop();
    assert.deepEqual(handled, [3, 4]);
    assert.equal(outbox.cursors.get('test'), 4);
  });
});
