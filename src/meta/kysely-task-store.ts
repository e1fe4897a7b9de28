/**
 * `TaskStore` on Kysely (schema in `schema.ts`), for SQLite and PostgreSQL.
 *
 * Run ids come from a per-registry counter row, incremented by an upsert in the queuing
 * transaction, so concurrent queuers on several nodes get distinct, increasing numbers. A claim is
 * one UPDATE of the oldest Queued run that re-checks the status; on PostgreSQL the run is picked
 * with `FOR UPDATE SKIP LOCKED`, so concurrent claimers take different runs instead of waiting for
 * each other. SQLite serialises writers, which makes the single statement atomic there.
 */
import { createHash } from 'node:crypto';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Principal } from '../auth/principal.ts';
import { RegistryNotFoundError } from './meta-store.ts';
import type { SqlDialect } from './migrations.ts';
import type { Database, SecretsTable, TaskRunsTable, TasksTable } from './schema.ts';
import {
  finishedRunStatuses,
  TaskExistsError,
  type NewRun,
  type NewTask,
  type OutputImage,
  type RunFinish,
  type RunQuery,
  type RunRecord,
  type RunStatus,
  type RunTrigger,
  type RunType,
  type SecretRecord,
  type TaskCredential,
  type TaskRecord,
  type TaskStepDefinition,
  type TaskStore,
} from './task-store.ts';
import { runTransaction, timestamp } from './transactions.ts';

type Db = Kysely<Database>;

const activeStatuses: RunStatus[] = ['Queued', 'Running'];

/** The registry's two run id letters (ACR's run ids start with two letters, then a counter). */
export function runIdPrefix(registry: string): string {
  const digest = createHash('sha256').update(registry).digest();
  return String.fromCharCode(97 + (digest[0]! % 26), 97 + (digest[1]! % 26));
}

export function formatRunId(prefix: string, seq: number): string {
  return `${prefix}${seq.toString(36)}`;
}

