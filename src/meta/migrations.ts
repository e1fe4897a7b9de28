/**
 * Versioned schema migrations, applied in name order by Kysely's `Migrator` each time a store
 * opens; applied ones are recorded in `kysely_migration`, so opening again changes nothing.
 * A migration, once released, is never edited: add the next number instead.
 */
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

export type SqlDialect = 'sqlite' | 'postgres';

/** Column types that differ between the two databases. */
function columnTypes(dialect: SqlDialect) {
  const postgres = dialect === 'postgres';
  return {
    /** Names sort and compare by bytes. */
    name: postgres ? sql`text collate "C"` : sql`text`,
    bytes: postgres ? sql`bytea` : sql`blob`,
    id: postgres ? sql`bigint` : sql`integer`,
  };
}

function registryCore(dialect: SqlDialect): Migration {
  const types = columnTypes(dialect);
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('registries')
        .addColumn('name', types.name, (c) => c.primaryKey())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('repositories')
        .addColumn('id', types.id, (c) =>
          dialect === 'postgres' ? c.primaryKey().generatedAlwaysAsIdentity() : c.primaryKey().autoIncrement(),
        )
        .addColumn('registry', types.name, (c) => c.notNull().references('registries.name').onDelete('cascade'))
        .addColumn('name', types.name, (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('repositories_registry_name_key', ['registry', 'name'])
        .execute();

      await db.schema
        .createTable('blobs')
        .addColumn('digest', 'text', (c) => c.primaryKey())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('repository_blobs')
        .addColumn('repository_id', types.id, (c) => c.notNull().references('repositories.id').onDelete('cascade'))
        .addColumn('digest', 'text', (c) => c.notNull().references('blobs.digest'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('repository_blobs_pkey', ['repository_id', 'digest'])
        .execute();
      await db.schema.createIndex('repository_blobs_digest_idx').on('repository_blobs').column('digest').execute();

      await db.schema
        .createTable('manifests')
        .addColumn('repository_id', types.id, (c) => c.notNull().references('repositories.id').onDelete('cascade'))
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('media_type', 'text', (c) => c.notNull())
        .addColumn('artifact_type', 'text')
        .addColumn('subject', 'text')
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('content', types.bytes, (c) => c.notNull())
        .addColumn('annotations', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('manifests_pkey', ['repository_id', 'digest'])
        .execute();
      await db.schema
        .createIndex('manifests_subject_idx')
        .on('manifests')
        .columns(['repository_id', 'subject'])
        .execute();

      await db.schema
        .createTable('manifest_references')
        .addColumn('repository_id', types.id, (c) => c.notNull())
        .addColumn('parent_digest', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('blob', 'manifest')`))
        .addColumn('child_digest', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('manifest_references_pkey', ['repository_id', 'parent_digest', 'kind', 'child_digest'])
        .addForeignKeyConstraint(
          'manifest_references_parent_fkey',
          ['repository_id', 'parent_digest'],
          'manifests',
          ['repository_id', 'digest'],
          (fk) => fk.onDelete('cascade'),
        )
        .execute();
      await db.schema
        .createIndex('manifest_references_child_idx')
        .on('manifest_references')
        .columns(['repository_id', 'child_digest', 'kind', 'parent_digest'])
        .execute();

      await db.schema
        .createTable('tags')
        .addColumn('repository_id', types.id, (c) => c.notNull())
        .addColumn('name', types.name, (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('tags_pkey', ['repository_id', 'name'])
        .addForeignKeyConstraint(
          'tags_manifest_fkey',
          ['repository_id', 'digest'],
          'manifests',
          ['repository_id', 'digest'],
          (fk) => fk.onDelete('cascade'),
        )
        .execute();
      await db.schema.createIndex('tags_digest_idx').on('tags').columns(['repository_id', 'digest']).execute();

      await db.schema
        .createTable('uploads')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('repository_id', types.id, (c) => c.notNull().references('repositories.id').onDelete('cascade'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('uploads_repository_idx').on('uploads').column('repository_id').execute();
      await db.schema.createIndex('uploads_created_at_idx').on('uploads').column('created_at').execute();
    },

    async down(db: Kysely<any>) {
      for (const table of [
        'uploads',
        'tags',
        'manifest_references',
        'manifests',
        'repository_blobs',
        'blobs',
        'repositories',
        'registries',
      ]) {
        await db.schema.dropTable(table).execute();
      }
    },
  };
}

export function migrations(dialect: SqlDialect): Record<string, Migration> {
  return {
    '0001_registry_core': registryCore(dialect),
  };
}

/** Brings the schema to the latest version; safe to run from several processes at once. */
export async function migrateToLatest(db: Kysely<any>, dialect: SqlDialect): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(dialect) };
  const { error } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) throw error;
}
