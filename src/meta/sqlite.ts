/**
 * The embedded database: one SQLite file through better-sqlite3, with durable commits that share
 * their fsyncs, and configured for the hot read paths of the registry.
 */
import { mkdirSync, realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  SelectQueryNode,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  type SqliteDatabase,
  type SqliteDialectConfig,
} from 'kysely';
import { readImmediately } from './prepared-query.ts';
import type { Database } from './schema.ts';
import { WalSync, type WalSyncOptions } from './wal-sync.ts';

/** Distinct SQL texts kept prepared; queries with variable-length `IN` lists make new texts. */
const statementCacheSize = 256;

interface CachingDatabase {
  close(): void;
  prepare(sql: string): BetterSqlite3.Statement;
}

/**
 * Hands out prepared statements from a cache instead of preparing the same SQL on every call,
 * which would otherwise cost as much as running a point query.
 */
function withStatementCache(db: BetterSqlite3.Database): CachingDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close() {
      // Refreshes the planner's statistics where they have drifted, as SQLite advises at close.
      db.pragma('optimize');
      db.close();
    },
    prepare(sql: string): BetterSqlite3.Statement {
      const cached = cache.get(sql);
      // A statement still being iterated (a streamed query) cannot be run again meanwhile.
      if (cached && !cached.busy) return cached;
      const statement = db.prepare(sql);
      if (!cached) {
        if (cache.size >= statementCacheSize) cache.delete(cache.keys().next().value as string);
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}

/**
 * Kysely's SQLite connection, which also notes whether a statement committed a write: a write
 * run outside a transaction, or the `COMMIT` (or `RELEASE` of the outermost savepoint) that ends
 * a transaction that wrote. Rollbacks, reads and read-only transactions commit nothing.
 */
class CommitTrackingConnection implements DatabaseConnection {
  readonly #db: BetterSqlite3.Database;
  readonly #statements: CachingDatabase;
  #transactionWrote = false;
  #committed = false;

  constructor(db: BetterSqlite3.Database, statements: CachingDatabase) {
    this.#db = db;
    this.#statements = statements;
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const statement = this.#statements.prepare(compiledQuery.sql);
    const wasInTransaction = this.#db.inTransaction;
    try {
      if (statement.reader) return { rows: statement.all(compiledQuery.parameters) as R[] };
      const { changes, lastInsertRowid } = statement.run(compiledQuery.parameters);
      return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
    } finally {
      // Even a write that failed may have kept some of its changes (`INSERT OR FAIL`).
      this.#noteOutcome(statement, wasInTransaction, compiledQuery.sql);
    }
  }

  #noteOutcome(statement: BetterSqlite3.Statement, wasInTransaction: boolean, sql: string): void {
    if (this.#db.inTransaction) {
      // A transaction began (a write only counts once it runs inside), or a statement ran in it.
      this.#transactionWrote = wasInTransaction && (this.#transactionWrote || !statement.readonly);
      return;
    }
    const endedWrites = wasInTransaction && this.#transactionWrote && !/^\s*rollback\b/i.test(sql);
    if (endedWrites || (!wasInTransaction && !statement.readonly)) this.#committed = true;
    this.#transactionWrote = false;
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    if (!SelectQueryNode.is(compiledQuery.query)) throw new Error('SQLite supports streaming of select queries only');
    for (const row of this.#statements.prepare(compiledQuery.sql).iterate(compiledQuery.parameters)) {
      yield { rows: [row as R] };
    }
  }

  /** Runs a read-only query at once unless a transaction is open on the connection. */
  readNow(compiledQuery: CompiledQuery): unknown[] | undefined {
    if (this.#db.inTransaction) return undefined;
    const statement = this.#statements.prepare(compiledQuery.sql);
    if (!statement.reader || !statement.readonly) return undefined;
    return statement.all(compiledQuery.parameters);
  }

  /** Whether a write committed since the last call. */
  takeCommitted(): boolean {
    const committed = this.#committed;
    this.#committed = false;
    return committed;
  }
}

/**
 * Kysely's SQLite driver (one connection behind a mutex) with commits made durable off the event
 * loop. SQLite runs with `synchronous = NORMAL`, so a commit only writes its WAL frames; when the
 * connection is released after a commit, the mutex is unlocked first (the next query runs at once)
 * and then the WAL is fdatasynced, shared with other commits waiting, before the caller resumes.
 *
 * Every transaction starts with `BEGIN IMMEDIATE`. All our transactions write; taking the write
 * lock up front lets `busy_timeout` wait for another process, where a deferred transaction
 * that reads first and then writes would fail at once with SQLITE_BUSY.
 */
class DurableSqliteDriver extends SqliteDriver {
  readonly #connection: CommitTrackingConnection;
  readonly #wal: WalSync | undefined;
  /** Someone holds the connection: a transaction, a stream or a query going through Kysely. */
  #held = false;

  constructor(config: SqliteDialectConfig, connection: CommitTrackingConnection, wal: WalSync | undefined) {
    super(config);
    this.#connection = connection;
    this.#wal = wal;
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    await super.acquireConnection();
    this.#held = true;
    return this.#connection;
  }

  /**
   * Runs a read-only query at once while no one holds the connection. Synchronous, so nothing
   * else runs on the connection meanwhile; with a holder it could see a transaction's uncommitted
   * rows, or meet a statement still being iterated, so then it answers undefined.
   */
  readNow(compiledQuery: CompiledQuery): unknown[] | undefined {
    return this.#held ? undefined : this.#connection.readNow(compiledQuery);
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  override async releaseConnection(): Promise<void> {
    this.#held = false;
    const committed = this.#connection.takeCommitted();
    await super.releaseConnection();
    if (committed) await this.#wal?.sync();
  }

  override async destroy(): Promise<void> {
    await this.#wal?.close();
    await super.destroy();
  }
}

/** Kysely's SQLite dialect, handing out the one durable driver built for the database. */
class DurableSqliteDialect extends SqliteDialect {
  readonly #driver: DurableSqliteDriver;

  constructor(config: SqliteDialectConfig, driver: DurableSqliteDriver) {
    super(config);
    this.#driver = driver;
  }

  override createDriver(): Driver {
    return this.#driver;
  }
}

/** `path` is a file path or `:memory:`; the file's folder is created if needed. */
export function openSqlite(path: string, options: WalSyncOptions = {}): Kysely<Database> {
  const inMemory = path === ':memory:';
  if (!inMemory) mkdirSync(dirname(path), { recursive: true });
  const db = new BetterSqlite3(path);
  try {
    db.pragma('journal_mode = WAL');
    // NORMAL: a commit does not fsync the WAL itself; the driver does, off the event loop.
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
  } catch (error) {
    db.close();
    throw error;
  }
  const database = withStatementCache(db);
  const config = { database: database as unknown as SqliteDatabase };
  const driver = new DurableSqliteDriver(
    config,
    new CommitTrackingConnection(db, database),
    // SQLite names the WAL after the database file that symlinks lead to.
    inMemory ? undefined : new WalSync(realpathSync(path), options),
  );
  const kysely = new Kysely<Database>({ dialect: new DurableSqliteDialect(config, driver) });
  readImmediately(kysely, (query) => driver.readNow(query));
  return kysely;
}
