/**
 * The queries behind ACR's data-plane listings (`/acr/v1/<repo>`, `_tags`, `_manifests`): a
 * repository's summary and pages of tags or manifests in name or time order.
 *
 * Time order pages by (last update, name) so that entries updated in the same millisecond
 * still page without loss or repetition; `last` names the previous page's last entry.
 */
import type { Kysely } from 'kysely';
import type { ListingOrder, ListingPage, ManifestDetail, RepositoryInfo, TagDetail } from './meta-store.ts';
import { toAttributes } from './kysely-attribute-store.ts';
import type { QuarantineState } from './attribute-store.ts';
import type { Database } from './schema.ts';

type Db = Kysely<Database>;

/** Values per `IN` list, well below both databases' bound-parameter limits. */
const batchSize = 500;

export async function repositoryInfo(db: Db, registry: string, repository: string): Promise<RepositoryInfo | undefined> {
  const row = await db
    .selectFrom('repositories as r')
    .select((eb) => [
      'r.created_at',
      eb
        .selectFrom('manifests as m')
        .whereRef('m.repository_id', '=', 'r.id')
        .select((inner) => inner.fn.countAll<number>().as('n'))
        .as('manifest_count'),
      eb
        .selectFrom('tags as t')
        .whereRef('t.repository_id', '=', 'r.id')
        .select((inner) => inner.fn.countAll<number>().as('n'))
        .as('tag_count'),
      eb
        .selectFrom('manifests as m')
        .whereRef('m.repository_id', '=', 'r.id')
        .select((inner) => inner.fn.max('m.updated_at').as('t'))
        .as('manifest_updated'),
      eb
        .selectFrom('tags as t')
        .whereRef('t.repository_id', '=', 'r.id')
        .select((inner) => inner.fn.max('t.updated_at').as('t'))
        .as('tag_updated'),
    ])
    .where('r.registry', '=', registry)
    .where('r.name', '=', repository)
    .executeTakeFirst();
  if (!row || Number(row.manifest_count) === 0) return undefined;
  const updates = [row.created_at, row.manifest_updated, row.tag_updated].filter((t): t is string => typeof t === 'string');
  return {
    createdTime: row.created_at,
    lastUpdateTime: updates.sort().at(-1) ?? row.created_at,
    manifestCount: Number(row.manifest_count),
    tagCount: Number(row.tag_count),
  };
}

export async function tagDetails(
  db: Db,
  registry: string,
  repository: string,
  page: ListingPage & { digest?: string; name?: string; includeHidden?: boolean },
): Promise<TagDetail[]> {
  if (page.n === 0) return [];
  let query = db
    .selectFrom('repositories as r')
    .innerJoin('tags as t', 't.repository_id', 'r.id')
    .innerJoin('manifests as lm', (join) => join.onRef('lm.repository_id', '=', 't.repository_id').onRef('lm.digest', '=', 't.digest'))
    .select(['t.name', 't.digest', 't.created_at', 't.updated_at', 't.delete_enabled', 't.write_enabled', 't.read_enabled', 't.list_enabled'])
    .where('r.registry', '=', registry)
    .where('r.name', '=', repository)
    // List-disabled tags, and tags of list-disabled manifests, are hidden (but can be shown by name).
    .$if(!page.includeHidden, (qb) => qb.where('t.list_enabled', '=', 1).where('lm.list_enabled', '=', 1))
    .$if(page.name !== undefined, (qb) => qb.where('t.name', '=', page.name as string))
    .$if(page.digest !== undefined, (qb) => qb.where('t.digest', '=', page.digest as string));

  const order = page.orderby;
  if (order === undefined) {
    query = query.$if(page.last !== undefined, (qb) => qb.where('t.name', '>', page.last as string)).orderBy('t.name');
  } else {
    if (page.last !== undefined) {
      const anchor = await db
        .selectFrom('repositories as r')
        .innerJoin('tags as t', 't.repository_id', 'r.id')
        .select('t.updated_at')
        .where('r.registry', '=', registry)
        .where('r.name', '=', repository)
        .where('t.name', '=', page.last)
        .executeTakeFirst();
      if (!anchor) return [];
      const after = comparison(order);
      const last = page.last;
      query = query.where((eb) =>
        eb.or([
          eb('t.updated_at', after, anchor.updated_at),
          eb.and([eb('t.updated_at', '=', anchor.updated_at), eb('t.name', after, last)]),
        ]),
      );
    }
    const direction = order === 'timedesc' ? 'desc' : 'asc';
    query = query.orderBy('t.updated_at', direction).orderBy('t.name', direction);
  }
  if (page.n !== undefined) query = query.limit(page.n);

  const rows = await query.execute();
  return rows.map((row) => ({
    name: row.name,
    digest: row.digest,
    createdTime: row.created_at ?? row.updated_at,
    lastUpdateTime: row.updated_at,
    changeableAttributes: toAttributes(row),
  }));
}

