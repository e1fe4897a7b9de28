import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { openMetaStore, parseMetaStoreUrl, type MetaStore } from '../src/meta/index.ts';
import { openSqlite } from '../src/meta/sqlite.ts';
import { metaStoreContract } from './contract/meta-store.contract.ts';
import { migrateThrough } from './helpers/migrations.ts';

metaStoreContract('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-meta-'));
  const url = `sqlite:${join(dir, 'meta', 'berth.db')}`;
  let store: MetaStore = await openMetaStore({ url });
  return {
    store,
    async reopen() {
      await store.close();
      store = await openMetaStore({ url });
      return store;
    },
    async cleanup() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('SQLite metadata database', () => {
  it('opens with WAL, durable commits, a busy timeout and foreign keys', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-meta-'));
    const db = openSqlite(join(dir, 'berth.db'));
    try {
      const pragma = async (name: string) =>
        Object.values((await sql.raw(`pragma ${name}`).execute(db)).rows[0] as object)[0];
      assert.equal(await pragma('journal_mode'), 'wal');
      assert.equal(await pragma('synchronous'), 1);
      assert.equal(await pragma('busy_timeout'), 5000);
      assert.equal(await pragma('foreign_keys'), 1);
    } finally {
      await db.destroy();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('migration 0002_identity', () => {
  it('upgrades a registry-core database, keeping and completing its rows', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-meta-'));
    const path = join(dir, 'berth.db');
    const db = openSqlite(path);
    try {
      await migrateThrough(db, 'sqlite', '0001_registry_core');
      const at = '2025-06-01T00:00:00.000Z';
      await sql`insert into registries (name, created_at) values ('oldregistry', ${at})`.execute(db);
      await sql`insert into repositories (registry, name, created_at) values ('oldregistry', 'app', ${at})`.execute(db);
      await sql`insert into manifests (repository_id, digest, media_type, size, content, created_at)
                values (1, 'sha256:aa', 'application/vnd.oci.image.manifest.v1+json', 2, x'7b7d', ${at})`.execute(db);
      await sql`insert into tags (repository_id, name, digest, updated_at) values (1, 'latest', 'sha256:aa', ${at})`.execute(db);
    } finally {
      await db.destroy();
    }

    const store = await openMetaStore({ url: `sqlite:${path}` });
    try {
      const registry = await store.getRegistry('oldregistry');
      assert.equal(registry?.sku, 'Standard');
      assert.equal(registry?.quotaBytes, 100 * 1024 ** 3);
      assert.equal(registry?.adminUserEnabled, false);
      assert.deepEqual(await store.listTagDetails('oldregistry', 'app', {}), [
        { name: 'latest', digest: 'sha256:aa', createdTime: '2025-06-01T00:00:00.000Z', lastUpdateTime: '2025-06-01T00:00:00.000Z', changeableAttributes: { deleteEnabled: true, writeEnabled: true, readEnabled: true, listEnabled: true } },
      ]);
      const [manifest] = await store.listManifestDetails('oldregistry', 'app', {});
      assert.equal(manifest?.lastUpdateTime, '2025-06-01T00:00:00.000Z');
      assert.equal(manifest?.imageSize, 2);
      assert.equal(manifest?.configMediaType, null);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('parseMetaStoreUrl', () => {
  it('reads SQLite paths and PostgreSQL URLs', () => {
    assert.deepEqual(parseMetaStoreUrl('sqlite:/var/lib/berth/meta.db'), { dialect: 'sqlite', path: '/var/lib/berth/meta.db' });
    assert.deepEqual(parseMetaStoreUrl('sqlite:///var/lib/berth/meta.db'), { dialect: 'sqlite', path: '/var/lib/berth/meta.db' });
    assert.deepEqual(parseMetaStoreUrl('sqlite:data/meta.db'), { dialect: 'sqlite', path: 'data/meta.db' });
    assert.deepEqual(parseMetaStoreUrl('/srv/berth/meta.db'), { dialect: 'sqlite', path: '/srv/berth/meta.db' });
    assert.deepEqual(parseMetaStoreUrl('postgres://u@db/berth'), { dialect: 'postgres', url: 'postgres://u@db/berth' });
    assert.deepEqual(parseMetaStoreUrl('postgresql://u@db/berth'), { dialect: 'postgres', url: 'postgresql://u@db/berth' });
  });

  it('rejects other URLs', () => {
    assert.throws(() => parseMetaStoreUrl('mysql://db/berth'), /unsupported/);
    assert.throws(() => parseMetaStoreUrl('sqlite:'), /no SQLite file/);
  });
});
