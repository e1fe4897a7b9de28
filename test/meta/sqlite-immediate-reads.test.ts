/**
 * Prepared reads on the embedded database run at once while no one holds its connection, and go
 * through Kysely (waiting their turn) while a transaction or another query holds it, so they
 * never see rows a transaction has not committed.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { sql, type Generated, type Kysely } from 'kysely';
import { PreparedQuery } from '../../src/meta/prepared-query.ts';
import { openSqlite } from '../../src/meta/sqlite.ts';
import { isSettled } from '../helpers/promises.ts';

interface ItemsDatabase {
  items: { id: Generated<number>; name: string };
}

describe('prepared reads on SQLite', { timeout: 20_000 }, () => {
  let dir: string;
  let db: Kysely<ItemsDatabase>;
  let byName: PreparedQuery<{ name: string }, { id: number; name: string }>;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-sqlite-reads-'));
    db = openSqlite(join(dir, 'berth.db')) as unknown as Kysely<ItemsDatabase>;
    await sql`create table items (id integer primary key, name text not null unique)`.execute(db);
    byName = new PreparedQuery((p: { name: string }) => db.selectFrom('items').select(['id', 'name']).where('name', '=', p.name));
  });

  afterEach(async () => {
    await db.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers what the same query through Kysely answers, committed writes included', async () => {
    assert.deepEqual((await byName.execute(db, { name: 'a' })).rows, []);
    await db.insertInto('items').values({ name: 'a' }).execute();
    const direct = await byName.execute(db, { name: 'a' });
    const throughKysely = await db.selectFrom('items').select(['id', 'name']).where('name', '=', 'a').execute();
    assert.deepEqual(direct.rows, throughKysely);
    assert.equal(direct.rows.length, 1);
  });

  it('waits for an open transaction instead of reading its uncommitted rows', async () => {
    let commit!: () => void;
    let inserted!: () => void;
    const insertedYet = new Promise<void>((resolve) => (inserted = resolve));
    const transaction = db.transaction().execute(async (trx) => {
      await trx.insertInto('items').values({ name: 'pending' }).execute();
      inserted();
      await new Promise<void>((resolve) => (commit = resolve));
    });
    await insertedYet;
    const read = byName.execute(db, { name: 'pending' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(await isSettled(read), false, 'the read waits while the transaction holds the connection');
    commit();
    await transaction;
    assert.equal((await read).rows.length, 1, 'and then sees the committed row');
  });

  it('sees a transaction’s own rows when run on the transaction', async () => {
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('items').values({ name: 'mine' }).execute();
      assert.equal((await byName.execute(trx, { name: 'mine' })).rows.length, 1);
    });
  });

  it('runs a query that writes through Kysely, which commits it', async () => {
    const insertReturning = new PreparedQuery((p: { name: string }) => db.insertInto('items').values({ name: p.name }).returning('id'));
    const { rows } = await insertReturning.execute(db, { name: 'written' });
    assert.equal(rows.length, 1);
    await db.destroy();
    db = openSqlite(join(dir, 'berth.db')) as unknown as Kysely<ItemsDatabase>;
    const again = new PreparedQuery((p: { name: string }) => db.selectFrom('items').select(['id', 'name']).where('name', '=', p.name));
    assert.equal((await again.execute(db, { name: 'written' })).rows.length, 1);
  });
});
