/**
 * The embedded database: one SQLite file through better-sqlite3, configured for durable commits
 * and for the hot read paths of the registry.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
  type SqliteDatabase,
  type SqliteDialectConfig,
  type SqliteStatement,
} from 'kysely';
import type { Database } from './schema.ts';

/** Distinct SQL texts kept prepared; queries with variable-length `IN` lists make new texts. */
const statementCacheSize = 256;

/**
 * Hands Kysely prepared statements from a cache instead of preparing the same SQL on every call,
 * which would otherwise cost as much as running a point query.
 */
function withStatementCache(db: BetterSqlite3.Database): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close() {
      // Refreshes the planner's statistics where they have drifted, as SQLite advises at close.
      db.pragma('optimize');
      db.close();
    },
    prepare(sql: string): SqliteStatement {
      const cached = cache.get(sql);
      // A statement still being iterated (a streamed query) cannot be run again meanwhile.
      if (cached && !cached.busy) return cached as unknown as SqliteStatement;
      const statement = db.prepare(sql);
      if (!cached) {
        if (cache.size >= statementCacheSize) cache.delete(cache.keys().next().value as string);
        cache.set(sql, statement);
      }
      return statement as unknown as SqliteStatement;
    },
  };
}

/**
 * Starts every transaction with `BEGIN IMMEDIATE`. All our transactions write; taking the write
 * lock up front lets `busy_timeout` wait for another process, where a deferred transaction
 * that reads first and then writes would fail at once with SQLITE_BUSY.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

/** `path` is a file path or `:memory:`; the file's folder is created if needed. */
export function openSqlite(path: string): Kysely<Database> {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new BetterSqlite3(path);
  try {
    db.pragma('journal_mode = WAL');
    // FULL: a commit is on disk (WAL fsync) before it returns.
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
  } catch (error) {
    db.close();
    throw error;
  }
  return new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: withStatementCache(db) }) });
}