function toJson(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

function fromJson(text: string | null): unknown {
  return text === null ? null : JSON.parse(text);
}

function taskColumns(task: NewTask) {
  return {
    status: task.status,
    platform: task.platform,
    timeout_seconds: task.timeoutSeconds,
    context_path: task.contextPath,
    context_access_token: task.contextAccessToken,
    step: JSON.stringify(task.step),
    credentials: JSON.stringify(task.credentials),
    identity_principal_id: task.identityPrincipalId,
    triggers: toJson(task.triggers),
  };
}

function toTaskRecord(row: Selectable<TasksTable>): TaskRecord {
  return {
    registry: row.registry,
    name: row.name,
    status: row.status,
    platform: row.platform,
    timeoutSeconds: row.timeout_seconds,
    contextPath: row.context_path,
    contextAccessToken: row.context_access_token,
    step: JSON.parse(row.step) as TaskStepDefinition,
    credentials: JSON.parse(row.credentials) as TaskCredential[],
    identityPrincipalId: row.identity_principal_id,
    triggers: fromJson(row.triggers),
    createdBy: fromJson(row.created_by) as Principal | null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toRunRecord(row: Selectable<TaskRunsTable>): RunRecord {
  return {
    registry: row.registry,
    runId: row.run_id,
    task: row.task,
    runType: row.run_type as RunType,
    trigger: row.trigger as RunTrigger,
    status: row.status as RunStatus,
    platform: row.platform,
    createTime: row.create_time,
    startTime: row.start_time,
    finishTime: row.finish_time,
    outputImages: JSON.parse(row.output_images) as OutputImage[],
    errorMessage: row.error_message,
    request: fromJson(row.request),
    triggerDetails: fromJson(row.trigger_details),
    claimedBy: row.claimed_by,
    cancelRequested: row.cancel_requested === 1,
  };
}

function toSecretRecord(row: Selectable<SecretsTable>): SecretRecord {
  return {
    vault: row.vault,
    name: row.name,
    value: row.value,
    contentType: row.content_type,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

async function requireRegistry(trx: Transaction<Database>, registry: string): Promise<void> {
  const row = await trx.selectFrom('registries').select('name').where('name', '=', registry).executeTakeFirst();
  if (!row) throw new RegistryNotFoundError(registry);
}

export class KyselyTaskStore implements TaskStore {
  readonly #db: Db;
  readonly #postgres: boolean;

  constructor(db: Db, dialect: SqlDialect) {
    this.#db = db;
    this.#postgres = dialect === 'postgres';
  }

  async createTask(task: NewTask): Promise<TaskRecord> {
    const now = timestamp();
    return await runTransaction(this.#db, async (trx) => {
      await requireRegistry(trx, task.registry);
      const row = await trx
        .insertInto('tasks')
        .values({ registry: task.registry, name: task.name, ...taskColumns(task), created_by: toJson(task.createdBy), created_at: now, updated_at: now })
        .onConflict((oc) => oc.columns(['registry', 'name']).doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!row) throw new TaskExistsError(task.registry, task.name);
      return toTaskRecord(row);
    });
  }

  async updateTask(task: NewTask): Promise<TaskRecord | undefined> {
    const row = await this.#db
      .updateTable('tasks')
      .set({ ...taskColumns(task), updated_at: timestamp() })
      .where('registry', '=', task.registry)
      .where('name', '=', task.name)
      .returningAll()
      .executeTakeFirst();
    return row && toTaskRecord(row);
  }

  async getTask(registry: string, name: string): Promise<TaskRecord | undefined> {
    const row = await this.#db.selectFrom('tasks').selectAll().where('registry', '=', registry).where('name', '=', name).executeTakeFirst();
    return row && toTaskRecord(row);
  }

  async listTasks(registry: string): Promise<TaskRecord[]> {
    const rows = await this.#db.selectFrom('tasks').selectAll().where('registry', '=', registry).orderBy('name').execute();
    return rows.map(toTaskRecord);
  }

  async listAllTasks(): Promise<TaskRecord[]> {
    const rows = await this.#db.selectFrom('tasks').selectAll().orderBy('registry').orderBy('name').execute();
    return rows.map(toTaskRecord);
  }

  async deleteTask(registry: string, name: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('tasks').where('registry', '=', registry).where('name', '=', name).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async queueRun(run: NewRun): Promise<RunRecord> {
    const now = timestamp();
    return await runTransaction(this.#db, async (trx) => {
      await requireRegistry(trx, run.registry);
      // The upsert locks the counter row until commit: concurrent queuers of a registry take turns.
      const counter = await trx
        .insertInto('task_run_counters')
        .values({ registry: run.registry, prefix: runIdPrefix(run.registry), last_seq: 1 })
        .onConflict((oc) => oc.column('registry').doUpdateSet((eb) => ({ last_seq: eb('task_run_counters.last_seq', '+', 1) })))
        .returning(['prefix', 'last_seq'])
        .executeTakeFirstOrThrow();
      const row = await trx
        .insertInto('task_runs')
        .values({
          registry: run.registry,
          run_id: formatRunId(counter.prefix, counter.last_seq),
          seq: counter.last_seq,
          task: run.task,
          run_type: run.runType,
          trigger: run.trigger,
          status: 'Queued',
          platform: run.platform,
          create_time: now,
          output_images: '[]',
          request: JSON.stringify(run.request ?? null),
          trigger_details: toJson(run.triggerDetails),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toRunRecord(row);
    });
  }

  async getRun(registry: string, runId: string): Promise<RunRecord | undefined> {
    const row = await this.#db
      .selectFrom('task_runs')
      .selectAll()
      .where('registry', '=', registry)
      .where('run_id', '=', runId)
      .executeTakeFirst();
    return row && toRunRecord(row);
  }

  async listRuns(registry: string, query: RunQuery): Promise<RunRecord[]> {
    const rows = await this.#db
      .selectFrom('task_runs')
      .selectAll()
      .where('registry', '=', registry)
      .$if(query.task !== undefined, (qb) => qb.where('task', '=', query.task!))
      .$if(query.status !== undefined, (qb) => qb.where('status', '=', query.status!))
      .orderBy('seq', 'desc')
      .$if(query.top !== undefined, (qb) => qb.limit(query.top!))
      .execute();
    return rows.map(toRunRecord);
  }

  async claimRun(worker: string): Promise<RunRecord | undefined> {
    const row = await this.#db
      .updateTable('task_runs')
      .set({ status: 'Running', start_time: timestamp(), claimed_by: worker })
      .where('status', '=', 'Queued')
      .where('id', '=', (eb) =>
        eb
          .selectFrom('task_runs as queued')
          .select('queued.id')
          .where('queued.status', '=', 'Queued')
          .orderBy('queued.id')
          .limit(1)
          .$if(this.#postgres, (qb) => qb.forUpdate().skipLocked()),
      )
      .returningAll()
      .executeTakeFirst();
    return row && toRunRecord(row);
  }

  async finishRun(registry: string, runId: string, finish: RunFinish): Promise<boolean> {
    if (!finishedRunStatuses.includes(finish.status)) throw new Error(`${finish.status} is not a final run status`);
    const result = await this.#db
      .updateTable('task_runs')
      .set({
        status: finish.status,
        finish_time: timestamp(),
        error_message: finish.errorMessage ?? null,
        ...(finish.outputImages === undefined ? {} : { output_images: JSON.stringify(finish.outputImages) }),
      })
      .where('registry', '=', registry)
      .where('run_id', '=', runId)
      .where('status', 'in', activeStatuses)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async requestCancel(registry: string, runId: string): Promise<RunRecord | undefined> {
    const run = this.#db.updateTable('task_runs').where('registry', '=', registry).where('run_id', '=', runId);
    // Queued first: a run claimed in between is then caught as Running by the second update.
    const canceled = await run
      .set({ status: 'Canceled', finish_time: timestamp(), error_message: 'the run was canceled' })
      .where('status', '=', 'Queued')
      .returningAll()
      .executeTakeFirst();
    if (canceled) return toRunRecord(canceled);
    await run.set({ cancel_requested: 1 }).where('status', '=', 'Running').execute();
    return await this.getRun(registry, runId);
  }

  async failInterruptedRuns(message: string, worker?: string): Promise<number> {
    const result = await this.#db
      .updateTable('task_runs')
      .set({ status: 'Error', finish_time: timestamp(), error_message: message })
      .where('status', '=', 'Running')
      .$if(worker !== undefined, (qb) => qb.where('claimed_by', '=', worker!))
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async appendRunLog(registry: string, runId: string, seq: number, text: string): Promise<void> {
    await this.#db.insertInto('task_run_logs').values({ registry, run_id: runId, seq, text }).execute();
  }

  async readRunLog(registry: string, runId: string, fromSeq: number): Promise<Array<{ seq: number; text: string }>> {
    return await this.#db
      .selectFrom('task_run_logs')
      .select(['seq', 'text'])
      .where('registry', '=', registry)
      .where('run_id', '=', runId)
      .where('seq', '>=', fromSeq)
      .orderBy('seq')
      .execute();
  }

  async setSecret(secret: Omit<SecretRecord, 'createdAt' | 'updatedAt'>): Promise<SecretRecord> {
    const now = timestamp();
    const row = await this.#db
      .insertInto('secrets')
      .values({
        vault: secret.vault,
        name: secret.name,
        value: secret.value,
        content_type: secret.contentType,
        version: secret.version,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) =>
        oc.columns(['vault', 'name']).doUpdateSet({
          value: secret.value,
          content_type: secret.contentType,
          version: secret.version,
          updated_at: now,
        }),
      )
      .returningAll()
      .executeTakeFirstOrThrow();
    return toSecretRecord(row);
  }

  async getSecret(vault: string, name: string): Promise<SecretRecord | undefined> {
    const row = await this.#db.selectFrom('secrets').selectAll().where('vault', '=', vault).where('name', '=', name).executeTakeFirst();
    return row && toSecretRecord(row);
  }

  async listSecrets(vault: string): Promise<SecretRecord[]> {
    const rows = await this.#db.selectFrom('secrets').selectAll().where('vault', '=', vault).orderBy('name').execute();
    return rows.map(toSecretRecord);
  }

  async deleteSecret(vault: string, name: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('secrets').where('vault', '=', vault).where('name', '=', name).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}
