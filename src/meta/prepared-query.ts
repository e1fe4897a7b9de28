/**
 * Queries built and compiled once, then run many times with new values. Building and compiling
 * a Kysely query costs more than a point lookup in SQLite, and the registry's hot reads run
 * thousands of times per second.
 */
import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';

/**
 * Runs a compiled read at once, without Kysely's connection handling (a mutex and several
 * promise hops per query, more than the lookup itself costs), or answers undefined when it may
 * not: then the query goes through Kysely as usual.
 */
export type ImmediateReader = (query: CompiledQuery) => unknown[] | undefined;

const immediateReaders = new WeakMap<Kysely<any>, ImmediateReader>();

/** Prepared queries run on `db` itself (not on its transactions) try `reader` first. */
export function readImmediately(db: Kysely<any>, reader: ImmediateReader): void {
  immediateReaders.set(db, reader);
}

type Slot = { readonly param: string } | { readonly value: unknown };

class Placeholder {
  constructor(readonly name: string) {}
}

export class PreparedQuery<P extends Record<string, unknown>, R> {
  readonly #compiled: CompiledQuery<R>;
  readonly #slots: Slot[];

  /**
   * `build` receives, for each parameter, a placeholder to use where the value goes (in `where`,
   * `limit`, …); compiling records where each placeholder landed among the SQL parameters.
   */
  constructor(build: (params: P) => Compilable<R>) {
    const params = new Proxy({} as P, {
      get: (_target, name) => new Placeholder(String(name)),
    });
    this.#compiled = build(params).compile();
    this.#slots = this.#compiled.parameters.map((value) =>
      value instanceof Placeholder ? { param: value.name } : { value },
    );
  }

  /** Runs on `db`, which may be a transaction of the database the query was built with. */
  async execute(db: Kysely<any>, values: P): Promise<QueryResult<R>> {
    const parameters = this.#slots.map((slot) => ('param' in slot ? values[slot.param] : slot.value));
    const query = { ...this.#compiled, parameters };
    const rows = immediateReaders.get(db)?.(query);
    if (rows) return { rows: rows as R[] };
    return await db.executeQuery<R>(query);
  }
}
