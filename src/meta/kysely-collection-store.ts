/**
 * `CollectionStore` on Kysely, for SQLite and PostgreSQL.
 *
 * Locking: SQLite serialises write transactions (`BEGIN IMMEDIATE`), so a check and the write
 * that follows it see no concurrent change. On PostgreSQL (READ COMMITTED) each write first
 * locks the rows it will remove (`FOR UPDATE`, in key order) and only then checks its condition
 * in a new statement, whose snapshot includes everything committed before the lock was granted:
 * a link upsert of the same blob (`linkBlob`, `mountBlob`: `ON CONFLICT DO UPDATE` locks the
 * blob row) or a manifest put that checked a link (`FOR KEY SHARE`) either commits first and is
 * seen, or waits for the collection and then finds the row gone.
 */
import type { ExpressionBuilder, Kysely } from 'kysely';
import type { BlobLinkKey, CollectableBlob, CollectionStore, OrphanBlob, StaleLink } from './collection-store.ts';
import type { SqlDialect } from './migrations.ts';
import type { Database } from './schema.ts';
import { runTransaction, timestamp } from './transactions.ts';

type Db = Kysely<Database>;

/** Digests per statement in the helpers below, well under both databases' parameter limits. */
const chunkSize = 500;

function chunks<T>(items: readonly T[]): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += chunkSize) result.push(items.slice(i, i + chunkSize));
  return result;
}

/** No manifest of the link's own repository references the blob. */
function unreferencedInRepository(eb: ExpressionBuilder<Database & { rb: Database['repository_blobs'] }, 'rb'>) {
  return eb.not(
    eb.exists(
      eb
        .selectFrom('manifest_references as mr')
        .select('mr.child_digest')
        .whereRef('mr.repository_id', '=', 'rb.repository_id')
        .whereRef('mr.child_digest', '=', 'rb.digest')
        .where('mr.kind', '=', 'blob'),
    ),
  );
}

/** No manifest anywhere references the blob. */
function unreferenced(eb: ExpressionBuilder<Database & { b: Database['blobs'] }, 'b'>) {
  return eb.not(
    eb.exists(
      eb.selectFrom('manifest_references as mr').select('mr.child_digest').whereRef('mr.child_digest', '=', 'b.digest').where('mr.kind', '=', 'blob'),
    ),
  );
}

export class KyselyCollectionStore implements CollectionStore {
  readonly #db: Db;
  readonly #postgres: boolean;

  constructor(db: Db, dialect: SqlDialect) {
    this.#db = db;
    this.#postgres = dialect === 'postgres';
  }

  async listStaleLinks(before: string, page: { after?: BlobLinkKey; limit: number }): Promise<StaleLink[]> {
    const { after } = page;
    const rows = await this.#db
      .selectFrom('repository_blobs as rb')
      .innerJoin('repositories as r', 'r.id', 'rb.repository_id')
      .innerJoin('blobs as b', 'b.digest', 'rb.digest')
      .select(['rb.repository_id', 'rb.digest', 'r.registry', 'r.name', 'b.size'])
      .where('rb.linked_at', '<', before)
      .where(unreferencedInRepository)
      .$if(after !== undefined, (qb) =>
        qb.where((eb) => eb(eb.refTuple('rb.repository_id', 'rb.digest'), '>', eb.tuple(after!.repositoryId, after!.digest))),
      )
      .orderBy('rb.repository_id')
      .orderBy('rb.digest')
      .limit(page.limit)
      .execute();
    return rows.map((row) => ({
      repositoryId: row.repository_id,
      digest: row.digest,
      registry: row.registry,
      repository: row.name,
      size: row.size,
    }));
  }

