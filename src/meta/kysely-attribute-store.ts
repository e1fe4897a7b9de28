/** `AttributeStore` on Kysely: the lock columns of repositories, tags and manifests (migration 0006). */
import type { Kysely, Updateable } from 'kysely';
import type {
  AttributeStore,
  ChangeableAttributes,
  LockName,
  ManifestAttributeChanges,
  ManifestAttributes,
  ManifestLocks,
  QuarantineState,
  TagAttributes,
} from './attribute-store.ts';
import type { ChangeOrigin } from './event-store.ts';
import type { KyselyEventStore } from './kysely-event-store.ts';
import type { Database, LockColumns } from './schema.ts';
import { PreparedQuery } from './prepared-query.ts';
import { runTransaction, timestamp } from './transactions.ts';

type Db = Kysely<Database>;

interface LockRow {
  delete_enabled: number;
  write_enabled: number;
  read_enabled: number;
  list_enabled: number;
}

const columnOf: Record<LockName, keyof LockColumns> = {
  deleteEnabled: 'delete_enabled',
  writeEnabled: 'write_enabled',
  readEnabled: 'read_enabled',
  listEnabled: 'list_enabled',
};

export function toAttributes(row: LockRow): ChangeableAttributes {
  return {
    deleteEnabled: row.delete_enabled === 1,
    writeEnabled: row.write_enabled === 1,
    readEnabled: row.read_enabled === 1,
    listEnabled: row.list_enabled === 1,
  };
}

function toManifestAttributes(row: LockRow & { quarantine_state: string | null; quarantine_details: string | null }): ManifestAttributes {
  return { ...toAttributes(row), quarantineState: row.quarantine_state as QuarantineState | null, quarantineDetails: row.quarantine_details };
}

function lockUpdates(changes: Partial<ChangeableAttributes>): Record<string, number> {
  const columns: Record<string, number> = {};
  for (const [name, column] of Object.entries(columnOf)) {
    const value = changes[name as LockName];
    if (value !== undefined) columns[column] = value ? 1 : 0;
  }
  return columns;
}

const lockColumns = ['delete_enabled', 'write_enabled', 'read_enabled', 'list_enabled'] as const;

export class KyselyAttributeStore implements AttributeStore {
  /** The lock and quarantine reads every pull and push makes, compiled once (see `prepared-query.ts`). */
  readonly #reads;

