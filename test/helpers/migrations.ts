/** Brings a test database to an older schema, to test what a later migration makes of it. */
import assert from 'node:assert/strict';
import { Migrator, type Kysely } from 'kysely';
import { migrations, type SqlDialect } from '../../src/meta/migrations.ts';

/** Applies the migrations up to and including `last` (by name), and no later one. */
export async function migrateThrough(db: Kysely<any>, dialect: SqlDialect, last: string): Promise<void> {
  const upToLast = Object.fromEntries(Object.entries(migrations(dialect)).filter(([name]) => name <= last));
  const { error } = await new Migrator({ db, provider: { getMigrations: async () => upToLast } }).migrateToLatest();
  assert.equal(error, undefined);
}
