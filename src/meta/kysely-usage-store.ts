/** `UsageStore` on Kysely, for SQLite and PostgreSQL: every figure is counted from references. */
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';
import type { ContentSize, RegistryUsage, UsageStore } from './usage-store.ts';

type Db = Kysely<Database>;

/** PostgreSQL sums and counts `bigint`s as `numeric`/`bigint`, which the driver hands over as text. */
function numberOf(value: string | number | bigint | null | undefined): number {
  return value === null || value === undefined ? 0 : Number(value);
}

export class KyselyUsageStore implements UsageStore {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async registryUsage(registry: string): Promise<RegistryUsage | undefined> {
    const exists = await this.#db.selectFrom('registries').select('name').where('name', '=', registry).executeTakeFirst();
    if (!exists) return undefined;
    const db = this.#db;
    const [storageBytes, repositories, manifests, tags, scopeMaps, tokens] = await Promise.all([
      this.storageBytes(registry),
      db
        .selectFrom('repositories as r')
        .select((eb) => eb.fn.countAll().as('count'))
        .where('r.registry', '=', registry)
        .where(({ exists, selectFrom }) => exists(selectFrom('manifests as m').select('m.digest').whereRef('m.repository_id', '=', 'r.id')))
        .executeTakeFirstOrThrow(),
      db
        .selectFrom('manifests as m')
        .innerJoin('repositories as r', 'r.id', 'm.repository_id')
        .select((eb) => eb.fn.countAll().as('count'))
        .where('r.registry', '=', registry)
        .executeTakeFirstOrThrow(),
      db
        .selectFrom('tags as t')
        .innerJoin('repositories as r', 'r.id', 't.repository_id')
        .select((eb) => eb.fn.countAll().as('count'))
        .where('r.registry', '=', registry)
        .executeTakeFirstOrThrow(),
      db.selectFrom('scope_maps').select((eb) => eb.fn.countAll().as('count')).where('registry', '=', registry).executeTakeFirstOrThrow(),
      db.selectFrom('tokens').select((eb) => eb.fn.countAll().as('count')).where('registry', '=', registry).executeTakeFirstOrThrow(),
    ]);
    return {
      storageBytes,
      repositories: numberOf(repositories.count),
      manifests: numberOf(manifests.count),
      tags: numberOf(tags.count),
      scopeMaps: numberOf(scopeMaps.count),
      tokens: numberOf(tokens.count),
    };
  }

  async storageBytes(registry: string): Promise<number> {
    const blobs = await this.#db
      .selectFrom('blobs as b')
      .select((eb) => eb.fn.sum<string | number>('b.size').as('bytes'))
      .where('b.digest', 'in', (eb) =>
        eb
          .selectFrom('manifest_references as mr')
          .innerJoin('repositories as r', 'r.id', 'mr.repository_id')
          .select('mr.child_digest')
          .where('r.registry', '=', registry)
          .where('mr.kind', '=', 'blob'),
      )
      .executeTakeFirst();
    const manifests = await this.#db
      .selectFrom((eb) =>
        eb
          .selectFrom('manifests as m')
          .innerJoin('repositories as r', 'r.id', 'm.repository_id')
          .select(['m.digest', 'm.size'])
          .distinct()
          .where('r.registry', '=', registry)
          .as('d'),
      )
      .select((eb) => eb.fn.sum<string | number>('d.size').as('bytes'))
      .executeTakeFirst();
    return numberOf(blobs?.bytes) + numberOf(manifests?.bytes);
  }

  async storageAddedBy(registry: string, content: { blobs: ContentSize[]; manifest?: ContentSize }): Promise<number> {
    const given = new Map(content.blobs.map((blob) => [blob.digest, blob.size]));
    const digests = [...given.keys()];
    let added = 0;
    if (digests.length > 0) {
      const referenced = await this.#db
        .selectFrom('manifest_references as mr')
        .innerJoin('repositories as r', 'r.id', 'mr.repository_id')
        .select('mr.child_digest')
        .distinct()
        .where('mr.child_digest', 'in', digests)
        .where('mr.kind', '=', 'blob')
        .where('r.registry', '=', registry)
        .execute();
      const counted = new Set(referenced.map((row) => row.child_digest));
      const fresh = digests.filter((digest) => !counted.has(digest));
      if (fresh.length > 0) {
        const recorded = await this.#db.selectFrom('blobs').select(['digest', 'size']).where('digest', 'in', fresh).execute();
        const sizes = new Map(recorded.map((row) => [row.digest, row.size]));
        for (const digest of fresh) added += sizes.get(digest) ?? given.get(digest)!;
      }
    }
    if (content.manifest) {
      const held = await this.#db
        .selectFrom('manifests as m')
        .innerJoin('repositories as r', 'r.id', 'm.repository_id')
        .select('m.digest')
        .where('m.digest', '=', content.manifest.digest)
        .where('r.registry', '=', registry)
        .limit(1)
        .executeTakeFirst();
      if (!held) added += content.manifest.size;
    }
    return added;
  }

  async setStorageQuota(registry: string, bytes: number): Promise<boolean> {
    const result = await this.#db.updateTable('registries').set({ quota_bytes: bytes }).where('name', '=', registry).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}
