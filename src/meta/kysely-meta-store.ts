/**
 * `MetaStore` on Kysely, one implementation for SQLite and PostgreSQL (schema in `schema.ts`).
 *
 * Concurrency: writes are single transactions that never read-then-insert; rows that two
 * writers may create at once are inserted with `ON CONFLICT`. SQLite serialises writers.
 * On PostgreSQL (READ COMMITTED) a manifest put takes key-share locks on the blob links and
 * child manifests it checked, and a manifest delete locks the manifest first, so an index can
 * never be stored over a child being deleted; tags are upserted in sorted order so concurrent
 * puts lock them in the same order, and a transaction lost to a deadlock is retried.
 */
import type { Kysely, Selectable, Transaction, Updateable } from 'kysely';
import { manifestDetails, repositoryInfo, tagDetails } from './acr-listings.ts';
import type { ChangeOrigin } from './event-store.ts';
import { KyselyEventStore } from './kysely-event-store.ts';
import { KyselyIdentityStore } from './kysely-identity-store.ts';
import { KyselyWebhookStore } from './kysely-webhook-store.ts';
import { KyselyCollectionStore } from './kysely-collection-store.ts';
import { KyselyUsageStore } from './kysely-usage-store.ts';
import { KyselyRetentionStore } from './kysely-retention-store.ts';
import { KyselyAttributeStore } from './kysely-attribute-store.ts';
import type { QuarantineState } from './attribute-store.ts';
import { KyselyTaskStore } from './kysely-task-store.ts';
import { KyselyTriggerStore } from './kysely-trigger-store.ts';
import { KyselyMirrorStore } from '../mirrors/kysely-mirror-store.ts';
import {
  MissingReferencesError,
  RegistryExistsError,
  RegistryNotFoundError,
  skuLimits,
  type DeleteManifestResult,
  type EndedUpload,
  type ListingPage,
  type ManifestDetail,
  type ManifestRecord,
  type MetaStore,
  type PullableManifest,
  type NewManifest,
  type Page,
  type ReferrerRecord,
  type RepositoryBlobRecord,
  type RegistryRecord,
  type RegistrySettings,
  type RepositoryInfo,
  type Sku,
  type TagDetail,
} from './meta-store.ts';
import type { SqlDialect } from './migrations.ts';
import { PreparedQuery } from './prepared-query.ts';
import type { Database, ManifestsTable, RegistriesTable } from './schema.ts';
import { runTransaction, timestamp } from './transactions.ts';

type Db = Kysely<Database>;

/** Stands for "no limit" in the prepared page queries (fits a 64-bit integer). */
const noLimit = Number.MAX_SAFE_INTEGER;
/** Sorts before every non-empty name: "no `last`" in the prepared page queries. */
const beforeAllNames = '';
/** Rows or values per statement, well below both databases' bound-parameter limits. */
const batchSize = 500;

function batches<T>(items: readonly T[]): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += batchSize) result.push(items.slice(i, i + batchSize));
  return result;
}

const registryColumns = [
  'name',
  'created_at',
  'sku',
  'admin_enabled',
  'anonymous_pull_enabled',
  'resource_group',
  'location',
  'quota_bytes',
  'webhook_limit',
] as const;

type RegistryRow = Pick<Selectable<RegistriesTable>, (typeof registryColumns)[number]>;

function toRegistryRecord(row: RegistryRow): RegistryRecord {
  return {
    name: row.name,
    createdAt: row.created_at,
    sku: row.sku as Sku,
    adminUserEnabled: row.admin_enabled === 1,
    anonymousPullEnabled: row.anonymous_pull_enabled === 1,
    resourceGroup: row.resource_group,
    location: row.location,
    quotaBytes: row.quota_bytes,
    webhookLimit: row.webhook_limit,
  };
}

/** The registry columns a settings change writes; a SKU brings its quota and webhook limit. */
function registrySettingColumns(settings: Partial<RegistrySettings>): Updateable<RegistriesTable> {
  const columns: Updateable<RegistriesTable> = {};
  if (settings.sku !== undefined) {
    columns.sku = settings.sku;
    columns.quota_bytes = skuLimits[settings.sku].quotaBytes;
    columns.webhook_limit = skuLimits[settings.sku].webhookLimit;
  }
  if (settings.adminUserEnabled !== undefined) columns.admin_enabled = settings.adminUserEnabled ? 1 : 0;
  if (settings.anonymousPullEnabled !== undefined) columns.anonymous_pull_enabled = settings.anonymousPullEnabled ? 1 : 0;
  if (settings.resourceGroup !== undefined) columns.resource_group = settings.resourceGroup;
  if (settings.location !== undefined) columns.location = settings.location;
  return columns;
}

