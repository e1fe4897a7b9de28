/**
 * Versioned schema migrations, applied in name order by Kysely's `Migrator` each time a store
 * opens; applied ones are recorded in `kysely_migration`, so opening again changes nothing.
 * A migration, once released, is never edited: add the next number instead.
 */
import {
  Migrator,
  sql,
  type ColumnBuilderCallback,
  type ColumnDataType,
  type Kysely,
  type Migration,
  type MigrationProvider,
} from 'kysely';

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

/** Gigabytes as bytes, for the SKU quotas. */
const GiB = 1024 ** 3;

function identity(dialect: SqlDialect): Migration {
  const types = columnTypes(dialect);
  return {
    async up(db: Kysely<any>) {
      // Registry settings and admin user passwords. SQLite adds one column per statement.
      const registryColumns: [string, ColumnDataType, ColumnBuilderCallback][] = [
        ['sku', 'text', (c) => c.notNull().defaultTo('Standard')],
        ['admin_enabled', 'integer', (c) => c.notNull().defaultTo(0)],
        ['anonymous_pull_enabled', 'integer', (c) => c.notNull().defaultTo(0)],
        ['resource_group', 'text', (c) => c],
        ['location', 'text', (c) => c],
        ['quota_bytes', 'bigint', (c) => c.notNull().defaultTo(100 * GiB)],
        ['webhook_limit', 'integer', (c) => c.notNull().defaultTo(10)],
        ['admin_password1_hash', 'text', (c) => c],
        ['admin_password1_created_at', 'text', (c) => c],
        ['admin_password2_hash', 'text', (c) => c],
        ['admin_password2_created_at', 'text', (c) => c],
      ];
      for (const [column, type, build] of registryColumns) {
        await db.schema.alterTable('registries').addColumn(column, type, build).execute();
      }

      await db.schema
        .createTable('principals')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('user', 'servicePrincipal')`))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('users')
        .addColumn('principal_id', 'text', (c) => c.primaryKey().references('principals.id').onDelete('cascade'))
        .addColumn('username', types.name, (c) => c.notNull().unique())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('owner', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();

      await db.schema
        .createTable('service_principals')
        .addColumn('principal_id', 'text', (c) => c.primaryKey().references('principals.id').onDelete('cascade'))
        .addColumn('app_id', 'text', (c) => c.notNull().unique())
        .addColumn('display_name', types.name, (c) => c.notNull().unique())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('role_assignments')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('principal_id', 'text', (c) => c.notNull().references('principals.id').onDelete('cascade'))
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('scope', types.name, (c) => c.notNull())
        .addColumn('registry', types.name, (c) => c.references('registries.name').onDelete('cascade'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('role_assignments_principal_role_scope_key', ['principal_id', 'role', 'scope'])
        .execute();
      await db.schema.createIndex('role_assignments_registry_idx').on('role_assignments').column('registry').execute();

      await db.schema
        .createTable('scope_maps')
        .addColumn('registry', types.name, (c) => c.notNull().references('registries.name').onDelete('cascade'))
        .addColumn('name', types.name, (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('actions', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('scope_maps_pkey', ['registry', 'name'])
        .execute();

      await db.schema
        .createTable('tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('registry', types.name, (c) => c.notNull().references('registries.name').onDelete('cascade'))
        .addColumn('name', types.name, (c) => c.notNull())
        .addColumn('scope_map', types.name, (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('enabled', 'disabled')`))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('password1_hash', 'text')
        .addColumn('password1_created_at', 'text')
        .addColumn('password1_expires_at', 'text')
        .addColumn('password2_hash', 'text')
        .addColumn('password2_created_at', 'text')
        .addColumn('password2_expires_at', 'text')
        .addUniqueConstraint('tokens_registry_name_key', ['registry', 'name'])
        .execute();
      await db.schema.createIndex('tokens_scope_map_idx').on('tokens').columns(['registry', 'scope_map']).execute();

      await db.schema
        .createTable('refresh_tokens')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('registry', types.name, (c) => c.notNull().references('registries.name').onDelete('cascade'))
        .addColumn('principal_kind', 'text', (c) =>
          c.notNull().check(sql`principal_kind in ('user', 'servicePrincipal', 'admin', 'token')`),
        )
        .addColumn('principal_id', 'text', (c) => c.references('principals.id').onDelete('cascade'))
        .addColumn('token_id', 'text', (c) => c.references('tokens.id').onDelete('cascade'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('revoked', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('refresh_tokens_principal_idx').on('refresh_tokens').column('principal_id').execute();
      await db.schema.createIndex('refresh_tokens_token_idx').on('refresh_tokens').column('token_id').execute();
      await db.schema
        .createIndex('refresh_tokens_registry_kind_idx')
        .on('refresh_tokens')
        .columns(['registry', 'principal_kind'])
        .execute();
      await db.schema.createIndex('refresh_tokens_expires_at_idx').on('refresh_tokens').column('expires_at').execute();

      await db.schema
        .createTable('signing_keys')
        .addColumn('kid', 'text', (c) => c.primaryKey())
        .addColumn('private_key', 'text', (c) => c.notNull())
        .addColumn('public_jwk', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        // 1 for the one key that signs, null for retired keys: the unique constraint allows one signer.
        .addColumn('signing', 'integer', (c) => c.unique())
        .addColumn('retired_at', 'text')
        .addColumn('grace_until', 'text')
        .execute();

      // What the ACR listings show of a manifest; filled at push time, null for older pushes.
      const manifestColumns: [string, ColumnDataType][] = [
        ['config_media_type', 'text'],
        ['architecture', 'text'],
        ['os', 'text'],
        ['image_size', 'bigint'],
        ['updated_at', 'text'],
      ];
      for (const [column, type] of manifestColumns) {
        await db.schema.alterTable('manifests').addColumn(column, type).execute();
      }
      await db.updateTable('manifests').set({ updated_at: sql`created_at` }).execute();
      await db.schema
        .createIndex('manifests_updated_at_idx')
        .on('manifests')
        .columns(['repository_id', 'updated_at', 'digest'])
        .execute();

      await db.schema.alterTable('tags').addColumn('created_at', 'text').execute();
      await db.updateTable('tags').set({ created_at: sql`updated_at` }).execute();
      await db.schema.createIndex('tags_updated_at_idx').on('tags').columns(['repository_id', 'updated_at', 'name']).execute();
    },

    async down(db: Kysely<any>) {
      await db.schema.dropIndex('tags_updated_at_idx').execute();
      await db.schema.alterTable('tags').dropColumn('created_at').execute();
      await db.schema.dropIndex('manifests_updated_at_idx').execute();
      for (const column of ['updated_at', 'image_size', 'os', 'architecture', 'config_media_type']) {
        await db.schema.alterTable('manifests').dropColumn(column).execute();
      }
      for (const table of ['signing_keys', 'refresh_tokens', 'tokens', 'scope_maps', 'role_assignments', 'service_principals', 'users', 'principals']) {
        await db.schema.dropTable(table).execute();
      }
      for (const column of [
        'admin_password2_created_at',
        'admin_password2_hash',
        'admin_password1_created_at',
        'admin_password1_hash',
        'webhook_limit',
        'quota_bytes',
        'location',
        'resource_group',
        'anonymous_pull_enabled',
        'admin_enabled',
        'sku',
      ]) {
        await db.schema.alterTable('registries').dropColumn(column).execute();
      }
    },
  };
}

/**
 * Upload sessions no longer need a row: a session is its bytes in the blob store, bound to its
 * repository by a keyed id (see services/uploads.ts), which saves a durable commit per blob.
 */
function dropUploadSessions(dialect: SqlDialect): Migration {
  const types = columnTypes(dialect);
  return {
    async up(db: Kysely<any>) {
      await db.schema.dropTable('uploads').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema
        .createTable('uploads')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('repository_id', types.id, (c) => c.notNull().references('repositories.id').onDelete('cascade'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('uploads_repository_idx').on('uploads').column('repository_id').execute();
      await db.schema.createIndex('uploads_created_at_idx').on('uploads').column('created_at').execute();
    },
  };
}

/**
 * The events outbox, consumer cursors, webhooks and their deliveries (see `event-store.ts` and
 * `webhook-store.ts`).
 */
function eventsWebhooks(dialect: SqlDialect): Migration {
  const types = columnTypes(dialect);
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('events')
        .addColumn('sequence', types.id, (c) =>
          dialect === 'postgres' ? c.primaryKey().generatedAlwaysAsIdentity() : c.primaryKey().autoIncrement(),
        )
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('registry', types.name, (c) => c.notNull())
        .addColumn('repository', types.name, (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('media_type', 'text')
        .addColumn('size', 'bigint')
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('origin', 'text')
        .execute();

      await db.schema
        .createTable('event_consumers')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('position', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('webhooks')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('registry', types.name, (c) => c.notNull().references('registries.name').onDelete('cascade'))
        .addColumn('name', types.name, (c) => c.notNull())
        .addColumn('service_uri', 'text', (c) => c.notNull())
        .addColumn('actions', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('enabled', 'disabled')`))
        .addColumn('custom_headers', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('webhooks_registry_name_key', ['registry', 'name'])
        .execute();

      await db.schema
        .createTable('webhook_deliveries')
        .addColumn('webhook_id', 'text', (c) => c.notNull().references('webhooks.id').onDelete('cascade'))
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('event_sequence', 'bigint')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'delivered', 'failed')`))
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('next_attempt_at', 'text', (c) => c.notNull())
        .addColumn('lease_until', 'text')
        .addColumn('last_attempt_at', 'text')
        .addColumn('response_status', 'integer')
        .addColumn('response_reason', 'text')
        .addColumn('response_headers', 'text')
        .addColumn('response_body', 'text')
        .addColumn('error', 'text')
        .addPrimaryKeyConstraint('webhook_deliveries_pkey', ['webhook_id', 'event_id'])
        .execute();
      await db.schema
        .createIndex('webhook_deliveries_due_idx')
        .on('webhook_deliveries')
        .columns(['status', 'next_attempt_at'])
        .execute();
      await db.schema
        .createIndex('webhook_deliveries_created_at_idx')
        .on('webhook_deliveries')
        .columns(['webhook_id', 'created_at'])
        .execute();
    },

    async down(db: Kysely<any>) {
      for (const table of ['webhook_deliveries', 'webhooks', 'event_consumers', 'events']) {
        await db.schema.dropTable(table).execute();
      }
    },
  };
}

/**
 * Online garbage collection and storage accounting: when a blob or a blob link was last made,
 * mounted or confirmed (`linked_at`, the start of its grace period), and an index answering
 * "does any manifest reference this blob" and "what does a registry reference" by digest.
 */
function gcUsage(): Migration {
  return {
    async up(db: Kysely<any>) {
      for (const table of ['blobs', 'repository_blobs']) {
        await db.schema.alterTable(table).addColumn('linked_at', 'text').execute();
        await db.updateTable(table).set({ linked_at: sql`created_at` }).execute();
      }
      await db.schema
        .createIndex('manifest_references_child_digest_idx')
        .on('manifest_references')
        .columns(['child_digest', 'kind', 'repository_id'])
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropIndex('manifest_references_child_digest_idx').execute();
      for (const table of ['repository_blobs', 'blobs']) {
        await db.schema.alterTable(table).dropColumn('linked_at').execute();
      }
    },
  };
}

/** Changeable attributes (locks) of repositories, tags and manifests; quarantine state and policy. */
function attributesQuarantine(): Migration {
  const lockColumns = ['delete_enabled', 'write_enabled', 'read_enabled', 'list_enabled'];
  return {
    async up(db: Kysely<any>) {
      for (const table of ['repositories', 'tags', 'manifests']) {
        for (const column of lockColumns) {
          await db.schema.alterTable(table).addColumn(column, 'integer', (c) => c.notNull().defaultTo(1)).execute();
        }
      }
      await db.schema.alterTable('manifests').addColumn('quarantine_state', 'text').execute();
      await db.schema.alterTable('manifests').addColumn('quarantine_details', 'text').execute();
      await db.schema.alterTable('registries').addColumn('quarantine_enabled', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.alterTable('registries').dropColumn('quarantine_enabled').execute();
      await db.schema.alterTable('manifests').dropColumn('quarantine_details').execute();
      await db.schema.alterTable('manifests').dropColumn('quarantine_state').execute();
      for (const table of ['manifests', 'tags', 'repositories']) {
        for (const column of lockColumns) await db.schema.alterTable(table).dropColumn(column).execute();
      }
    },
  };
}

/**
 * The retention policy for untagged manifests (one per registry) and when each manifest lost its
 * last tag (`untagged_at`, null while tagged or never tagged), which the retention job reads.
 */
function retention(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .alterTable('registries')
        .addColumn('retention_status', 'text', (c) => c.notNull().defaultTo('disabled').check(sql`retention_status in ('enabled', 'disabled')`))
        .execute();
      await db.schema
        .alterTable('registries')
        .addColumn('retention_days', 'integer', (c) => c.notNull().defaultTo(7).check(sql`retention_days between 0 and 365`))
        .execute();
      await db.schema.alterTable('registries').addColumn('retention_include_existing', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('registries').addColumn('retention_enabled_at', 'text').execute();
      await db.schema.alterTable('manifests').addColumn('untagged_at', 'text').execute();
      await db.schema.createIndex('manifests_untagged_at_idx').on('manifests').columns(['untagged_at']).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropIndex('manifests_untagged_at_idx').execute();
      await db.schema.alterTable('manifests').dropColumn('untagged_at').execute();
      for (const column of ['retention_enabled_at', 'retention_include_existing', 'retention_days', 'retention_status']) {
        await db.schema.alterTable('registries').dropColumn(column).execute();
      }
    },
  };
}

/**
 * The task engine (see `task-store.ts`): tasks, their runs queued for workers, run logs, each
 * registry's run id counter, and the secret store's sealed values.
 */
function tasks(dialect: SqlDialect): Migration {
  const types = columnTypes(dialect);
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('tasks')
        .addColumn('registry', types.name, (c) => c.notNull().references('registries.name').onDelete('cascade'))
        .addColumn('name', types.name, (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('Enabled', 'Disabled')`))
        .addColumn('platform', 'text', (c) => c.notNull())
        .addColumn('timeout_seconds', 'integer', (c) => c.notNull())
        .addColumn('context_path', 'text')
        .addColumn('context_access_token', 'text')
        .addColumn('step', 'text', (c) => c.notNull())
        .addColumn('credentials', 'text', (c) => c.notNull())
        .addColumn('identity_principal_id', 'text')
        .addColumn('triggers', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('tasks_pkey', ['registry', 'name'])
        .execute();

      await db.schema
        .createTable('task_run_counters')
        .addColumn('registry', types.name, (c) => c.primaryKey().references('registries.name').onDelete('cascade'))
        .addColumn('prefix', 'text', (c) => c.notNull())
        .addColumn('last_seq', 'integer', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('task_runs')
        .addColumn('id', types.id, (c) =>
          dialect === 'postgres' ? c.primaryKey().generatedAlwaysAsIdentity() : c.primaryKey().autoIncrement(),
        )
        .addColumn('registry', types.name, (c) => c.notNull().references('registries.name').onDelete('cascade'))
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('task', types.name)
        .addColumn('run_type', 'text', (c) => c.notNull())
        .addColumn('trigger', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) =>
          c.notNull().check(sql`status in ('Queued', 'Running', 'Succeeded', 'Failed', 'Canceled', 'Error', 'Timeout')`),
        )
        .addColumn('platform', 'text', (c) => c.notNull())
        .addColumn('create_time', 'text', (c) => c.notNull())
        .addColumn('start_time', 'text')
        .addColumn('finish_time', 'text')
        .addColumn('output_images', 'text', (c) => c.notNull())
        .addColumn('error_message', 'text')
        .addColumn('request', 'text', (c) => c.notNull())
        .addColumn('trigger_details', 'text')
        .addColumn('claimed_by', 'text')
        .addColumn('cancel_requested', 'integer', (c) => c.notNull().defaultTo(0))
        .addUniqueConstraint('task_runs_registry_run_id_key', ['registry', 'run_id'])
        .execute();
      await db.schema.createIndex('task_runs_registry_seq_idx').on('task_runs').columns(['registry', 'seq']).execute();
      await db.schema.createIndex('task_runs_status_idx').on('task_runs').columns(['status', 'id']).execute();

      await db.schema
        .createTable('task_run_logs')
        .addColumn('registry', types.name, (c) => c.notNull())
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('text', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('task_run_logs_pkey', ['registry', 'run_id', 'seq'])
        .addForeignKeyConstraint('task_run_logs_run_fkey', ['registry', 'run_id'], 'task_runs', ['registry', 'run_id'], (fk) =>
          fk.onDelete('cascade'),
        )
        .execute();

      await db.schema
        .createTable('secrets')
        .addColumn('vault', types.name, (c) => c.notNull())
        .addColumn('name', types.name, (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('content_type', 'text')
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('secrets_pkey', ['vault', 'name'])
        .execute();
    },
    async down(db: Kysely<any>) {
      for (const table of ['secrets', 'task_run_logs', 'task_runs', 'task_run_counters', 'tasks']) {
        await db.schema.dropTable(table).execute();
      }
    },
  };
}

/**
 * What task triggers remember (see `trigger-store.ts`): each task's commit cursor, the base
 * images its last build used, and the timer occurrences already fired. Rows go with the task.
 */
function triggers(dialect: SqlDialect): Migration {
  const types = columnTypes(dialect);
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('task_commit_cursors')
        .addColumn('registry', types.name, (c) => c.notNull())
        .addColumn('task', types.name, (c) => c.notNull())
        .addColumn('commit', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('task_commit_cursors_pkey', ['registry', 'task'])
        .addForeignKeyConstraint('task_commit_cursors_task_fkey', ['registry', 'task'], 'tasks', ['registry', 'name'], (fk) =>
          fk.onDelete('cascade'),
        )
        .execute();

      await db.schema
        .createTable('task_base_images')
        .addColumn('registry', types.name, (c) => c.notNull())
        .addColumn('task', types.name, (c) => c.notNull())
        .addColumn('login_server', 'text', (c) => c.notNull())
        .addColumn('repository', types.name, (c) => c.notNull())
        .addColumn('tag', types.name, (c) => c.notNull())
        .addColumn('registry_ref', types.name)
        .addColumn('digest', 'text')
        .addColumn('type', 'text', (c) => c.notNull().check(sql`type in ('Runtime', 'BuildTime')`))
        .addPrimaryKeyConstraint('task_base_images_pkey', ['registry', 'task', 'login_server', 'repository', 'tag'])
        .addForeignKeyConstraint('task_base_images_task_fkey', ['registry', 'task'], 'tasks', ['registry', 'name'], (fk) =>
          fk.onDelete('cascade'),
        )
        .execute();
      await db.schema
        .createIndex('task_base_images_image_idx')
        .on('task_base_images')
        .columns(['registry_ref', 'repository', 'tag'])
        .execute();

      await db.schema
        .createTable('task_timer_fires')
        .addColumn('registry', types.name, (c) => c.notNull())
        .addColumn('task', types.name, (c) => c.notNull())
        .addColumn('timer', types.name, (c) => c.notNull())
        .addColumn('occurrence', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('task_timer_fires_pkey', ['registry', 'task', 'timer', 'occurrence'])
        .addForeignKeyConstraint('task_timer_fires_task_fkey', ['registry', 'task'], 'tasks', ['registry', 'name'], (fk) =>
          fk.onDelete('cascade'),
        )
        .execute();
    },
    async down(db: Kysely<any>) {
      for (const table of ['task_timer_fires', 'task_base_images', 'task_commit_cursors']) {
        await db.schema.dropTable(table).execute();
      }
    },
  };
}

/** Who created each task: triggered runs of a task without an identity of its own run as its creator. */
function taskCreator(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('tasks').addColumn('created_by', 'text').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.alterTable('tasks').dropColumn('created_by').execute();
    },
  };
}

/**
 * Mirrors (see `mirrors/mirror-store.ts`): a gated copy of an upstream tag, and the history of each
 * upstream digest it handled. Rows go with the mirror's registry; history goes with its mirror.
 */
function mirrors(dialect: SqlDialect): Migration {
  const types = columnTypes(dialect);
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('mirrors')
        .addColumn('registry', types.name, (c) => c.notNull().references('registries.name').onDelete('cascade'))
        .addColumn('name', types.name, (c) => c.notNull())
        .addColumn('source_text', 'text', (c) => c.notNull())
        .addColumn('source_registry', types.name)
        .addColumn('source_host', 'text')
        .addColumn('source_repository', types.name, (c) => c.notNull())
        .addColumn('source_tag', types.name, (c) => c.notNull())
        .addColumn('repository', types.name, (c) => c.notNull())
        .addColumn('tag', types.name, (c) => c.notNull())
        .addColumn('validation_type', 'text', (c) => c.notNull().check(sql`validation_type in ('None', 'Cmd', 'TaskFile')`))
        .addColumn('validation', 'text')
        .addColumn('keep_unique_tags', 'integer')
        .addColumn('schedule', 'text')
        .addColumn('poll_interval_seconds', 'integer')
        .addColumn('source_username', 'text')
        .addColumn('source_password', 'text')
        .addColumn('creator', 'text', (c) => c.notNull())
        .addColumn('last_source_digest', 'text')
        .addColumn('current_digest', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('mirrors_pkey', ['registry', 'name'])
        .execute();
      await db.schema.createIndex('mirrors_source_idx').on('mirrors').columns(['source_registry', 'source_repository', 'source_tag']).execute();

      await db.schema
        .createTable('mirror_history')
        .addColumn('id', types.id, (c) => (dialect === 'postgres' ? c.primaryKey().generatedAlwaysAsIdentity() : c.primaryKey().autoIncrement()))
        .addColumn('registry', types.name, (c) => c.notNull())
        .addColumn('mirror', types.name, (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('Staged', 'Validating', 'Promoted', 'Failed', 'RolledBack')`))
        .addColumn('run_id', 'text')
        .addColumn('unique_tag', 'text')
        .addColumn('message', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addForeignKeyConstraint('mirror_history_mirror_fkey', ['registry', 'mirror'], 'mirrors', ['registry', 'name'], (fk) => fk.onDelete('cascade'))
        .execute();
      await db.schema.createIndex('mirror_history_mirror_idx').on('mirror_history').columns(['registry', 'mirror', 'id']).execute();
      await db.schema.createIndex('mirror_history_status_idx').on('mirror_history').columns(['status', 'id']).execute();
    },
    async down(db: Kysely<any>) {
      for (const table of ['mirror_history', 'mirrors']) await db.schema.dropTable(table).execute();
    },
  };
}

/** Small blobs keep their bytes in their `blobs` row (see `services/inline-blobs.ts`). */
function inlineBlobs(dialect: SqlDialect): Migration {
  const types = columnTypes(dialect);
  return {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('blobs').addColumn('content', types.bytes).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.alterTable('blobs').dropColumn('content').execute();
    },
  };
}

/** Upload sessions that ended while their ids could still open a session without bytes (see services/uploads.ts). */
function endedUploads(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('ended_uploads')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('until', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('ended_uploads_until_idx').on('ended_uploads').column('until').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('ended_uploads').execute();
    },
  };
}

/**
 * Fewer index pages written per manifest push. The untagged and subject indexes only ever answer
 * queries about rows where their column is set (`untagged_at <= ?`, `subject = ?`), and most rows
 * have it null, so they become partial. The two indexes by child digest become one, led by the
 * digest and ending with the parent, which answers both "who references X anywhere" and "who in
 * this repository references X" (all equalities, parent in order).
 */
function leanIndexes(): Migration {
  /** Creates index `name` on `table`, over only the rows where `setColumn` is not null when given. */
  const createIndex = async (db: Kysely<any>, name: string, table: string, columns: string[], setColumn?: string) => {
    const index = db.schema.createIndex(name).on(table).columns(columns);
    await (setColumn ? index.where(setColumn, 'is not', null) : index).execute();
  };
  const dropIndexes = async (db: Kysely<any>, names: string[]) => {
    for (const name of names) await db.schema.dropIndex(name).execute();
  };
  return {
    async up(db: Kysely<any>) {
      await dropIndexes(db, ['manifests_untagged_at_idx', 'manifests_subject_idx', 'manifest_references_child_idx', 'manifest_references_child_digest_idx']);
      await createIndex(db, 'manifests_untagged_at_idx', 'manifests', ['untagged_at'], 'untagged_at');
      await createIndex(db, 'manifests_subject_idx', 'manifests', ['repository_id', 'subject'], 'subject');
      await createIndex(db, 'manifest_references_child_digest_idx', 'manifest_references', ['child_digest', 'kind', 'repository_id', 'parent_digest']);
    },
    async down(db: Kysely<any>) {
      await dropIndexes(db, ['manifests_untagged_at_idx', 'manifests_subject_idx', 'manifest_references_child_digest_idx']);
      await createIndex(db, 'manifests_untagged_at_idx', 'manifests', ['untagged_at']);
      await createIndex(db, 'manifests_subject_idx', 'manifests', ['repository_id', 'subject']);
      await createIndex(db, 'manifest_references_child_idx', 'manifest_references', ['repository_id', 'child_digest', 'kind', 'parent_digest']);
      await createIndex(db, 'manifest_references_child_digest_idx', 'manifest_references', ['child_digest', 'kind', 'repository_id']);
    },
  };
}

export function migrations(dialect: SqlDialect): Record<string, Migration> {
  return {
    '0001_registry_core': registryCore(dialect),
    '0002_identity': identity(dialect),
    '0003_drop_upload_sessions': dropUploadSessions(dialect),
    '0004_events_webhooks': eventsWebhooks(dialect),
    '0005_gc_usage': gcUsage(),
    '0006_attributes_quarantine': attributesQuarantine(),
    '0007_retention': retention(),
    '0008_tasks': tasks(dialect),
    '0009_triggers': triggers(dialect),
    '0010_task_creator': taskCreator(),
    '0011_mirrors': mirrors(dialect),
    '0012_inline_blobs': inlineBlobs(dialect),
    '0013_ended_uploads': endedUploads(),
    '0014_lean_indexes': leanIndexes(),
  };
}

/** Brings the schema to the latest version; safe to run from several processes at once. */
export async function migrateToLatest(db: Kysely<any>, dialect: SqlDialect): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(dialect) };
  const { error } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) throw error;
}
