/**
 * `TriggerStore` on Kysely (schema in `schema.ts`), for SQLite and PostgreSQL.
 *
 * Each compare-and-set is one statement whose row count says who won: an UPDATE that re-checks
 * the old value (PostgreSQL re-evaluates it on the row a concurrent winner committed, so losers
 * match nothing), or an INSERT … ON CONFLICT DO NOTHING when there is no value yet. Inserts
 * select from the task's row, so a task deleted meanwhile records nothing instead of failing.
 */
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { SqlDialect } from './migrations.ts';
import type { Database, TaskBaseImagesTable } from './schema.ts';
import type { BaseImageDependency, TaskDependency, TriggerStore } from './trigger-store.ts';
import { runTransaction, timestamp } from './transactions.ts';

type Db = Kysely<Database>;

const DAY_MS = 24 * 60 * 60 * 1000;
/** Fired timer occurrences are kept this long before the task's latest claim. */
const timerFireRetentionMs = 7 * DAY_MS;

function toDependency(row: Selectable<TaskBaseImagesTable>): BaseImageDependency {
  return {
    loginServer: row.login_server,
    registry: row.registry_ref,
    repository: row.repository,
    tag: row.tag,
    digest: row.digest,
    type: row.type,
  };
}

function toTaskDependency(row: Selectable<TaskBaseImagesTable>): TaskDependency {
  return { registry: row.registry, task: row.task, dependency: toDependency(row) };
}

/**
 * One entry per image: a multi-stage build may start several stages FROM the same image. The
 * image then counts as `Runtime` if any of those stages is the final one.
 */
function distinctImages(dependencies: BaseImageDependency[]): BaseImageDependency[] {
  const byImage = new Map<string, BaseImageDependency>();
  for (const dependency of dependencies) {
    const key = JSON.stringify([dependency.loginServer, dependency.repository, dependency.tag]);
    const seen = byImage.get(key);
    if (!seen) byImage.set(key, dependency);
    else
      byImage.set(key, {
        ...seen,
        digest: seen.digest ?? dependency.digest,
        type: seen.type === 'Runtime' || dependency.type === 'Runtime' ? 'Runtime' : 'BuildTime',
      });
  }
  return [...byImage.values()];
}

/**
 * Forgets the task's fired occurrences older than the retention before `latest`, which keeps
 * the table small; an occurrence that old is never claimed again.
 */
async function pruneTimerFires(trx: Transaction<Database>, registry: string, task: string, latest: string): Promise<void> {
  const time = Date.parse(latest);
  if (Number.isNaN(time)) return;
  await trx
    .deleteFrom('task_timer_fires')
    .where('registry', '=', registry)
    .where('task', '=', task)
    .where('occurrence', '<', new Date(time - timerFireRetentionMs).toISOString())
    .execute();
}

export class KyselyTriggerStore implements TriggerStore {
  readonly #db: Db;
  readonly #postgres: boolean;

  constructor(db: Db, dialect: SqlDialect) {
    this.#db = db;
    this.#postgres = dialect === 'postgres';
  }

  async commitCursor(registry: string, task: string): Promise<string | null> {
    const row = await this.#db
      .selectFrom('task_commit_cursors')
      .select('commit')
      .where('registry', '=', registry)
      .where('task', '=', task)
      .executeTakeFirst();
    return row?.commit ?? null;
  }