type ManifestRow = Pick<
  ManifestsTable,
  'digest' | 'media_type' | 'artifact_type' | 'subject' | 'size' | 'content' | 'created_at'
>;

function toManifestRecord(row: ManifestRow): ManifestRecord {
  return {
    digest: row.digest,
    mediaType: row.media_type,
    artifactType: row.artifact_type,
    subject: row.subject,
    size: row.size,
    content: row.content,
    createdAt: row.created_at,
  };
}

const manifestColumns = [
  'm.digest',
  'm.media_type',
  'm.artifact_type',
  'm.subject',
  'm.size',
  'm.content',
  'm.created_at',
] as const;

/** What a pull reads of a manifest (few columns: each costs on every pull). */
const pullColumns = ['m.digest', 'm.media_type', 'm.size', 'r.read_enabled as repository_read_enabled', 'm.read_enabled', 'm.quarantine_state'] as const;

interface PullRow {
  digest: string;
  media_type: string;
  size: number;
  repository_read_enabled: number;
  read_enabled: number;
  quarantine_state: string | null;
  tag_read_enabled?: number;
}

function toPullableManifest(row: PullRow): PullableManifest {
  return {
    digest: row.digest,
    mediaType: row.media_type,
    size: row.size,
    readEnabled: row.read_enabled === 1,
    quarantineState: row.quarantine_state as QuarantineState | null,
    repositoryReadEnabled: row.repository_read_enabled === 1,
    tagReadEnabled: row.tag_read_enabled === undefined ? null : row.tag_read_enabled === 1,
  };
}

// Type aliases, not interfaces: prepared-query parameters must be plain records.
type TagAddress = { registry: string; repository: string; tag: string };
type DigestAddress = { registry: string; repository: string; digest: string };

/** The manifest a repository's tag points at: `m`, with its tag `t` and repository `r`. */
function manifestAtTag(db: Db, p: TagAddress) {
  return db
    .selectFrom('repositories as r')
    .innerJoin('tags as t', 't.repository_id', 'r.id')
    .innerJoin('manifests as m', (join) => join.onRef('m.repository_id', '=', 't.repository_id').onRef('m.digest', '=', 't.digest'))
    .where('r.registry', '=', p.registry)
    .where('r.name', '=', p.repository)
    .where('t.name', '=', p.tag);
}

/** A repository's manifest by digest: `m`, with its repository `r`. */
function manifestAtDigest(db: Db, p: DigestAddress) {
  return db
    .selectFrom('repositories as r')
    .innerJoin('manifests as m', 'm.repository_id', 'r.id')
    .where('r.registry', '=', p.registry)
    .where('r.name', '=', p.repository)
    .where('m.digest', '=', p.digest);
}

type EndedUploadRow = { id: string; until: string };

function endedUploadRow({ id, until }: EndedUpload): EndedUploadRow {
  return { id, until: until.toISOString() };
}

