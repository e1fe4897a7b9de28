/**
 * The group syncer behind durable SQLite commits: one sync serves every caller waiting, a caller
 * that arrives while a sync runs waits for the next one, and failures reach every waiter. The WAL
 * is synced on the calling thread only when allowed and no pooled sync is under way.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
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

  describe('on the calling thread', () => {
    const original = fs.fdatasyncSync;
    let calls = 0;
    let failure: Error | undefined;

    /** Counts `fs.fdatasyncSync` calls (named imports see the patch once synced), optionally failing them. */
    function patchFdatasyncSync(): void {
      calls = 0;
      failure = undefined;
      fs.fdatasyncSync = (fd: number) => {
        calls++;
        if (failure) throw failure;
        original(fd);
      };
      syncBuiltinESMExports();
    }

    function restoreFdatasyncSync(): void {
      fs.fdatasyncSync = original;
      syncBuiltinESMExports();
    }

    async function withWal(syncOnCaller: () => boolean, test: (wal: WalSync) => Promise<void>): Promise<void> {
      const dir = await mkdtemp(join(tmpdir(), 'berth-wal-sync-'));
      const database = join(dir, 'berth.db');
      await writeFile(`${database}-wal`, 'frames');
      const wal = new WalSync(database, { syncOnCaller });
      patchFdatasyncSync();
      try {
        await test(wal);
      } finally {
        restoreFdatasyncSync();
        await wal.close();
        await rm(dir, { recursive: true, force: true });
      }
    }

    it('fdatasyncs before sync() returns when allowed, once the file is open', async () => {
      await withWal(
        () => true,
        async (wal) => {
          await wal.sync();
          assert.equal(calls, 0, 'the first sync opens the file through the thread pool');
          const done = wal.sync();
          assert.equal(calls, 1, 'synced before the call returned');
          await done;
          await wal.sync();
          assert.equal(calls, 2);
        },
      );
    });

    it('stays off the calling thread when not allowed, or while a pooled sync is under way', async () => {
      let allowed = false;
      await withWal(
        () => allowed,
        async (wal) => {
          await wal.sync();
          await wal.sync();
          assert.equal(calls, 0);
          const pooled = wal.sync();
          allowed = true;
          const next = wal.sync();
          assert.equal(calls, 0, 'a pooled sync is running: the caller waits for the next one');
          await Promise.all([pooled, next]);
          assert.equal(calls, 0);
          await wal.sync();
          assert.equal(calls, 1);
        },
      );
    });

    it('fails that sync and every later one once an fdatasync failed', async () => {
      let allowed = true;
      await withWal(
        () => allowed,
        async (wal) => {
          await wal.sync();
          failure = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
          await assert.rejects(wal.sync(), { code: 'EIO' });
          failure = undefined;
          await assert.rejects(wal.sync(), { code: 'EIO' }, 'not on the calling thread either');
          allowed = false;
          await assert.rejects(wal.sync(), { code: 'EIO' }, 'nor through the thread pool');
        },
      );
    });
  });
});
