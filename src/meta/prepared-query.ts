/**
 * Queries built and compiled once, then run many times with new values. Building and compiling
 * a Kysely query costs more than a point lookup in SQLite, and the registry's hot reads run
 * thousands of times per second.
 */
import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';

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
  execute(db: Kysely<any>, values: P): Promise<QueryResult<R>> {
    const parameters = this.#slots.map((slot) => ('param' in slot ? values[slot.param] : slot.value));
    return db.executeQuery<R>({ ...this.#compiled, parameters });
  }
}