/** The queries on the registry's hot paths, compiled once per store. */
function prepareQueries(db: Db, postgres: boolean) {
  return {
    // An upsert, not "insert or ignore": on PostgreSQL it waits for a garbage collection holding
    // the row and then inserts it afresh (see kysely-collection-store.ts).
    upsertBlob: new PreparedQuery((p: { digest: string; size: number; now: string; content: Uint8Array | null }) =>
      db
        .insertInto('blobs')
        .values({ digest: p.digest, size: p.size, created_at: p.now, linked_at: p.now, content: p.content })
        .onConflict((oc) =>
          oc.column('digest').doUpdateSet((eb) => ({ linked_at: p.now, content: eb.fn.coalesce('blobs.content', 'excluded.content') })),
        ),
    ),

    endUpload: new PreparedQuery((p: EndedUploadRow) =>
      db.insertInto('ended_uploads').values({ id: p.id, until: p.until }).onConflict((oc) => oc.column('id').doNothing()),
    ),

    endedUpload: new PreparedQuery((p: { id: string }) => db.selectFrom('ended_uploads').select('id').where('id', '=', p.id)),

    blobContent: new PreparedQuery((p: { digest: string }) =>
      db.selectFrom('blobs').select('content').where('digest', '=', p.digest).where('content', 'is not', null),
    ),

    upsertLink: new PreparedQuery((p: { repositoryId: number; digest: string; now: string }) =>
      db
        .insertInto('repository_blobs')
        .values({ repository_id: p.repositoryId, digest: p.digest, created_at: p.now, linked_at: p.now })
        .onConflict((oc) => oc.columns(['repository_id', 'digest']).doUpdateSet({ linked_at: p.now })),
    ),

    insertManifest: new PreparedQuery(
      (p: {
        repositoryId: number;
        digest: string;
        mediaType: string;
        artifactType: string | null;
        subject: string | null;
        size: number;
        content: Buffer;
        annotations: string | null;
        now: string;
        configMediaType: string | null;
        architecture: string | null;
        os: string | null;
        imageSize: number | null;
        quarantineState: string | null;
      }) =>
        db
          .insertInto('manifests')
          .values({
            repository_id: p.repositoryId,
            digest: p.digest,
            media_type: p.mediaType,
            artifact_type: p.artifactType,
            subject: p.subject,
            size: p.size,
            content: p.content,
            annotations: p.annotations,
            created_at: p.now,
            config_media_type: p.configMediaType,
            architecture: p.architecture,
            os: p.os,
            image_size: p.imageSize,
            updated_at: p.now,
            quarantine_state: p.quarantineState,
          })
          .onConflict((oc) => oc.columns(['repository_id', 'digest']).doNothing())
          .returning('digest'),
    ),

    insertReference: new PreparedQuery((p: { repositoryId: number; parent: string; kind: 'blob' | 'manifest'; child: string }) =>
      db.insertInto('manifest_references').values({ repository_id: p.repositoryId, parent_digest: p.parent, kind: p.kind, child_digest: p.child }),
    ),

    manifestDigest: new PreparedQuery((p: { repositoryId: number; digest: string }) =>
      db.selectFrom('manifests').select('digest').where('repository_id', '=', p.repositoryId).where('digest', '=', p.digest),
    ),

    blobLinkDigest: new PreparedQuery((p: { repositoryId: number; digest: string }) =>
      db.selectFrom('repository_blobs').select('digest').where('repository_id', '=', p.repositoryId).where('digest', '=', p.digest),
    ),

    /** The digest a tag points at, locked on PostgreSQL until the tag move commits. */
    tagForMove: new PreparedQuery((p: { repositoryId: number; name: string }) =>
      db
        .selectFrom('tags')
        .select('digest')
        .where('repository_id', '=', p.repositoryId)
        .where('name', '=', p.name)
        .$if(postgres, (qb) => qb.forUpdate()),
    ),

    clearUntagged: new PreparedQuery((p: { repositoryId: number; digest: string }) =>
      db
        .updateTable('manifests')
        .set({ untagged_at: null })
        .where('repository_id', '=', p.repositoryId)
        .where('digest', '=', p.digest)
        .where('untagged_at', 'is not', null),
    ),

    upsertTag: new PreparedQuery((p: { repositoryId: number; name: string; digest: string; now: string }) =>
      db
        .insertInto('tags')
        .values({ repository_id: p.repositoryId, name: p.name, digest: p.digest, updated_at: p.now, created_at: p.now })
        .onConflict((oc) => oc.columns(['repository_id', 'name']).doUpdateSet({ digest: p.digest, updated_at: p.now })),
    ),

    registry: new PreparedQuery((p: { name: string }) =>
      db.selectFrom('registries').select(registryColumns).where('name', '=', p.name),
    ),

    repositoryId: new PreparedQuery((p: { registry: string; repository: string }) =>
      db
        .selectFrom('repositories')
        .select('id')
        .where('registry', '=', p.registry)
        .where('name', '=', p.repository),
    ),

    manifestByTag: new PreparedQuery((p: TagAddress) => manifestAtTag(db, p).select(manifestColumns)),

    manifestByDigest: new PreparedQuery((p: DigestAddress) => manifestAtDigest(db, p).select(manifestColumns)),

    pullableByTag: new PreparedQuery((p: TagAddress) =>
      manifestAtTag(db, p).select([...pullColumns, 't.read_enabled as tag_read_enabled']),
    ),

    pullableByDigest: new PreparedQuery((p: DigestAddress) => manifestAtDigest(db, p).select(pullColumns)),

    repositoryBlob: new PreparedQuery((p: { registry: string; repository: string; digest: string }) =>
      db
        .selectFrom('repositories as r')
        .innerJoin('repository_blobs as rb', 'rb.repository_id', 'r.id')
        .innerJoin('blobs as b', 'b.digest', 'rb.digest')
        .select(['b.size', 'rb.linked_at', 'b.content'])
        .where('r.registry', '=', p.registry)
        .where('r.name', '=', p.repository)
        .where('rb.digest', '=', p.digest),
    ),

    tagsPage: new PreparedQuery((p: { registry: string; repository: string; last: string; limit: number }) =>
      db
        .selectFrom('repositories as r')
        .innerJoin('tags as t', 't.repository_id', 'r.id')
        .select('t.name')
        .where('r.registry', '=', p.registry)
        .where('r.name', '=', p.repository)
        .where('t.name', '>', p.last)
        .where('t.list_enabled', '=', 1)
        .where(({ exists, selectFrom }) =>
          exists(
            selectFrom('manifests as m')
              .select('m.digest')
              .whereRef('m.repository_id', '=', 't.repository_id')
              .whereRef('m.digest', '=', 't.digest')
              .where('m.list_enabled', '=', 1),
          ),
        )
        .orderBy('t.name')
        .limit(p.limit),
    ),

    repositoriesPage: new PreparedQuery((p: { registry: string; last: string; limit: number }) =>
      db
        .selectFrom('repositories as r')
        .select('r.name')
        .where('r.registry', '=', p.registry)
        .where('r.name', '>', p.last)
        .where('r.list_enabled', '=', 1)
        .where(({ exists, selectFrom }) =>
          exists(selectFrom('manifests as m').select('m.digest').whereRef('m.repository_id', '=', 'r.id')),
        )
        .orderBy('r.name')
        .limit(p.limit),
    ),

    repositoryWithManifests: new PreparedQuery((p: { registry: string; repository: string }) =>
      db
        .selectFrom('repositories as r')
        .select('r.id')
        .where('r.registry', '=', p.registry)
        .where('r.name', '=', p.repository)
        .where(({ exists, selectFrom }) =>
          exists(selectFrom('manifests as m').select('m.digest').whereRef('m.repository_id', '=', 'r.id')),
        ),
    ),
  };
}