  async unlinkStale(links: BlobLinkKey[], before: string): Promise<BlobLinkKey[]> {
    if (links.length === 0) return [];
    return await runTransaction(this.#db, async (trx) => {
      const keys = (eb: ExpressionBuilder<Database, 'repository_blobs'>) =>
        eb(
          eb.refTuple('repository_id', 'digest'),
          'in',
          links.map((link) => eb.tuple(link.repositoryId, link.digest)),
        );
      if (this.#postgres) {
        await trx.selectFrom('repository_blobs').select('digest').where(keys).orderBy('repository_id').orderBy('digest').forUpdate().execute();
      }
      const removed = await trx
        .deleteFrom('repository_blobs')
        .where(keys)
        .where('linked_at', '<', before)
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom('manifest_references as mr')
                .select('mr.child_digest')
                .whereRef('mr.repository_id', '=', 'repository_blobs.repository_id')
                .whereRef('mr.child_digest', '=', 'repository_blobs.digest')
                .where('mr.kind', '=', 'blob'),
            ),
          ),
        )
        .returning(['repository_id', 'digest'])
        .execute();
      return removed.map((row) => ({ repositoryId: row.repository_id, digest: row.digest }));
    });
  }

  async listCollectableBlobs(before: string, page: { after?: string; limit: number }): Promise<CollectableBlob[]> {
    const { after } = page;
    return await this.#db
      .selectFrom('blobs as b')
      .select(['b.digest', 'b.size'])
      .where('b.linked_at', '<', before)
      .where(unreferenced)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb.selectFrom('repository_blobs as rb').select('rb.digest').whereRef('rb.digest', '=', 'b.digest').where('rb.linked_at', '>=', before),
          ),
        ),
      )
      .$if(after !== undefined, (qb) => qb.where('b.digest', '>', after!))
      .orderBy('b.digest')
      .limit(page.limit)
      .execute();
  }

  async collectBlobs(digests: string[], before: string, deleteBytes: (digest: string) => Promise<void>): Promise<CollectableBlob[]> {
    if (digests.length === 0) return [];
    return await runTransaction(this.#db, async (trx) => {
      if (this.#postgres) {
        await trx.selectFrom('blobs').select('digest').where('digest', 'in', digests).orderBy('digest').forUpdate().execute();
      }
      const collectable = await trx
        .selectFrom('blobs as b')
        .select(['b.digest', 'b.size'])
        .where('b.digest', 'in', digests)
        .where('b.linked_at', '<', before)
        .where(unreferenced)
        .where((eb) => eb.not(eb.exists(eb.selectFrom('repository_blobs as rb').select('rb.digest').whereRef('rb.digest', '=', 'b.digest'))))
        .orderBy('b.digest')
        .execute();
      if (collectable.length === 0) return [];
      await trx
        .deleteFrom('blobs')
        .where(
          'digest',
          'in',
          collectable.map((blob) => blob.digest),
        )
        .execute();
      // After the rows, before the commit: see the method's contract.
      for (const blob of collectable) await deleteBytes(blob.digest);
      return collectable;
    });
  }

  async listOrphans(digests: string[]): Promise<string[]> {
    const known = new Set<string>();
    for (const chunk of chunks(digests)) {
      const rows = await this.#db.selectFrom('blobs').select('digest').where('digest', 'in', chunk).execute();
      for (const row of rows) known.add(row.digest);
      const referenced = await this.#db
        .selectFrom('manifest_references')
        .select('child_digest')
        .where('child_digest', 'in', chunk)
        .where('kind', '=', 'blob')
        .execute();
      for (const row of referenced) known.add(row.child_digest);
    }
    return digests.filter((digest) => !known.has(digest));
  }

  async adoptOrphans(orphans: OrphanBlob[]): Promise<void> {
    const now = timestamp();
    for (const chunk of chunks(orphans)) {
      await this.#db
        .insertInto('blobs')
        .values(chunk.map((orphan) => ({ digest: orphan.digest, size: orphan.size, created_at: now, linked_at: orphan.modified })))
        .onConflict((oc) => oc.column('digest').doNothing())
        .execute();
    }
  }
}
