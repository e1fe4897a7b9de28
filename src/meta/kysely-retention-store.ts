/** `RetentionStore` on Kysely, for SQLite and PostgreSQL. */
import type { Kysely } from 'kysely';
import type { SqlDialect } from './migrations.ts';
import type { Database } from './schema.ts';
import type { DueManifest, RetentionPolicy, RetentionPolicyChanges, RetentionStatus, RetentionStore } from './retention-store.ts';
import { runTransaction, timestamp } from './transactions.ts';

type Db = Kysely<Database>;

const DAY_MS = 24 * 60 * 60 * 1000;
const policyColumns = ['retention_status', 'retention_days', 'retention_include_existing', 'retention_enabled_at'] as const;

interface PolicyRow {
  retention_status: string;
  retention_days: number;
  retention_include_existing: number;
  retention_enabled_at: string | null;
}

function toPolicy(row: PolicyRow): RetentionPolicy {
  return {
    status: row.retention_status as RetentionStatus,
    days: row.retention_days,
    type: 'UntaggedManifests',
    includeExisting: row.retention_include_existing === 1,
    enabledAt: row.retention_enabled_at,
  };
}

export class KyselyRetentionStore implements RetentionStore {
  readonly #db: Db;
  readonly #postgres: boolean;

  constructor(db: Db, dialect: SqlDialect) {
    this.#db = db;
    this.#postgres = dialect === 'postgres';
  }

  async retentionPolicy(registry: string): Promise<RetentionPolicy | undefined> {
    const row = await this.#db.selectFrom('registries').select(policyColumns).where('name', '=', registry).executeTakeFirst();
    return row && toPolicy(row);
  }

  async setRetentionPolicy(registry: string, changes: RetentionPolicyChanges): Promise<RetentionPolicy | undefined> {
    return await runTransaction(this.#db, async (trx) => {
      const before = await trx
        .selectFrom('registries')
        .select(policyColumns)
        .where('name', '=', registry)
        .$if(this.#postgres, (qb) => qb.forUpdate())
        .executeTakeFirst();
      if (!before) return undefined;
      const enabling = changes.status === 'enabled' && before.retention_status !== 'enabled';
      const row = await trx
        .updateTable('registries')
        .set({
          retention_status: changes.status ?? before.retention_status,
          retention_days: changes.days ?? before.retention_days,
          retention_include_existing: changes.includeExisting === undefined ? before.retention_include_existing : changes.includeExisting ? 1 : 0,
          retention_enabled_at: enabling ? timestamp() : before.retention_enabled_at,
        })
        .where('name', '=', registry)
        .returning(policyColumns)
        .executeTakeFirstOrThrow();
      return toPolicy(row);
    });
  }

  async dueUntaggedManifests(now: Date, limit: number): Promise<DueManifest[]> {
    const policies = await this.#db
      .selectFrom('registries')
      .select(['name', ...policyColumns])
      .where('retention_status', '=', 'enabled')
      .orderBy('name')
      .execute();
    const due: DueManifest[] = [];
    for (const policy of policies) {
      if (due.length >= limit) break;
      const cutoff = new Date(now.getTime() - policy.retention_days * DAY_MS).toISOString();
      const rows = await this.#db
        .selectFrom('manifests as m')
        .innerJoin('repositories as r', 'r.id', 'm.repository_id')
        .select(['r.name as repository', 'm.digest'])
        .where('r.registry', '=', policy.name)
        .where('m.untagged_at', '<=', cutoff)
        .$if(policy.retention_include_existing !== 1, (qb) => qb.where('m.untagged_at', '>=', policy.retention_enabled_at ?? ''))
        .where('m.delete_enabled', '=', 1)
        .where('m.write_enabled', '=', 1)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('tags as t').select('t.name').whereRef('t.repository_id', '=', 'm.repository_id').whereRef('t.digest', '=', 'm.digest'),
            ),
          ),
        )
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('manifest_references as ref')
                .select('ref.parent_digest')
                .whereRef('ref.repository_id', '=', 'm.repository_id')
                .whereRef('ref.child_digest', '=', 'm.digest')
                .where('ref.kind', '=', 'manifest')
                .whereRef('ref.parent_digest', '<>', 'm.digest'),
            ),
          ),
        )
        .where(({ not, exists, selectFrom }) =>
          not(exists(selectFrom('manifests as s').select('s.digest').whereRef('s.repository_id', '=', 'm.repository_id').whereRef('s.subject', '=', 'm.digest'))),
        )
        .orderBy('m.untagged_at')
        .orderBy('m.digest')
        .limit(limit - due.length)
        .execute();
      for (const row of rows) due.push({ registry: policy.name, repository: row.repository, digest: row.digest });
    }
    return due;
  }
}