export class KyselyMetaStore extends KyselyIdentityStore implements MetaStore {
  readonly #db: Db;
  readonly #postgres: boolean;
  readonly #queries: ReturnType<typeof prepareQueries>;
  readonly events: KyselyEventStore;
  readonly webhooks: KyselyWebhookStore;
  readonly collection: KyselyCollectionStore;
  readonly usage: KyselyUsageStore;
  readonly attributes: KyselyAttributeStore;
  readonly retention: KyselyRetentionStore;
  readonly tasks: KyselyTaskStore;
  readonly triggers: KyselyTriggerStore;
  readonly mirrors: KyselyMirrorStore;

  /** `db` must already be migrated (`migrateToLatest`). */
  constructor(db: Db, dialect: SqlDialect) {
    super(db);
    this.#db = db;
    this.#postgres = dialect === 'postgres';
    this.#queries = prepareQueries(db, this.#postgres);
    this.events = new KyselyEventStore(db, dialect);
    this.webhooks = new KyselyWebhookStore(db, dialect);
    this.collection = new KyselyCollectionStore(db, dialect);
    this.usage = new KyselyUsageStore(db);
    this.attributes = new KyselyAttributeStore(db, this.events);
    this.retention = new KyselyRetentionStore(db, dialect);
    this.tasks = new KyselyTaskStore(db, dialect);
    this.triggers = new KyselyTriggerStore(db, dialect);
    this.mirrors = new KyselyMirrorStore(db);
  }

  async close(): Promise<void> {
    await this.#db.destroy();
  }

  async createRegistry(name: string, settings: Partial<RegistrySettings> = {}): Promise<RegistryRecord> {
    const row = await this.#db
      .insertInto('registries')
      .values({ name, created_at: timestamp(), ...registrySettingColumns({ sku: 'Standard', ...settings }) })
      .onConflict((oc) => oc.column('name').doNothing())
      .returning(registryColumns)
      .executeTakeFirst();
    if (!row) throw new RegistryExistsError(name);
    return toRegistryRecord(row);
  }

  async getRegistry(name: string): Promise<RegistryRecord | undefined> {
    const { rows } = await this.#queries.registry.execute(this.#db, { name });
    return rows[0] && toRegistryRecord(rows[0]);
  }

