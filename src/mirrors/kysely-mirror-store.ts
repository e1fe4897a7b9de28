/**
 * `MirrorStore` on Kysely (tables `mirrors` and `mirror_history`, see `meta/schema.ts`), for
 * SQLite and PostgreSQL. The claim of a new upstream digest is one UPDATE that re-checks the old
 * value (PostgreSQL re-evaluates it on the row a concurrent winner committed, so a loser matches
 * nothing) and the history INSERT, in one transaction.
 */
import type { Kysely, Selectable } from 'kysely';
import type { Principal } from '../auth/principal.ts';
import { RegistryNotFoundError } from '../meta/meta-store.ts';
import type { Database, MirrorHistoryTable, MirrorsTable } from '../meta/schema.ts';
import { runTransaction, timestamp } from '../meta/transactions.ts';
import { MirrorExistsError, type MirrorEntryChanges, type MirrorHistoryEntry, type MirrorRecord, type MirrorStore, type MirrorValidation, type NewMirror } from './mirror-store.ts';

type Db = Kysely<Database>;

function toValidation(row: Selectable<MirrorsTable>): MirrorValidation {
  if (row.validation_type === 'Cmd') return { type: 'Cmd', cmd: row.validation ?? '' };
  if (row.validation_type === 'TaskFile') return { type: 'TaskFile', content: row.validation ?? '' };
  return { type: 'None' };
}

