/**
 * The `MirrorStore` contract on SQLite and on a throwaway PostgreSQL cluster — each upstream digest
 * claimed by exactly one caller, also when several nodes race; promotions and rollbacks moving the
 * current digest; history going with its mirror and mirrors with their registry — and the
 * watcher's exactly-once across a restart: events handed over again change nothing.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import pino from 'pino';
import { openMetaStore, RegistryNotFoundError, type MetaStore } from '../../src/meta/index.ts';
import type { StoredEvent } from '../../src/meta/event-store.ts';
import type { MirrorGate } from '../../src/mirrors/mirror-gate.ts';
import { MirrorExistsError, type MirrorHistoryEntry, type MirrorRecord, type NewMirror } from '../../src/mirrors/mirror-store.ts';
import { MirrorWatcher } from '../../src/mirrors/mirror-watcher.ts';
import { startPostgres, type PostgresCluster } from '../helpers/postgres.ts';

interface Database {
  open(): Promise<MetaStore>;
  multiNode: boolean;
  cleanup(): Promise<void>;
}

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;

function mirror(registry: string, name: string): NewMirror {
  return {
    registry,
    name,
    sourceText: 'publicregistry/node:15-alpine',
    source: { registry: 'publicregistry', host: null, repository: 'node', tag: '15-alpine' },
    repository: 'node',
    tag: '15-alpine',
    validation: { type: 'Cmd', cmd: '{{.Values.STAGED_IMAGE}} true' },
    keepUniqueTags: 2,
    schedule: null,
    pollIntervalSeconds: null,
    sourceUsername: null,
    sourcePassword: null,
    creator: { kind: 'user', id: 'u1', name: 'owner', owner: true },
  };
}

function mirrorStoreContract(name: string, setup: () => Promise<Database>): void {
  describe(`MirrorStore on ${name}`, () => {
    let database: Database;
    let store: MetaStore;

    beforeEach(async () => {
      database = await setup();
      store = await database.open();
      for (const registry of ['contoso', 'publicregistry']) await store.createRegistry(registry);
    });
    afterEach(async () => {
      await store.close();
      await database.cleanup();
    });

    it('creates, finds by source, lists and refuses duplicates and unknown registries', async () => {
      const created = await store.mirrors.createMirror(mirror('contoso', 'node'));
      assert.equal(created.lastSourceDigest, null);
      assert.deepEqual(created.creator, { kind: 'user', id: 'u1', name: 'owner', owner: true });
      assert.deepEqual(created.validation, { type: 'Cmd', cmd: '{{.Values.STAGED_IMAGE}} true' });
      await assert.rejects(store.mirrors.createMirror(mirror('contoso', 'node')), MirrorExistsError);
      await assert.rejects(store.mirrors.createMirror(mirror('nosuchregistry', 'node')), RegistryNotFoundError);
      assert.deepEqual((await store.mirrors.mirrorsOfSource('publicregistry', 'node', '15-alpine')).map((m) => m.name), ['node']);
      assert.deepEqual(await store.mirrors.mirrorsOfSource('publicregistry', 'node', 'other'), []);
      assert.deepEqual((await store.mirrors.listMirrors('contoso')).map((m) => m.name), ['node']);
    });

    it('claims each digest once, even when several callers race', async () => {
      await store.mirrors.createMirror(mirror('contoso', 'node'));
      const stores = database.multiNode ? await Promise.all(Array.from({ length: 4 }, () => database.open())) : [store];
      try {
        const claims = await Promise.all(Array.from({ length: 8 }, (_, index) => stores[index % stores.length]!.mirrors.claimDigest('contoso', 'node', null, D1)));
        assert.equal(claims.filter((claim) => claim !== undefined).length, 1);
      } finally {
        for (const other of stores) if (other !== store) await other.close();
      }
      assert.equal(await store.mirrors.claimDigest('contoso', 'node', null, D2), undefined, 'the old value no longer matches');
      const second = await store.mirrors.claimDigest('contoso', 'node', D1, D2);
      assert.equal(second?.status, 'Staged');
      assert.equal((await store.mirrors.getMirror('contoso', 'node'))?.lastSourceDigest, D2);
      assert.deepEqual((await store.mirrors.unfinishedEntries()).map((entry) => entry.digest), [D1, D2]);
    });

    it('promotions and rollbacks move the current digest; history is newest first and goes with the mirror and registry', async () => {
      await store.mirrors.createMirror(mirror('contoso', 'node'));
      const first = (await store.mirrors.claimDigest('contoso', 'node', null, D1))!;
      await store.mirrors.updateEntry(first.id, { status: 'Validating', runId: 'ab1' });
      await store.mirrors.promoted(first.id, '15-alpine-ab1', null);
      const second = (await store.mirrors.claimDigest('contoso', 'node', D1, D2))!;
      await store.mirrors.updateEntry(second.id, { status: 'Failed', runId: 'ab2', message: 'red' });
      assert.equal((await store.mirrors.getMirror('contoso', 'node'))?.currentDigest, D1);
      const back = await store.mirrors.rolledBack('contoso', 'node', D1, 'back');
      assert.equal(back.status, 'RolledBack');
      const entries = await store.mirrors.history('contoso', 'node');
      assert.deepEqual(
        entries.map((entry) => [entry.digest, entry.status, entry.runId, entry.uniqueTag, entry.message]),
        [
          [D1, 'RolledBack', null, null, 'back'],
          [D2, 'Failed', 'ab2', null, 'red'],
          [D1, 'Promoted', 'ab1', '15-alpine-ab1', null],
        ],
      );
      assert.equal((await store.mirrors.history('contoso', 'node', 1)).length, 1);
      assert.deepEqual(await store.mirrors.unfinishedEntries(), []);

      assert.equal(await store.mirrors.deleteMirror('contoso', 'node'), true);
      assert.deepEqual(await store.mirrors.history('contoso', 'node'), []);
      await store.mirrors.createMirror(mirror('contoso', 'again'));
      assert.equal(await store.deleteRegistry('contoso'), true);
      assert.deepEqual(await store.mirrors.allMirrors(), []);
    });
  });
}

mirrorStoreContract('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-mirrors-'));
  const url = `sqlite:${join(dir, 'berth.db')}`;
  return { open: () => openMetaStore({ url }), multiNode: false, cleanup: () => rm(dir, { recursive: true, force: true }) };
});

let cluster: PostgresCluster | undefined;
before(async () => {
  cluster = await startPostgres();
});
after(async () => {
  await cluster?.stop();
});

mirrorStoreContract('postgres', async () => {
  const url = await cluster!.createDatabase();
  return { open: () => openMetaStore({ url }), multiNode: true, cleanup: async () => {} };
});

describe('MirrorWatcher: each upstream digest once, across a restart', () => {
  let dir: string;
  let store: MetaStore;
  const passed: string[] = [];
  let upstream = D1;

  const gate = {
    async pass(mirror: MirrorRecord, entry: MirrorHistoryEntry) {
      passed.push(`${mirror.name}:${entry.digest}`);
      await store.mirrors.updateEntry(entry.id, { status: 'Failed', message: 'recorded' });
    },
  } as unknown as MirrorGate;

  const watcher = () =>
    new MirrorWatcher({
      store: store.mirrors,
      events: store.events,
      gate,
      digests: { lookup: async () => ({ digest: upstream }) },
      vault: { isReference: () => false, resolve: async (value) => value, unseal: (value) => value },
      logger: pino({ level: 'silent' }),
    });

  const push = (digest: string, tags: string[], repository = 'node'): StoredEvent => ({
    sequence: 1,
    id: 'e1',
    createdAt: new Date().toISOString(),
    action: 'push',
    registry: 'publicregistry',
    repository,
    digest,
    mediaType: null,
    size: null,
    tags,
    origin: null,
  });

  /** Gives the watcher's queued checks time to run: until `count` digests passed (at most 5 s), then a little longer. */
  const settle = async (count: number) => {
    const deadline = Date.now() + 5000;
    while (passed.length < count && Date.now() < deadline) await delay(20);
    await delay(200);
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-mirror-watcher-'));
    store = await openMetaStore({ url: `sqlite:${join(dir, 'berth.db')}` });
    for (const registry of ['contoso', 'publicregistry']) await store.createRegistry(registry);
    await store.mirrors.createMirror(mirror('contoso', 'node'));
  });
  after(async () => {
    await store?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('an event of the watched tag passes its digest once; the same event again, unrelated events and a restart pass nothing', async () => {
    const first = watcher();
    await first.handleEvents([push(D1, ['15-alpine']), push(D1, ['15-alpine'])]);
    await first.handleEvents([push(D1, ['other']), push(D1, ['15-alpine'], 'elsewhere')]);
    await settle(1);
    assert.deepEqual(passed, [`node:${D1}`]);
    await first.stop();

    const restarted = watcher();
    await restarted.handleEvents([push(D1, ['15-alpine'])]);
    await settle(2);
    assert.equal(passed.length, 1);

    upstream = D2;
    await restarted.handleEvents([push(D2, ['15-alpine'])]);
    await settle(2);
    await restarted.stop();
    assert.deepEqual(passed, [`node:${D1}`, `node:${D2}`]);
    assert.deepEqual((await store.mirrors.history('contoso', 'node')).map((entry) => entry.digest), [D2, D1]);
  });
});