  async listRegistries(): Promise<RegistryRecord[]> {
    const rows = await this.#db.selectFrom('registries').select(registryColumns).orderBy('name').execute();
    return rows.map(toRegistryRecord);
  }

  async updateRegistry(name: string, changes: Partial<RegistrySettings>): Promise<RegistryRecord | undefined> {
    const columns = registrySettingColumns(changes);
    if (Object.keys(columns).length === 0) return await this.getRegistry(name);
    const row = await this.#db
      .updateTable('registries')
      .set(columns)
      .where('name', '=', name)
      .returning(registryColumns)
      .executeTakeFirst();
    return row && toRegistryRecord(row);
  }

  async deleteRegistry(name: string): Promise<boolean> {
    // Repositories and everything in them, scope maps, tokens, role assignments, refresh
    // tokens, tasks with their runs and trigger state go with the registry (ON DELETE CASCADE).
    const result = await this.#db.deleteFrom('registries').where('name', '=', name).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async getRepositoryBlob(registry: string, repository: string, digest: string): Promise<RepositoryBlobRecord | undefined> {
    const { rows } = await this.#queries.repositoryBlob.execute(this.#db, { registry, repository, digest });
    return rows[0] && { size: rows[0].size, linkedAt: rows[0].linked_at, content: rows[0].content ?? undefined };
  }

  async getBlobContent(digest: string): Promise<Buffer | undefined> {
    const { rows } = await this.#queries.blobContent.execute(this.#db, { digest });
    return rows[0]?.content ?? undefined;
  }

  async findRegistryBlob(registry: string, digest: string): Promise<{ size: number } | undefined> {
    return await this.#db
      .selectFrom('blobs as b')
      .select('b.size')
      .where('b.digest', '=', digest)
      .where(({ exists, selectFrom }) =>
        exists(
          selectFrom('repository_blobs as rb')
            .innerJoin('repositories as r', 'r.id', 'rb.repository_id')
            .select('rb.digest')
            .whereRef('rb.digest', '=', 'b.digest')
            .where('r.registry', '=', registry),
        ),
      )
      .executeTakeFirst();
  }

