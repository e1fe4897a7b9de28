/**
 * `EventStore` on Kysely, and the outbox write the metadata store makes inside each change's
 * transaction (`append`, one prepared insert; the transaction's last statement).
 *
 * PostgreSQL hands out identity values when rows are inserted, not when they commit, so two
 * transactions could commit sequences 11 then 10, and a reader that saw 11 would skip 10 for
 * good. `append` therefore takes a transaction-scoped advisory lock before inserting: sequences
 * are taken one transaction at a time and become visible in order. Because the insert is the
 * last statement, the lock is held only while the transaction commits, and its holder never
 * waits for another lock (no deadlock). SQLite serialises writers, so it needs no lock.
 */
import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { ChangeOrigin, EventStore, NewChange, StoredEvent } from './event-store.ts';
import type { SqlDialect } from './migrations.ts';
import { PreparedQuery } from './prepared-query.ts';
import type { Database, EventsTable } from './schema.ts';
import { timestamp } from './transactions.ts';

type Db = Kysely<Database>;

/** The outbox's advisory lock (any constant every node shares: "bertev" in ASCII). */
const outboxLock = sql`select pg_advisory_xact_lock(${sql.lit(0x626572746576)})`;

function toStoredEvent(row: Selectable<EventsTable>): StoredEvent {
  return {
    sequence: row.sequence,
    id: row.id,
    createdAt: row.created_at,
    action: row.action as StoredEvent['action'],
    registry: row.registry,
    repository: row.repository,
    digest: row.digest,
    mediaType: row.media_type,
    size: row.size,
    tags: JSON.parse(row.tags) as string[],
    origin: row.origin === null ? null : (JSON.parse(row.origin) as ChangeOrigin),
  };
}

function prepareQueries(db: Db) {
  return {
    insertEvent: new PreparedQuery(
      (p: {
        id: string;
        now: string;
        action: string;
        registry: string;
        repository: string;
        digest: string;
        mediaType: string | null;
        size: number | null;
        tags: string;
        origin: string | null;
      }) =>
        db.insertInto('events').values({
          id: p.id,
          created_at: p.now,
          action: p.action,
          registry: p.registry,
          repository: p.repository,
          digest: p.digest,
          media_type: p.mediaType,
          size: p.size,
          tags: p.tags,
          origin: p.origin,
        }),
    ),

    eventsAfter: new PreparedQuery((p: { after: number; limit: number }) =>
      db.selectFrom('events').selectAll().where('sequence', '>', p.after).orderBy('sequence').limit(p.limit),
    ),
  };
}

export class KyselyEventStore implements EventStore {
  readonly #db: Db;
  readonly #postgres: boolean;
  readonly #queries: ReturnType<typeof prepareQueries>;
  readonly #listeners = new Set<() => void>();

  constructor(db: Db, dialect: SqlDialect) {
    this.#db = db;
    this.#postgres = dialect === 'postgres';
    this.#queries = prepareQueries(db);
  }

  /** Records `change` in the transaction `trx`; call as its last statement, then `announce()` after it commits. */
  async append(trx: Transaction<Database>, change: NewChange, now: string = timestamp()): Promise<void> {
    if (this.#postgres) await outboxLock.execute(trx);
    await this.#queries.insertEvent.execute(trx, {
      id: randomUUID(),
      now,
      action: change.action,
      registry: change.registry,
      repository: change.repository,
      digest: change.digest,
      mediaType: change.mediaType,
      size: change.size,
      tags: JSON.stringify(change.tags),
      origin: change.origin === null ? null : JSON.stringify(change.origin),
    });
  }

  /** Tells this process's listeners that events were committed. */
  announce(): void {
    for (const listener of this.#listeners) listener();
  }

  onAppended(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async readAfter(after: number, limit: number): Promise<StoredEvent[]> {
    const { rows } = await this.#queries.eventsAfter.execute(this.#db, { after, limit });
    return rows.map(toStoredEvent);
  }

  async latestSequence(): Promise<number> {
    const row = await this.#db.selectFrom('events').select('sequence').orderBy('sequence', 'desc').limit(1).executeTakeFirst();
    return row?.sequence ?? 0;
  }

  async cursor(consumer: string): Promise<number> {
    const row = await this.#db.selectFrom('event_consumers').select('position').where('name', '=', consumer).executeTakeFirst();
    if (row) return row.position;
    await this.#db
      .insertInto('event_consumers')
      .values({ name: consumer, position: 0, updated_at: timestamp() })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    return 0;
  }

  async advanceCursor(consumer: string, sequence: number): Promise<void> {
    const now = timestamp();
    await this.#db
      .insertInto('event_consumers')
      .values({ name: consumer, position: sequence, updated_at: now })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet({ position: sequence, updated_at: now })
          .where('event_consumers.position', '<', sequence),
      )
      .execute();
  }

  async prune(before: string): Promise<number> {
    const result = await this.#db
      .deleteFrom('events')
      .where('created_at', '<', before)
      .where('sequence', '<=', (eb) => eb.selectFrom('event_consumers').select((e) => e.fn.min('position').as('position')))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
