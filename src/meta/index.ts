/**
 * Opens the metadata store named by a URL and brings its schema up to date.
 *
 * - `sqlite:<path>` (also `sqlite://<path>`) or a plain file path: the embedded SQLite database.
 * - `postgres://…` or `postgresql://…`: a PostgreSQL database shared by several nodes.
 */
import type { Kysely } from 'kysely';
import { KyselyMetaStore } from './kysely-meta-store.ts';
import type { MetaStore } from './meta-store.ts';
import { migrateToLatest, type SqlDialect } from './migrations.ts';
import type { Database } from './schema.ts';
import { openSqlite } from './sqlite.ts';

export interface MetaStoreOptions {
  url: string;
  /** SQLite only: whether a commit may sync the WAL on the event loop's thread (see `WalSync`). */
  syncOnCaller?: () => boolean;
}

export type MetaStoreLocation = { dialect: 'sqlite'; path: string } | { dialect: 'postgres'; url: string };

export function parseMetaStoreUrl(url: string): MetaStoreLocation {
  if (/^postgres(ql)?:\/\//.test(url)) return { dialect: 'postgres', url };
  if (url.startsWith('sqlite:')) {
    const rest = url.slice('sqlite:'.length);
    const path = rest.startsWith('//') ? rest.slice(2) : rest;
    if (path === '') throw new Error(`metadata URL "${url}" names no SQLite file`);
    return { dialect: 'sqlite', path };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) throw new Error(`unsupported metadata URL "${url}"`);
  return { dialect: 'sqlite', path: url };
}

export async function openMetaStore(options: MetaStoreOptions): Promise<MetaStore> {
  const location = parseMetaStoreUrl(options.url);
  const dialect: SqlDialect = location.dialect;
  // The PostgreSQL driver is loaded only when used: the embedded default does not pay its memory.
  const db: Kysely<Database> =
    location.dialect === 'postgres'
      ? (await import('./postgres.ts')).openPostgres(location.url)
      : openSqlite(location.path, { syncOnCaller: options.syncOnCaller });
  try {
    await migrateToLatest(db, dialect);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return new KyselyMetaStore(db, dialect);
}

export * from './meta-store.ts';
export * from './identity-store.ts';
