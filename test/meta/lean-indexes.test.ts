/**
 * Migration 0014: the untagged and subject indexes of manifests are partial and the references
 * have one index by child. An upgraded database keeps its rows, the store still answers from
 * them, and the lookups that used the old indexes search the new ones instead of scanning.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { openMetaStore } from '../../src/meta/index.ts';
import { openSqlite } from '../../src/meta/sqlite.ts';
import { migrateThrough } from '../helpers/migrations.ts';

const at = '2025-06-01T00:00:00.000Z';
const mediaType = 'application/vnd.oci.image.manifest.v1+json';

/** A database at migration 0013 with a tagged manifest, an untagged one, a referrer and references. */
async function seedBeforeLeanIndexes(path: string): Promise<void> {
  const db = openSqlite(path);
  try {
    await migrateThrough(db, 'sqlite', '0013_ended_uploads');
    await sql`insert into registries (name, created_at) values ('reg', ${at})`.execute(db);
    await sql`insert into repositories (registry, name, created_at) values ('reg', 'app', ${at})`.execute(db);
    for (const digest of ['sha256:layer', 'sha256:config']) {
      await sql`insert into blobs (digest, size, created_at, linked_at) values (${digest}, 1, ${at}, ${at})`.execute(db);
      await sql`insert into repository_blobs (repository_id, digest, created_at, linked_at) values (1, ${digest}, ${at}, ${at})`.execute(db);
    }
    const manifest = async (digest: string, subject: string | null, untaggedAt: string | null) => {
      await sql`insert into manifests (repository_id, digest, media_type, subject, size, content, created_at, updated_at, untagged_at)
                values (1, ${digest}, ${mediaType}, ${subject}, 2, x'7b7d', ${at}, ${at}, ${untaggedAt})`.execute(db);
      for (const child of ['sha256:config', 'sha256:layer']) {
        await sql`insert into manifest_references (repository_id, parent_digest, kind, child_digest) values (1, ${digest}, 'blob', ${child})`.execute(db);
      }
    };
    await manifest('sha256:tagged', null, null);
    await manifest('sha256:untagged', null, at);
    await manifest('sha256:signature', 'sha256:tagged', null);
    await sql`insert into tags (repository_id, name, digest, updated_at, created_at) values (1, 'latest', 'sha256:tagged', ${at}, ${at})`.execute(db);
    await sql`insert into tags (repository_id, name, digest, updated_at, created_at) values (1, 'sig', 'sha256:signature', ${at}, ${at})`.execute(db);
  } finally {
    await db.destroy();
  }
}

async function queryPlan(db: Kysely<any>, query: string): Promise<string> {
  const { rows } = await sql.raw<{ detail: string }>(`explain query plan ${query}`).execute(db);
  return rows.map((row) => row.detail).join('\n');
}

describe('migration 0014_lean_indexes', () => {
  let dir: string;
  let path: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-lean-indexes-'));
    path = join(dir, 'berth.db');
    await seedBeforeLeanIndexes(path);
    await (await openMetaStore({ url: `sqlite:${path}` })).close();
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the rows: referrers, references and tags read as before', async () => {
    const store = await openMetaStore({ url: `sqlite:${path}` });
    try {
      const referrers = await store.listReferrers('reg', 'app', 'sha256:tagged');
      assert.deepEqual(
        referrers.map((r) => r.digest),
        ['sha256:signature'],
      );
      assert.deepEqual(await store.listReferrers('reg', 'app', 'sha256:untagged'), []);
      assert.deepEqual(await store.listTags('reg', 'app', {}), ['latest', 'sig']);
    } finally {
      await store.close();
    }
  });

  it('indexes only untagged manifests and manifests with a subject, and references once by child', async () => {
    const db = openSqlite(path);
    try {
      const definition = async (index: string) =>
        (await sql<{ sql: string }>`select sql from sqlite_master where type = 'index' and name = ${index}`.execute(db)).rows[0]?.sql;
      assert.match((await definition('manifests_untagged_at_idx')) ?? '', / where "untagged_at" is not null$/);
      assert.match((await definition('manifests_subject_idx')) ?? '', / where "subject" is not null$/);
      const indexes = await sql<{ name: string }>`select name from sqlite_master where type = 'index' and tbl_name = 'manifest_references' and sql is not null`.execute(db);
      assert.deepEqual(
        indexes.rows.map((row) => row.name),
        ['manifest_references_child_digest_idx'],
      );
    } finally {
      await db.destroy();
    }
  });

  it('answers the lookups by child, subject and untagged time from the indexes', async () => {
    const db = openSqlite(path);
    try {
      const plans = {
        referrers: await queryPlan(db, `select digest from manifests where repository_id = 1 and subject = 'sha256:tagged'`),
        retention: await queryPlan(db, `select digest from manifests where untagged_at <= '2030' order by untagged_at`),
        parentInRepository: await queryPlan(
          db,
          `select parent_digest from manifest_references where repository_id = 1 and child_digest = 'sha256:x' and kind = 'manifest' and parent_digest <> 'sha256:x' order by parent_digest limit 1`,
        ),
        referencedAnywhere: await queryPlan(db, `select 1 from manifest_references where child_digest = 'sha256:layer' and kind = 'blob'`),
      };
      assert.match(plans.referrers, /SEARCH manifests USING INDEX manifests_subject_idx \(repository_id=\? AND subject=\?\)/);
      assert.match(plans.retention, /SEARCH manifests USING INDEX manifests_untagged_at_idx \(untagged_at<\?\)/);
      assert.match(plans.parentInRepository, /manifest_references_child_digest_idx \(child_digest=\? AND kind=\? AND repository_id=\?\)/);
      assert.doesNotMatch(plans.parentInRepository, /TEMP B-TREE/);
      assert.match(plans.referencedAnywhere, /manifest_references_child_digest_idx \(child_digest=\? AND kind=\?\)/);
    } finally {
      await db.destroy();
    }
  });
});
