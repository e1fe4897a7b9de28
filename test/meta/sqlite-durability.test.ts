/**
 * Durable commits on the embedded SQLite database: a write's promise resolves only after the WAL
 * is fdatasynced, concurrent commits share fdatasyncs, and reads, rollbacks and failed statements
 * do not sync. The WAL's fdatasyncs are observed through node's FileHandle, and, where a commit
 * may sync on the calling thread, through `fs.fdatasyncSync`.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { sql, type Generated, type Kysely } from 'kysely';
import { openSqlite } from '../../src/meta/sqlite.ts';
import { isSettled, settle } from '../helpers/promises.ts';

type Datasync = () => Promise<void>;

/** Counts FileHandle fdatasyncs; a call may be held until the test lets it go, or made to fail. */
const datasyncs = {
  calls: 0,
  held: new Map<number, Promise<void>>(),
  releases: [] as (() => void)[],
  failure: undefined as Error | undefined,
};

let fileHandlePrototype: { datasync: Datasync };
let originalDatasync: Datasync;

before(async () => {
  const probe = await open(import.meta.filename, 'r');
  fileHandlePrototype = Object.getPrototypeOf(probe) as { datasync: Datasync };
  await probe.close();
  originalDatasync = fileHandlePrototype.datasync;
  fileHandlePrototype.datasync = async function (this: unknown) {
    const call = datasyncs.calls++;
    await datasyncs.held.get(call);
    if (datasyncs.failure) throw datasyncs.failure;
    return originalDatasync.call(this);
  };
});

after(() => {
  fileHandlePrototype.datasync = originalDatasync;
});

/** Holds the `call`-th fdatasync (counted from 0) until the returned function is called. */
function holdDatasync(call: number): () => void {
  let release!: () => void;
  datasyncs.held.set(call, new Promise<void>((resolve) => (release = resolve)));
  datasyncs.releases.push(release);
  return release;
}

/** This test's own table, unknown to the registry's schema. */
interface ItemsDatabase {
  items: { id: Generated<number>; name: string };
}

const openItems = (path: string) => openSqlite(path) as unknown as Kysely<ItemsDatabase>;

describe('SQLite commits', { timeout: 20_000 }, () => {
  let dir: string;
  let db: Kysely<ItemsDatabase>;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-sqlite-durability-'));
    db = openItems(join(dir, 'berth.db'));
    await sql`create table items (id integer primary key, name text not null unique)`.execute(db);
    datasyncs.calls = 0;
    datasyncs.held.clear();
    datasyncs.failure = undefined;
  });

  afterEach(async () => {
    datasyncs.failure = undefined;
    for (const release of datasyncs.releases.splice(0)) release();
    await db.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  const insert = (name: string) => db.insertInto('items').values({ name }).execute();
  const count = async () => Number((await sql<{ n: number }>`select count(*) as n from items`.execute(db)).rows[0]!.n);

  it('resolves a write only after the WAL is fdatasynced', async () => {
    const release = holdDatasync(0);
    const write = insert('a');
    assert.equal(await isSettled(write), false);
    assert.equal(datasyncs.calls, 1);
    release();
    await write;
  });

  it('syncs after a committed transaction and after a write with RETURNING', async () => {
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('items').values({ name: 'a' }).execute();
      await trx.insertInto('items').values({ name: 'b' }).execute();
    });
    assert.equal(datasyncs.calls, 1);
    const row = await db.insertInto('items').values({ name: 'c' }).returning('id').executeTakeFirstOrThrow();
    assert.equal(row.id, 3);
    assert.equal(datasyncs.calls, 2);
  });

  it('does not sync for reads, read-only transactions or rollbacks', async () => {
    await insert('a');
    datasyncs.calls = 0;
    await db.selectFrom('items').selectAll().execute();
    await db.transaction().execute((trx) => trx.selectFrom('items').selectAll().execute());
    for await (const _ of db.selectFrom('items').selectAll().stream()) void _;
    await assert.rejects(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('items').values({ name: 'b' }).execute();
        throw new Error('changed my mind');
      }),
      /changed my mind/,
    );
    await assert.rejects(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('items').values({ name: 'a' }).execute();
      }),
      /UNIQUE/,
    );
    assert.equal(datasyncs.calls, 0);
    assert.equal(await count(), 1);
  });

  it('syncs after a failed write outside a transaction, which may have kept some of its rows', async () => {
    await insert('a');
    datasyncs.calls = 0;
    await assert.rejects(sql`insert or fail into items (name) values ('b'), ('a')`.execute(db), /UNIQUE/);
    assert.equal(await count(), 2, 'the row before the conflict stays');
    assert.equal(datasyncs.calls, 1);
  });

  it('lets other queries run during a sync, and shares the next sync among the commits that wait', async () => {
    const release = holdDatasync(0);
    const first = insert('first');
    await settle();
    assert.equal(datasyncs.calls, 1);
    const rest = Array.from({ length: 10 }, (_, i) => insert(`item-${i}`));
    // A read does not wait for the sync: it sees every commit, durable or not yet.
    assert.equal(await count(), 11);
    assert.equal(await isSettled(Promise.all([first, ...rest])), false);
    assert.equal(datasyncs.calls, 1, 'the next sync waits for the running one');
    release();
    await Promise.all([first, ...rest]);
    assert.equal(datasyncs.calls, 2, 'one sync for the ten commits that waited');
  });

  it('fails the waiting writes when fdatasync fails, and every later write too', async () => {
    await insert('a');
    datasyncs.failure = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    await assert.rejects(Promise.all([insert('b'), insert('c')]), { code: 'EIO' });
    datasyncs.failure = undefined;
    await assert.rejects(insert('d'), { code: 'EIO' }, 'a later fdatasync cannot vouch for the lost pages');
    assert.equal(await count(), 4, 'the commits themselves happened; only their durability is unknown');
  });

  it('keeps committed rows across a reopen', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => insert(`item-${i}`)));
    await db.destroy();
    db = openItems(join(dir, 'berth.db'));
    assert.equal(await count(), 20);
  });
});

describe('SQLite commits allowed to sync on the calling thread', { timeout: 20_000 }, () => {
  it('are durable when they resolve, without a trip through the thread pool once the WAL is open', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-sqlite-durability-'));
    const original = fs.fdatasyncSync;
    let onCaller = 0;
    fs.fdatasyncSync = (fd: number) => {
      onCaller++;
      original(fd);
    };
    syncBuiltinESMExports();
    const db = openSqlite(join(dir, 'berth.db'), { syncOnCaller: () => true }) as unknown as Kysely<ItemsDatabase>;
    try {
      await sql`create table items (id integer primary key, name text not null unique)`.execute(db);
      datasyncs.calls = 0;
      onCaller = 0;
      await db.insertInto('items').values({ name: 'a' }).execute();
      await db.transaction().execute((trx) => trx.insertInto('items').values({ name: 'b' }).execute());
      assert.deepEqual({ onCaller, pooled: datasyncs.calls }, { onCaller: 2, pooled: 0 });
    } finally {
      fs.fdatasyncSync = original;
      syncBuiltinESMExports();
      await db.destroy();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('an in-memory SQLite database', { timeout: 20_000 }, () => {
  it('never syncs', async () => {
    const db = openSqlite(':memory:');
    try {
      datasyncs.calls = 0;
      await sql`create table items (id integer primary key)`.execute(db);
      await sql`insert into items default values`.execute(db);
      assert.equal(datasyncs.calls, 0);
    } finally {
      await db.destroy();
    }
  });
});