  async advanceCommitCursor(registry: string, task: string, expected: string | null, next: string): Promise<boolean> {
    const now = timestamp();
    if (expected === null) {
      const row = await this.#db
        .insertInto('task_commit_cursors')
        .columns(['registry', 'task', 'commit', 'updated_at'])
        .expression((eb) =>
          eb
            .selectFrom('tasks')
            .select([eb.val(registry).as('registry'), eb.val(task).as('task'), eb.val(next).as('commit'), eb.val(now).as('updated_at')])
            .where('tasks.registry', '=', registry)
            .where('tasks.name', '=', task),
        )
        .onConflict((oc) => oc.columns(['registry', 'task']).doNothing())
        .returning('commit')
        .executeTakeFirst();
      return row !== undefined;
    }
    const result = await this.#db
      .updateTable('task_commit_cursors')
      .set({ commit: next, updated_at: now })
      .where('registry', '=', registry)
      .where('task', '=', task)
      .where('commit', '=', expected)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async replaceBaseImageDependencies(registry: string, task: string, dependencies: BaseImageDependency[]): Promise<void> {
    await runTransaction(this.#db, async (trx) => {
      // The task's row lock makes concurrent replacements of one task take turns.
      if (!(await this.#lockTask(trx, registry, task))) return;
      await trx.deleteFrom('task_base_images').where('registry', '=', registry).where('task', '=', task).execute();
      const rows = distinctImages(dependencies).map((dependency) => ({
        registry,
        task,
        login_server: dependency.loginServer,
        repository: dependency.repository,
        tag: dependency.tag,
        registry_ref: dependency.registry,
        digest: dependency.digest,
        type: dependency.type,
      }));
      if (rows.length > 0) await trx.insertInto('task_base_images').values(rows).execute();
    });
  }

  async baseImageDependencies(registry: string, task: string): Promise<BaseImageDependency[]> {
    const rows = await this.#db
      .selectFrom('task_base_images')
      .selectAll()
      .where('registry', '=', registry)
      .where('task', '=', task)
      .orderBy('login_server')
      .orderBy('repository')
      .orderBy('tag')
      .execute();
    return rows.map(toDependency);
  }

  async dependentsOf(registry: string, repository: string, tag: string): Promise<TaskDependency[]> {
    const rows = await this.#db
      .selectFrom('task_base_images')
      .selectAll()
      .where('registry_ref', '=', registry)
      .where('repository', '=', repository)
      .where('tag', '=', tag)
      .orderBy('registry')
      .orderBy('task')
      .orderBy('login_server')
      .execute();
    return rows.map(toTaskDependency);
  }

  async externalDependencies(): Promise<TaskDependency[]> {
    const rows = await this.#db
      .selectFrom('task_base_images')
      .selectAll()
      .where('registry_ref', 'is', null)
      .orderBy('registry')
      .orderBy('task')
      .orderBy('login_server')
      .orderBy('repository')
      .orderBy('tag')
      .execute();
    return rows.map(toTaskDependency);
  }

  async advanceBaseImageDigest(
    registry: string,
    task: string,
    image: { loginServer: string; repository: string; tag: string },
    expected: string | null,
    next: string,
  ): Promise<boolean> {
    const result = await this.#db
      .updateTable('task_base_images')
      .set({ digest: next })
      .where('registry', '=', registry)
      .where('task', '=', task)
      .where('login_server', '=', image.loginServer)
      .where('repository', '=', image.repository)
      .where('tag', '=', image.tag)
      .where('digest', expected === null ? 'is' : '=', expected)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async claimTimerOccurrence(registry: string, task: string, timer: string, occurrence: string): Promise<boolean> {
    return await runTransaction(this.#db, async (trx) => {
      const row = await trx
        .insertInto('task_timer_fires')
        .columns(['registry', 'task', 'timer', 'occurrence'])
        .expression((eb) =>
          eb
            .selectFrom('tasks')
            .select([eb.val(registry).as('registry'), eb.val(task).as('task'), eb.val(timer).as('timer'), eb.val(occurrence).as('occurrence')])
            .where('tasks.registry', '=', registry)
            .where('tasks.name', '=', task),
        )
        .onConflict((oc) => oc.columns(['registry', 'task', 'timer', 'occurrence']).doNothing())
        .returning('occurrence')
        .executeTakeFirst();
      if (row === undefined) return false;
      await pruneTimerFires(trx, registry, task, occurrence);
      return true;
    });
  }

  async #lockTask(trx: Transaction<Database>, registry: string, task: string): Promise<boolean> {
    const row = await trx
      .selectFrom('tasks')
      .select('name')
      .where('registry', '=', registry)
      .where('name', '=', task)
      .$if(this.#postgres, (qb) => qb.forUpdate())
      .executeTakeFirst();
    return row !== undefined;
  }
}