  constructor(
    private readonly db: Db,
    /** A release from quarantine is announced as the push it held back, in the same transaction. */
    private readonly events: KyselyEventStore,
  ) {
    this.#reads = {
      repository: new PreparedQuery((p: { registry: string; repository: string }) =>
        this.db.selectFrom('repositories').select(lockColumns).where('registry', '=', p.registry).where('name', '=', p.repository),
      ),
      tag: new PreparedQuery((p: { registry: string; repository: string; tag: string }) =>
        this.db
          .selectFrom('tags as t')
          .innerJoin('manifests as m', (join) => join.onRef('m.repository_id', '=', 't.repository_id').onRef('m.digest', '=', 't.digest'))
          .select([
            't.digest',
            't.delete_enabled',
            't.write_enabled',
            't.read_enabled',
            't.list_enabled',
            'm.delete_enabled as m_delete_enabled',
            'm.write_enabled as m_write_enabled',
            'm.read_enabled as m_read_enabled',
            'm.list_enabled as m_list_enabled',
            'm.quarantine_state',
            'm.quarantine_details',
          ])
          .where('t.repository_id', '=', this.#repositoryId(p.registry, p.repository))
          .where('t.name', '=', p.tag),
      ),
      manifest: new PreparedQuery((p: { registry: string; repository: string; digest: string }) =>
        this.db
          .selectFrom('manifests')
          .select([...lockColumns, 'quarantine_state', 'quarantine_details'])
          .where('repository_id', '=', this.#repositoryId(p.registry, p.repository))
          .where('digest', '=', p.digest),
      ),
      quarantineEnabled: new PreparedQuery((p: { registry: string }) =>
        this.db.selectFrom('registries').select('quarantine_enabled').where('name', '=', p.registry),
      ),
      manifestTags: new PreparedQuery((p: { registry: string; repository: string; digest: string }) =>
        this.db
          .selectFrom('tags')
          .select(['name', ...lockColumns])
          .where('repository_id', '=', this.#repositoryId(p.registry, p.repository))
          .where('digest', '=', p.digest)
          .orderBy('name'),
      ),
    };
  }

  #repositoryId(registry: string, repository: string) {
    return this.db.selectFrom('repositories').select('id').where('registry', '=', registry).where('name', '=', repository);
  }

  async repository(registry: string, repository: string): Promise<ChangeableAttributes | undefined> {
    const [row] = (await this.#reads.repository.execute(this.db, { registry, repository })).rows;
    return row && toAttributes(row);
  }

  async updateRepository(registry: string, repository: string, changes: Partial<ChangeableAttributes>): Promise<ChangeableAttributes | undefined> {
    const columns = lockUpdates(changes);
    if (Object.keys(columns).length === 0) return await this.repository(registry, repository);
    const row = await this.db
      .updateTable('repositories')
      .set(columns as Updateable<Database['repositories']>)
      .where('registry', '=', registry)
      .where('name', '=', repository)
      .returning(lockColumns)
      .executeTakeFirst();
    return row && toAttributes(row);
  }

  async tag(registry: string, repository: string, tag: string): Promise<TagAttributes | undefined> {
    const [row] = (await this.#reads.tag.execute(this.db, { registry, repository, tag })).rows;
    if (!row) return undefined;
    return {
      digest: row.digest,
      attributes: toAttributes(row),
      manifest: toManifestAttributes({
        delete_enabled: row.m_delete_enabled,
        write_enabled: row.m_write_enabled,
        read_enabled: row.m_read_enabled,
        list_enabled: row.m_list_enabled,
        quarantine_state: row.quarantine_state,
        quarantine_details: row.quarantine_details,
      }),
    };
  }

  async updateTag(registry: string, repository: string, tag: string, changes: Partial<ChangeableAttributes>): Promise<TagAttributes | undefined> {
    const columns = lockUpdates(changes);
    if (Object.keys(columns).length > 0) {
      await this.db
        .updateTable('tags')
        .set({ ...(columns as Updateable<Database['tags']>), updated_at: timestamp() })
        .where('repository_id', '=', this.#repositoryId(registry, repository))
        .where('name', '=', tag)
        .execute();
    }
    return await this.tag(registry, repository, tag);
  }

  async manifest(registry: string, repository: string, digest: string): Promise<ManifestLocks | undefined> {
    const [row] = (await this.#reads.manifest.execute(this.db, { registry, repository, digest })).rows;
    if (!row) return undefined;
    const tags = (await this.#reads.manifestTags.execute(this.db, { registry, repository, digest })).rows;
    return { attributes: toManifestAttributes(row), tags: tags.map((tag) => ({ name: tag.name, attributes: toAttributes(tag) })) };
  }

  async updateManifest(registry: string, repository: string, digest: string, changes: ManifestAttributeChanges, origin: ChangeOrigin | null = null) {
    const result = await runTransaction(this.db, async (trx) => {
      const before = await trx
        .selectFrom('manifests')
        .select(['quarantine_state', 'media_type', 'size'])
        .where('repository_id', '=', this.#repositoryId(registry, repository))
        .where('digest', '=', digest)
        .executeTakeFirst();
      if (!before) return undefined;
      const columns: Updateable<Database['manifests']> = { ...(lockUpdates(changes) as Updateable<Database['manifests']>), updated_at: timestamp() };
      if (changes.quarantineState !== undefined) columns.quarantine_state = changes.quarantineState;
      if (changes.quarantineDetails !== undefined) columns.quarantine_details = changes.quarantineDetails;
      const row = await trx
        .updateTable('manifests')
        .set(columns)
        .where('repository_id', '=', this.#repositoryId(registry, repository))
        .where('digest', '=', digest)
        .returning([...lockColumns, 'quarantine_state', 'quarantine_details'])
        .executeTakeFirstOrThrow();
      const tags = await trx
        .selectFrom('tags')
        .select('name')
        .where('repository_id', '=', this.#repositoryId(registry, repository))
        .where('digest', '=', digest)
        .orderBy('name')
        .execute();
      const released = before.quarantine_state !== 'Passed' && before.quarantine_state !== null && row.quarantine_state === 'Passed';
      if (released) {
        await this.events.append(trx, {
          action: 'push',
          registry,
          repository,
          digest,
          mediaType: before.media_type,
          size: before.size,
          tags: tags.map((tag) => tag.name),
          origin,
        });
      }
      return { attributes: toManifestAttributes(row), released };
    });
    if (result?.released) this.events.announce();
    return result && result.attributes;
  }

  async firstLocked(registry: string, repository: string, locks: LockName[]) {
    for (const table of ['tags', 'manifests'] as const) {
      for (const lock of locks) {
        const name = table === 'tags' ? 'name' : 'digest';
        const row = await this.db
          .selectFrom(table)
          .select(`${name} as name` as 'name')
          .where('repository_id', '=', this.#repositoryId(registry, repository))
          .where(columnOf[lock], '=', 0)
          .orderBy(name)
          .limit(1)
          .executeTakeFirst();
        if (row) return { kind: table === 'tags' ? ('tag' as const) : ('manifest' as const), name: (row as { name: string }).name, lock };
      }
    }
    return undefined;
  }

  async contents(registry: string, repository: string): Promise<{ manifests: string[]; tags: string[] }> {
    const manifests = await this.db.selectFrom('manifests').select('digest').where('repository_id', '=', this.#repositoryId(registry, repository)).orderBy('digest').execute();
    const tags = await this.db.selectFrom('tags').select('name').where('repository_id', '=', this.#repositoryId(registry, repository)).orderBy('name').execute();
    return { manifests: manifests.map((row) => row.digest), tags: tags.map((row) => row.name) };
  }

  async quarantineEnabled(registry: string): Promise<boolean | undefined> {
    const [row] = (await this.#reads.quarantineEnabled.execute(this.db, { registry })).rows;
    return row && row.quarantine_enabled === 1;
  }

  async setQuarantineEnabled(registry: string, enabled: boolean): Promise<boolean | undefined> {
    const row = await this.db
      .updateTable('registries')
      .set({ quarantine_enabled: enabled ? 1 : 0 })
      .where('name', '=', registry)
      .returning('quarantine_enabled')
      .executeTakeFirst();
    return row && row.quarantine_enabled === 1;
  }
}
