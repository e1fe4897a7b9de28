/**
 * PostgreSQL for several Berth nodes sharing one database: a `pg` pool behind Kysely.
 */
import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import type { Database } from './schema.ts';

const int8Oid = 20;

/**
 * `bigint` columns (sizes, ids) as JavaScript numbers. Sizes and ids stay below 2^53, so no
 * precision is lost. Set per pool, not through the process-wide `pg.types`.
 */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === int8Oid && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

export function openPostgres(url: string): Kysely<Database> {
  const pool = new pg.Pool({ connectionString: url, types, max: 10 });
  // An idle connection that breaks (server restart) is dropped by the pool and replaced on the
  // next query; without a listener the 'error' event would end the process.
  pool.on('error', () => {});
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