function toMirror(row: Selectable<MirrorsTable>): MirrorRecord {
  return {
    registry: row.registry,
    name: row.name,
    sourceText: row.source_text,
    source: { registry: row.source_registry, host: row.source_host, repository: row.source_repository, tag: row.source_tag },
    repository: row.repository,
    tag: row.tag,
    validation: toValidation(row),
    keepUniqueTags: row.keep_unique_tags,
    schedule: row.schedule,
    pollIntervalSeconds: row.poll_interval_seconds,
    sourceUsername: row.source_username,
    sourcePassword: row.source_password,
    creator: JSON.parse(row.creator) as Principal,
    lastSourceDigest: row.last_source_digest,
    currentDigest: row.current_digest,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toEntry(row: Selectable<MirrorHistoryTable>): MirrorHistoryEntry {
  return {
    id: Number(row.id),
    registry: row.registry,
    mirror: row.mirror,
    digest: row.digest,
    status: row.status,
    runId: row.run_id,
    uniqueTag: row.unique_tag,
    message: row.message,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export class KyselyMirrorStore implements MirrorStore {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async createMirror(mirror: NewMirror): Promise<MirrorRecord> {
    const now = timestamp();
    return await runTransaction(this.#db, async (trx) => {
      const registry = await trx.selectFrom('registries').select('name').where('name', '=', mirror.registry).executeTakeFirst();
      if (!registry) throw new RegistryNotFoundError(mirror.registry);
      const row = await trx
        .insertInto('mirrors')
        .values({
          registry: mirror.registry,
          name: mirror.name,
          source_text: mirror.sourceText,
          source_registry: mirror.source.registry,
          source_host: mirror.source.host,
          source_repository: mirror.source.repository,
          source_tag: mirror.source.tag,
          repository: mirror.repository,
          tag: mirror.tag,
          validation_type: mirror.validation.type,
          validation: mirror.validation.type === 'Cmd' ? mirror.validation.cmd : mirror.validation.type === 'TaskFile' ? mirror.validation.content : null,
          keep_unique_tags: mirror.keepUniqueTags,
          schedule: mirror.schedule,
          poll_interval_seconds: mirror.pollIntervalSeconds,
          source_username: mirror.sourceUsername,
          source_password: mirror.sourcePassword,
          creator: JSON.stringify(mirror.creator),
          last_source_digest: null,
          current_digest: null,
          created_at: now,
          updated_at: now,
        })
        .onConflict((oc) => oc.columns(['registry', 'name']).doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!row) throw new MirrorExistsError(mirror.registry, mirror.name);
      return toMirror(row);
    });
  }

  async getMirror(registry: string, name: string): Promise<MirrorRecord | undefined> {
    const row = await this.#db.selectFrom('mirrors').selectAll().where('registry', '=', registry).where('name', '=', name).executeTakeFirst();
    return row && toMirror(row);
  }

  async listMirrors(registry: string): Promise<MirrorRecord[]> {
    const rows = await this.#db.selectFrom('mirrors').selectAll().where('registry', '=', registry).orderBy('name').execute();
    return rows.map(toMirror);
  }

  async allMirrors(): Promise<MirrorRecord[]> {
    const rows = await this.#db.selectFrom('mirrors').selectAll().orderBy('registry').orderBy('name').execute();
    return rows.map(toMirror);
  }

  async mirrorsOfSource(registry: string, repository: string, tag: string): Promise<MirrorRecord[]> {
    const rows = await this.#db
      .selectFrom('mirrors')
      .selectAll()
      .where('source_registry', '=', registry)
      .where('source_repository', '=', repository)
      .where('source_tag', '=', tag)
      .orderBy('registry')
      .orderBy('name')
      .execute();
    return rows.map(toMirror);
  }

  async deleteMirror(registry: string, name: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('mirrors').where('registry', '=', registry).where('name', '=', name).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async claimDigest(registry: string, name: string, expected: string | null, digest: string): Promise<MirrorHistoryEntry | undefined> {
    return await runTransaction(this.#db, async (trx) => {
      const now = timestamp();
      const moved = await trx
        .updateTable('mirrors')
        .set({ last_source_digest: digest, updated_at: now })
        .where('registry', '=', registry)
        .where('name', '=', name)
        .where('last_source_digest', expected === null ? 'is' : '=', expected)
        .executeTakeFirst();
      if (moved.numUpdatedRows === 0n) return undefined;
      const row = await trx
        .insertInto('mirror_history')
        .values({ registry, mirror: name, digest, status: 'Staged', run_id: null, unique_tag: null, message: null, created_at: now, updated_at: now })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toEntry(row);
    });
  }

  async updateEntry(id: number, changes: MirrorEntryChanges): Promise<void> {
    await this.#db
      .updateTable('mirror_history')
      .set({
        ...(changes.status !== undefined && { status: changes.status }),
        ...(changes.runId !== undefined && { run_id: changes.runId }),
        ...(changes.uniqueTag !== undefined && { unique_tag: changes.uniqueTag }),
        ...(changes.message !== undefined && { message: changes.message }),
        updated_at: timestamp(),
      })
      .where('id', '=', id)
      .execute();
  }

  async promoted(id: number, uniqueTag: string, message: string | null): Promise<void> {
    await runTransaction(this.#db, async (trx) => {
      const now = timestamp();
      const entry = await trx
        .updateTable('mirror_history')
        .set({ status: 'Promoted', unique_tag: uniqueTag, message, updated_at: now })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      if (!entry) return;
      await trx
        .updateTable('mirrors')
        .set({ current_digest: entry.digest, updated_at: now })
        .where('registry', '=', entry.registry)
        .where('name', '=', entry.mirror)
        .execute();
    });
  }

  async rolledBack(registry: string, name: string, digest: string, message: string): Promise<MirrorHistoryEntry> {
    return await runTransaction(this.#db, async (trx) => {
      const now = timestamp();
      const row = await trx
        .insertInto('mirror_history')
        .values({ registry, mirror: name, digest, status: 'RolledBack', run_id: null, unique_tag: null, message, created_at: now, updated_at: now })
        .returningAll()
        .executeTakeFirstOrThrow();
      await trx.updateTable('mirrors').set({ current_digest: digest, updated_at: now }).where('registry', '=', registry).where('name', '=', name).execute();
      return toEntry(row);
    });
  }

  async history(registry: string, name: string, top?: number): Promise<MirrorHistoryEntry[]> {
    const rows = await this.#db
      .selectFrom('mirror_history')
      .selectAll()
      .where('registry', '=', registry)
      .where('mirror', '=', name)
      .orderBy('id', 'desc')
      .$if(top !== undefined, (qb) => qb.limit(top!))
      .execute();
    return rows.map(toEntry);
  }

  async unfinishedEntries(): Promise<MirrorHistoryEntry[]> {
    const rows = await this.#db.selectFrom('mirror_history').selectAll().where('status', 'in', ['Staged', 'Validating']).orderBy('id').execute();
    return rows.map(toEntry);
  }
}