  async linkBlob(registry: string, repository: string, digest: string, size: number, content?: Uint8Array, ended?: EndedUpload): Promise<void> {
    const now = timestamp();
    await this.#transaction(async (trx) => {
      const repositoryId = await this.#ensureRepository(trx, registry, repository, now);
      await this.#queries.upsertBlob.execute(trx, { digest, size, now, content: content ?? null });
      await this.#queries.upsertLink.execute(trx, { repositoryId, digest, now });
      if (ended) await this.#queries.endUpload.execute(trx, endedUploadRow(ended));
    });
  }

  async endUpload(ended: EndedUpload): Promise<void> {
    await this.#queries.endUpload.execute(this.#db, endedUploadRow(ended));
  }

  async isUploadEnded(id: string): Promise<boolean> {
    return (await this.#queries.endedUpload.execute(this.#db, { id })).rows.length > 0;
  }

  async forgetEndedUploads(now: Date): Promise<number> {
    const result = await this.#db.deleteFrom('ended_uploads').where('until', '<', now.toISOString()).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async mountBlob(
    registry: string,
    repository: string,
    digest: string,
    from?: string,
    options: { requireContent?: boolean } = {},
  ): Promise<{ size: number } | undefined> {
    const now = timestamp();
    return await this.#transaction(async (trx) => {
      // The blob row first: a collection of this blob (which locks it for update) either
      // committed before, and the source link is gone too, or waits until the new link is in.
      const blob = await trx
        .selectFrom('blobs')
        .select('size')
        .where('digest', '=', digest)
        .$if(options.requireContent === true, (qb) => qb.where('content', 'is not', null))
        .$if(this.#postgres, (qb) => qb.forShare())
        .executeTakeFirst();
      if (!blob) return undefined;
      const source = await trx
        .selectFrom('repository_blobs as rb')
        .innerJoin('repositories as r', 'r.id', 'rb.repository_id')
        .select('rb.digest')
        .where('r.registry', '=', registry)
        .$if(from !== undefined, (qb) => qb.where('r.name', '=', from!))
        .where('rb.digest', '=', digest)
        .limit(1)
        .executeTakeFirst();
      if (!source) return undefined;
      const repositoryId = await this.#ensureRepository(trx, registry, repository, now);
      await this.#queries.upsertLink.execute(trx, { repositoryId, digest, now });
      return { size: blob.size };
    });
  }

  async refreshBlobLink(registry: string, repository: string, digest: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('repository_blobs')
      .set({ linked_at: timestamp() })
      .where('digest', '=', digest)
      .where('repository_id', '=', (eb) =>
        eb.selectFrom('repositories').select('id').where('registry', '=', registry).where('name', '=', repository),
      )
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async unlinkBlob(registry: string, repository: string, digest: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('repository_blobs')
      .where('digest', '=', digest)
      .where('repository_id', '=', (eb) =>
        eb.selectFrom('repositories').select('id').where('registry', '=', registry).where('name', '=', repository),
      )
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async putManifest(manifest: NewManifest): Promise<void> {
    const now = timestamp();
    const blobs = [...new Set(manifest.blobs)];
    const children = [...new Set(manifest.manifests)];
    // One order for everyone: concurrent puts then lock shared tags in the same order.
    const tags = [...new Set(manifest.tags)].sort();
    await this.#transaction(async (trx) => {
      const repositoryId = await this.#ensureRepository(trx, manifest.registry, manifest.repository, now);
      const missingBlobs = await this.#missing(trx, 'repository_blobs', repositoryId, blobs);
      const missingManifests = await this.#missing(trx, 'manifests', repositoryId, children);
      if (missingBlobs.length > 0 || missingManifests.length > 0) {
        throw new MissingReferencesError(missingBlobs, missingManifests);
      }

      const { rows: inserted } = await this.#queries.insertManifest.execute(trx, {
        repositoryId,
        digest: manifest.digest,
        mediaType: manifest.mediaType,
        artifactType: manifest.artifactType,
        subject: manifest.subject,
        size: manifest.content.length,
        content: manifest.content,
        annotations: manifest.annotations === null ? null : JSON.stringify(manifest.annotations),
        now,
        configMediaType: manifest.configMediaType ?? null,
        architecture: manifest.architecture ?? null,
        os: manifest.os ?? null,
        imageSize: manifest.imageSize ?? null,
        quarantineState: manifest.quarantined ? 'Pending' : null,
      });

      // A re-push of a manifest still held (Pending or Failed) stays held and is announced as such.
      let held = inserted.length > 0 && manifest.quarantined === true;
      // An existing manifest already has its references: they were written with it.
      if (inserted.length > 0) {
        const references = [
          ...blobs.map((child) => ({ kind: 'blob' as const, child })),
          ...children.map((child) => ({ kind: 'manifest' as const, child })),
        ];
        for (const { kind, child } of references) {
          await this.#queries.insertReference.execute(trx, { repositoryId, parent: manifest.digest, kind, child });
        }
      } else {
        const existing = await trx
          .updateTable('manifests')
          .set({ updated_at: now })
          .where('repository_id', '=', repositoryId)
          .where('digest', '=', manifest.digest)
          .returning('quarantine_state')
          .executeTakeFirst();
        held = existing?.quarantine_state === 'Pending' || existing?.quarantine_state === 'Failed';
      }

      const movedFrom = new Set<string>();
      for (const name of tags) {
        const previous = (await this.#queries.tagForMove.execute(trx, { repositoryId, name })).rows[0];
        if (previous && previous.digest !== manifest.digest) movedFrom.add(previous.digest);
        await this.#queries.upsertTag.execute(trx, { repositoryId, name, digest: manifest.digest, now });
      }
      if (tags.length > 0) await this.#queries.clearUntagged.execute(trx, { repositoryId, digest: manifest.digest });
      for (const digest of [...movedFrom].sort()) await this.#markIfUntagged(trx, repositoryId, digest, now);
      await this.events.append(
        trx,
        {
          action: held ? 'quarantine' : 'push',
          registry: manifest.registry,
          repository: manifest.repository,
          digest: manifest.digest,
          mediaType: manifest.mediaType,
          size: manifest.content.length,
          tags,
          origin: manifest.origin ?? null,
        },
        now,
      );
    });
    this.events.announce();
  }

  async getManifestByDigest(registry: string, repository: string, digest: string): Promise<ManifestRecord | undefined> {
    const { rows } = await this.#queries.manifestByDigest.execute(this.#db, { registry, repository, digest });
    return rows[0] && toManifestRecord(rows[0]);
  }

  async getManifestByTag(registry: string, repository: string, tag: string): Promise<ManifestRecord | undefined> {
    const { rows } = await this.#queries.manifestByTag.execute(this.#db, { registry, repository, tag });
    return rows[0] && toManifestRecord(rows[0]);
  }

  async getPullableManifest(
    registry: string,
    repository: string,
    reference: { kind: 'tag'; tag: string } | { kind: 'digest'; digest: string },
  ): Promise<PullableManifest | undefined> {
    const { rows } =
      reference.kind === 'tag'
        ? await this.#queries.pullableByTag.execute(this.#db, { registry, repository, tag: reference.tag })
        : await this.#queries.pullableByDigest.execute(this.#db, { registry, repository, digest: reference.digest });
    return rows[0] && toPullableManifest(rows[0]);
  }

  async deleteManifest(registry: string, repository: string, digest: string, origin: ChangeOrigin | null = null): Promise<DeleteManifestResult> {
    const result = await this.#transaction(async (trx): Promise<DeleteManifestResult> => {
      const { rows } = await this.#queries.repositoryId.execute(trx, { registry, repository });
      const repositoryId = rows[0]?.id;
      if (repositoryId === undefined) return { status: 'not-found' };

      // Locked first, so an index put that checked this child either finished before or sees it gone.
      const found = await trx
        .selectFrom('manifests')
        .select(['digest', 'media_type', 'size'])
        .where('repository_id', '=', repositoryId)
        .where('digest', '=', digest)
        .$if(this.#postgres, (qb) => qb.forUpdate())
        .executeTakeFirst();
      if (!found) return { status: 'not-found' };

      const parent = await trx
        .selectFrom('manifest_references')
        .select('parent_digest')
        .where('repository_id', '=', repositoryId)
        .where('child_digest', '=', digest)
        .where('kind', '=', 'manifest')
        .where('parent_digest', '<>', digest)
        .orderBy('parent_digest')
        .limit(1)
        .executeTakeFirst();
      if (parent) return { status: 'referenced', by: parent.parent_digest };

      const removedTags = await trx
        .deleteFrom('tags')
        .where('repository_id', '=', repositoryId)
        .where('digest', '=', digest)
        .returning('name')
        .execute();
      await trx
        .deleteFrom('manifest_references')
        .where('repository_id', '=', repositoryId)
        .where('parent_digest', '=', digest)
        .execute();
      await trx.deleteFrom('manifests').where('repository_id', '=', repositoryId).where('digest', '=', digest).execute();
      await this.events.append(trx, {
        action: 'delete',
        registry,
        repository,
        digest,
        mediaType: found.media_type,
        size: found.size,
        tags: removedTags.map((row) => row.name).sort(),
        origin,
      });
      return { status: 'deleted' };
    });
    if (result.status === 'deleted') this.events.announce();
    return result;
  }

  async deleteTag(registry: string, repository: string, tag: string, origin: ChangeOrigin | null = null): Promise<boolean> {
    const deleted = await this.#transaction(async (trx) => {
      const row = await trx
        .deleteFrom('tags')
        .where('name', '=', tag)
        .where('repository_id', '=', (eb) =>
          eb.selectFrom('repositories').select('id').where('registry', '=', registry).where('name', '=', repository),
        )
        .returning(['digest', 'repository_id'])
        .executeTakeFirst();
      if (!row) return false;
      await this.#markIfUntagged(trx, row.repository_id, row.digest, timestamp());
      await this.events.append(trx, { action: 'untag', registry, repository, digest: row.digest, mediaType: null, size: null, tags: [tag], origin });
      return true;
    });
    if (deleted) this.events.announce();
    return deleted;
  }

  async repositoryExists(registry: string, repository: string): Promise<boolean> {
    const { rows } = await this.#queries.repositoryWithManifests.execute(this.#db, { registry, repository });
    return rows.length > 0;
  }

  async listTags(registry: string, repository: string, page: Page): Promise<string[]> {
    const { rows } = await this.#queries.tagsPage.execute(this.#db, {
      registry,
      repository,
      last: page.last ?? beforeAllNames,
      limit: page.n ?? noLimit,
    });
    return rows.map((row) => row.name);
  }

  async listRepositories(registry: string, page: Page): Promise<string[]> {
    const { rows } = await this.#queries.repositoriesPage.execute(this.#db, {
      registry,
      last: page.last ?? beforeAllNames,
      limit: page.n ?? noLimit,
    });
    return rows.map((row) => row.name);
  }

  async listReferrers(
    registry: string,
    repository: string,
    subject: string,
    artifactType?: string,
  ): Promise<ReferrerRecord[]> {
    const rows = await this.#db
      .selectFrom('repositories as r')
      .innerJoin('manifests as m', 'm.repository_id', 'r.id')
      .select(['m.digest', 'm.media_type', 'm.artifact_type', 'm.size', 'm.annotations'])
      .where('r.registry', '=', registry)
      .where('r.name', '=', repository)
      .where('m.subject', '=', subject)
      .$if(artifactType !== undefined, (qb) => qb.where('m.artifact_type', '=', artifactType as string))
      .orderBy('m.digest')
      .execute();
    return rows.map((row) => ({
      digest: row.digest,
      mediaType: row.media_type,
      artifactType: row.artifact_type,
      size: row.size,
      annotations: row.annotations === null ? null : (JSON.parse(row.annotations) as Record<string, string>),
    }));
  }

  async getRepositoryInfo(registry: string, repository: string): Promise<RepositoryInfo | undefined> {
    return await repositoryInfo(this.#db, registry, repository);
  }

  async listTagDetails(registry: string, repository: string, page: ListingPage & { digest?: string; name?: string; includeHidden?: boolean }): Promise<TagDetail[]> {
    return await tagDetails(this.#db, registry, repository, page);
  }

  async listManifestDetails(registry: string, repository: string, page: ListingPage & { digest?: string; includeHidden?: boolean }): Promise<ManifestDetail[]> {
    return await manifestDetails(this.#db, registry, repository, page);
  }

  async #transaction<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return await runTransaction(this.#db, work);
  }

  /** Records when a manifest lost its last tag (the retention policy's clock), unless already recorded. */
  async #markIfUntagged(trx: Transaction<Database>, repositoryId: number, digest: string, now: string): Promise<void> {
    await trx
      .updateTable('manifests')
      .set({ untagged_at: now })
      .where('repository_id', '=', repositoryId)
      .where('digest', '=', digest)
      .where('untagged_at', 'is', null)
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('tags').select('name').where('repository_id', '=', repositoryId).where('digest', '=', digest))),
      )
      .execute();
  }

  /** The repository's id, creating the repository if needed; throws if the registry does not exist. */
  async #ensureRepository(trx: Transaction<Database>, registry: string, repository: string, now: string): Promise<number> {
    const existing = await this.#queries.repositoryId.execute(trx, { registry, repository });
    if (existing.rows[0]) return existing.rows[0].id;

    const registryRow = await trx.selectFrom('registries').select('name').where('name', '=', registry).executeTakeFirst();
    if (!registryRow) throw new RegistryNotFoundError(registry);

    // A concurrent transaction may be creating the same repository: on conflict, PostgreSQL waits
    // for it to commit and inserts nothing, and the next statement sees its row.
    const inserted = await trx
      .insertInto('repositories')
      .values({ registry, name: repository, created_at: now })
      .onConflict((oc) => oc.columns(['registry', 'name']).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted) return inserted.id;

    const created = await this.#queries.repositoryId.execute(trx, { registry, repository });
    if (!created.rows[0]) throw new Error(`repository ${registry}/${repository} vanished while being created`);
    return created.rows[0].id;
  }

  /** Those of `digests` absent from the repository's blob links or manifests (locked on PostgreSQL). */
  async #missing(
    trx: Transaction<Database>,
    table: 'repository_blobs' | 'manifests',
    repositoryId: number,
    digests: string[],
  ): Promise<string[]> {
    if (!this.#postgres) {
      // SQLite answers a prepared point lookup faster than Kysely builds one IN query.
      const lookup = table === 'manifests' ? this.#queries.manifestDigest : this.#queries.blobLinkDigest;
      const missing: string[] = [];
      for (const digest of digests) {
        if ((await lookup.execute(trx, { repositoryId, digest })).rows.length === 0) missing.push(digest);
      }
      return missing;
    }
    const found = new Set<string>();
    for (const batch of batches(digests)) {
      const rows = await trx
        .selectFrom(table)
        .select('digest')
        .where('repository_id', '=', repositoryId)
        .where('digest', 'in', batch)
        .$if(this.#postgres, (qb) => qb.forKeyShare())
        .execute();
      for (const row of rows) found.add(row.digest);
    }
    return digests.filter((digest) => !found.has(digest));
  }
}