export async function manifestDetails(
  db: Db,
  registry: string,
  repository: string,
  page: ListingPage & { digest?: string; includeHidden?: boolean },
): Promise<ManifestDetail[]> {
  if (page.n === 0) return [];
  let query = db
    .selectFrom('repositories as r')
    .innerJoin('manifests as m', 'm.repository_id', 'r.id')
    .select([
      'm.repository_id',
      'm.digest',
      'm.media_type',
      'm.config_media_type',
      'm.architecture',
      'm.os',
      'm.image_size',
      'm.size',
      'm.created_at',
      'm.updated_at',
      'm.delete_enabled',
      'm.write_enabled',
      'm.read_enabled',
      'm.list_enabled',
      'm.quarantine_state',
      'm.quarantine_details',
    ])
    .where('r.registry', '=', registry)
    .where('r.name', '=', repository)
    .$if(!page.includeHidden, (qb) => qb.where('m.list_enabled', '=', 1))
    .$if(page.digest !== undefined, (qb) => qb.where('m.digest', '=', page.digest as string));

  const order = page.orderby;
  if (order === undefined) {
    query = query.$if(page.last !== undefined, (qb) => qb.where('m.digest', '>', page.last as string)).orderBy('m.digest');
  } else {
    if (page.last !== undefined) {
      const anchor = await db
        .selectFrom('repositories as r')
        .innerJoin('manifests as m', 'm.repository_id', 'r.id')
        .select('m.updated_at')
        .where('r.registry', '=', registry)
        .where('r.name', '=', repository)
        .where('m.digest', '=', page.last)
        .executeTakeFirst();
      if (!anchor) return [];
      const after = comparison(order);
      const last = page.last;
      query = query.where((eb) =>
        eb.or([
          eb('m.updated_at', after, anchor.updated_at),
          eb.and([eb('m.updated_at', '=', anchor.updated_at), eb('m.digest', after, last)]),
        ]),
      );
    }
    const direction = order === 'timedesc' ? 'desc' : 'asc';
    query = query.orderBy('m.updated_at', direction).orderBy('m.digest', direction);
  }
  if (page.n !== undefined) query = query.limit(page.n);

  const rows = await query.execute();
  const tags = new Map<string, string[]>();
  const repositoryId = rows[0]?.repository_id;
  if (repositoryId !== undefined) {
    const digests = rows.map((row) => row.digest);
    for (let i = 0; i < digests.length; i += batchSize) {
      const tagRows = await db
        .selectFrom('tags')
        .select(['digest', 'name'])
        .where('repository_id', '=', repositoryId)
        .where('digest', 'in', digests.slice(i, i + batchSize))
        .orderBy('name')
        .execute();
      for (const row of tagRows) {
        const list = tags.get(row.digest);
        if (list) list.push(row.name);
        else tags.set(row.digest, [row.name]);
      }
    }
  }
  return rows.map((row) => ({
    digest: row.digest,
    mediaType: row.media_type,
    configMediaType: row.config_media_type,
    architecture: row.architecture,
    os: row.os,
    imageSize: row.image_size ?? row.size,
    createdTime: row.created_at,
    lastUpdateTime: row.updated_at ?? row.created_at,
    tags: tags.get(row.digest) ?? [],
    changeableAttributes: {
      ...toAttributes(row),
      quarantineState: row.quarantine_state as QuarantineState | null,
      quarantineDetails: row.quarantine_details,
    },
  }));
}

/** The comparison that selects entries after the anchor in `order`. */
function comparison(order: ListingOrder): '<' | '>' {
  return order === 'timedesc' ? '<' : '>';
}
