/**
 * The group syncer behind durable SQLite commits: one sync serves every caller waiting, a caller
 * that arrives while a sync runs waits for the next one, and failures reach every waiter.
 */
import assert from 'node:assert/strict';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { GroupSync, WalSync } from '../../src/meta/wal-sync.ts';
import { isSettled, settle } from '../helpers/promises.ts';

/** A sync function whose calls the test ends one by one. */
function controlledSync() {
  const pending: { resolve: () => void; reject: (error: Error) => void }[] = [];
  return {
    calls: () => pending.length,
    syncOnce: () => new Promise<void>((resolve, reject) => pending.push({ resolve, reject })),
    finish: (call: number) => pending[call]!.resolve(),
    fail: (call: number, error: Error) => pending[call]!.reject(error),
  };
}

describe('GroupSync', () => {
  it('syncs once for one caller and resolves after the sync ends', async () => {
    const sync = controlledSync();
    const group = new GroupSync(sync.syncOnce);
    const done = group.sync();
    assert.equal(sync.calls(), 1);
    assert.equal(await isSettled(done), false);
    sync.finish(0);
    await done;
    assert.equal(sync.calls(), 1);
  });

  it('serves every caller that arrives while a sync runs with one next sync', async () => {
    const sync = controlledSync();
    const group = new GroupSync(sync.syncOnce);
    const first = group.sync();
    const waiting = [group.sync(), group.sync(), group.sync()];
    await settle();
    assert.equal(sync.calls(), 1, 'the next sync waits for the running one');
    sync.finish(0);
    await first;
    await settle();
    assert.equal(sync.calls(), 2, 'one sync for all the waiting callers');
    assert.equal(await isSettled(Promise.all(waiting)), false, 'not answered by the sync that started before them');
    sync.finish(1);
    await Promise.all(waiting);
    assert.equal(sync.calls(), 2);
  });

  it('makes a caller arriving after the next sync started wait for a later one', async () => {
    const sync = controlledSync();
    const group = new GroupSync(sync.syncOnce);
    const first = group.sync();
    const second = group.sync();
    sync.finish(0);
    await first;
    await settle();
    assert.equal(sync.calls(), 2);
    const third = group.sync();
    sync.finish(1);
    await second;
    assert.equal(await isSettled(third), false);
    assert.equal(sync.calls(), 3);
    sync.finish(2);
    await third;
  });

  it('starts a fresh sync for a caller once nothing runs', async () => {
    const sync = controlledSync();
    const group = new GroupSync(sync.syncOnce);
    const first = group.sync();
    sync.finish(0);
    await first;
    const second = group.sync();
    assert.equal(sync.calls(), 2);
    sync.finish(1);
    await second;
  });

  it('rejects every caller a failed sync serves, and still runs the next one', async () => {
    const sync = controlledSync();
    const group = new GroupSync(sync.syncOnce);
    const first = group.sync();
    const waiting = [group.sync(), group.sync()];
    const failure = new Error('EIO');
    sync.fail(0, failure);
    await assert.rejects(first, failure);
    await settle();
    assert.equal(sync.calls(), 2, 'the waiting callers get their own sync');
    const second = new Error('EIO again');
    sync.fail(1, second);
    for (const waiter of waiting) await assert.rejects(waiter, second);
  });

  it('settles once no sync runs or waits', async () => {
    const sync = controlledSync();
    const group = new GroupSync(sync.syncOnce);
    await group.settled();
    void group.sync().catch(() => {});
    void group.sync();
    const settled = group.settled();
    sync.fail(0, new Error('EIO'));
    await settle();
    assert.equal(await isSettled(settled), false, 'the waiting sync is still to run');
    sync.finish(1);
    await settled;
  });
});

describe('WalSync', () => {
  it('has nothing to sync before SQLite creates the -wal file, then fdatasyncs it, and refuses syncs once closed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-wal-sync-'));
    try {
      const database = join(dir, 'berth.db');
      const wal = new WalSync(database);
      await wal.sync();
      await assert.rejects(access(`${database}-wal`), { code: 'ENOENT' }, 'never creates the file');

      await writeFile(`${database}-wal`, 'frames');
      await Promise.all([wal.sync(), wal.sync(), wal.sync()]);
      await wal.close();
      await assert.rejects(wal.sync(), /closed/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
