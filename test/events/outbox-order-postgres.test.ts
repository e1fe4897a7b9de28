import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { NewChange } from '../../src/meta/event-store.ts';
import { KyselyEventStore } from '../../src/meta/kysely-event-store.ts';
import { migrateToLatest } from '../../src/meta/migrations.ts';
import { openPostgres } from '../../src/meta/postgres.ts';
import { startPostgres, type PostgresCluster } from '../helpers/postgres.ts';

const change = (digest: string): NewChange => ({
  action: 'push',
  registry: 'contoso',
  repository: 'app',
  digest,
  mediaType: null,
  size: null,
  tags: [],
  origin: null,
});

describe('events outbox on PostgreSQL: sequences become visible in order', () => {
  let cluster: PostgresCluster;
  before(async () => {
    cluster = await startPostgres();
  });
  after(async () => {
    await cluster?.stop();
  });

  it('holds back a later transaction until an earlier one with a lower sequence commits', async () => {
    const db = openPostgres(await cluster.createDatabase());
    try {
      await migrateToLatest(db, 'postgres');
      const events = new KyselyEventStore(db, 'postgres');
      let releaseFirst!: () => void;
      const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
      let firstAppended!: () => void;
      const appended = new Promise<void>((resolve) => (firstAppended = resolve));

      const first = db.transaction().execute(async (trx) => {
        await events.append(trx, change('sha256:first'));
        firstAppended();
        await firstHeld;
      });
      await appended;
      const second = db.transaction().execute(async (trx) => events.append(trx, change('sha256:second')));
      await sleep(300);
      // Without the lock the second would have committed sequence 2 while 1 was still open, and a
      // reader would have moved its cursor past 1 for good.
      const whileOpen = await events.readAfter(0, 10);
      releaseFirst();
      await Promise.all([first, second]);
      assert.deepEqual(whileOpen, [], 'nothing visible while the first is open');

      const visible = await events.readAfter(0, 10);
      assert.deepEqual(visible.map((event) => event.digest), ['sha256:first', 'sha256:second']);
      assert.ok(visible[0]!.sequence < visible[1]!.sequence);
    } finally {
      await db.destroy();
    }
  });
});
