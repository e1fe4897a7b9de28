/**
 * `WebhookStore` on Kysely (schema in `schema.ts`). The SKU's webhook limit is checked in the
 * creating transaction, with the registry row locked on PostgreSQL so two concurrent creates
 * cannot both take the last place. Deliveries are claimed with a lease: the update re-checks that
 * the delivery is still pending and unleased, so of two nodes claiming the same one, one wins.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable, Updateable } from 'kysely';
import { RegistryNotFoundError } from './meta-store.ts';
import type { SqlDialect } from './migrations.ts';
import type { Database, WebhookDeliveriesTable, WebhooksTable } from './schema.ts';
import { runTransaction, timestamp } from './transactions.ts';
import {
  WebhookExistsError,
  WebhookLimitError,
  type AttemptResult,
  type ClaimedDelivery,
  type ClaimOptions,
  type DeliveryKey,
  type DeliveryRecord,
  type NewDelivery,
  type NewWebhook,
  type WebhookAction,
  type WebhookChanges,
  type WebhookRecord,
  type WebhookStore,
} from './webhook-store.ts';

type Db = Kysely<Database>;

/** Due deliveries looked at per claim, from which at most one per webhook is taken. */
const claimWindow = 100;
/** Rows per insert, well below both databases' bound-parameter limits. */
const rowsPerInsert = 100;

function toWebhookRecord(row: Selectable<WebhooksTable>): WebhookRecord {
  return {
    id: row.id,
    registry: row.registry,
    name: row.name,
    serviceUri: row.service_uri,
    actions: JSON.parse(row.actions) as WebhookAction[],
    scope: row.scope,
    status: row.status,
    customHeaders: row.custom_headers,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toDeliveryRecord(row: Selectable<WebhookDeliveriesTable>): DeliveryRecord {
  return {
    webhookId: row.webhook_id,
    eventId: row.event_id,
    eventSequence: row.event_sequence,
    action: row.action,
    payload: row.payload,
    status: row.status,
    attempts: row.attempts,
    createdAt: row.created_at,
    nextAttemptAt: row.next_attempt_at,
    lastAttemptAt: row.last_attempt_at,
    response:
      row.response_status === null
        ? null
        : {
            status: row.response_status,
            reason: row.response_reason ?? '',
            headers: row.response_headers === null ? {} : (JSON.parse(row.response_headers) as Record<string, string>),
            body: row.response_body ?? '',
          },
    error: row.error,
  };
}

/** The delivery columns an attempt's result sets. */
function attemptColumns(result: AttemptResult): Updateable<WebhookDeliveriesTable> {
  return {
    status: result.status,
    last_attempt_at: result.attemptedAt,
    ...(result.nextAttemptAt !== undefined && { next_attempt_at: result.nextAttemptAt }),
    lease_until: null,
    response_status: result.response?.status ?? null,
    response_reason: result.response?.reason ?? null,
    response_headers: result.response ? JSON.stringify(result.response.headers) : null,
    response_body: result.response?.body ?? null,
    error: result.error,
  };
}

export class KyselyWebhookStore implements WebhookStore {
  readonly #db: Db;
  readonly #postgres: boolean;

  constructor(db: Db, dialect: SqlDialect) {
    this.#db = db;
    this.#postgres = dialect === 'postgres';
  }

  async createWebhook(webhook: NewWebhook): Promise<WebhookRecord> {
    const now = timestamp();
    return await runTransaction(this.#db, async (trx) => {
      const registry = await trx
        .selectFrom('registries')
        .select('webhook_limit')
        .where('name', '=', webhook.registry)
        .$if(this.#postgres, (qb) => qb.forUpdate())
        .executeTakeFirst();
      if (!registry) throw new RegistryNotFoundError(webhook.registry);
      const existing = await trx
        .selectFrom('webhooks')
        .select('name')
        .where('registry', '=', webhook.registry)
        .where('name', '=', webhook.name)
        .executeTakeFirst();
      if (existing) throw new WebhookExistsError(webhook.registry, webhook.name);
      const { count } = await trx
        .selectFrom('webhooks')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('registry', '=', webhook.registry)
        .executeTakeFirstOrThrow();
      if (Number(count) >= registry.webhook_limit) throw new WebhookLimitError(webhook.registry, registry.webhook_limit);
      const row = await trx
        .insertInto('webhooks')
        .values({
          id: randomUUID(),
          registry: webhook.registry,
          name: webhook.name,
          service_uri: webhook.serviceUri,
          actions: JSON.stringify(webhook.actions),
          scope: webhook.scope,
          status: webhook.status,
          custom_headers: webhook.customHeaders,
          created_at: now,
          updated_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toWebhookRecord(row);
    });
  }

  async getWebhook(registry: string, name: string): Promise<WebhookRecord | undefined> {
    const row = await this.#db.selectFrom('webhooks').selectAll().where('registry', '=', registry).where('name', '=', name).executeTakeFirst();
    return row && toWebhookRecord(row);
  }

  async listWebhooks(registry: string): Promise<WebhookRecord[]> {
    const rows = await this.#db.selectFrom('webhooks').selectAll().where('registry', '=', registry).orderBy('name').execute();
    return rows.map(toWebhookRecord);
  }

  async countWebhooks(registry: string): Promise<number> {
    const { count } = await this.#db
      .selectFrom('webhooks')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('registry', '=', registry)
      .executeTakeFirstOrThrow();
    return Number(count);
  }

  async updateWebhook(registry: string, name: string, changes: WebhookChanges): Promise<WebhookRecord | undefined> {
    const columns: Updateable<WebhooksTable> = { updated_at: timestamp() };
    if (changes.serviceUri !== undefined) columns.service_uri = changes.serviceUri;
    if (changes.actions !== undefined) columns.actions = JSON.stringify(changes.actions);
    if (changes.scope !== undefined) columns.scope = changes.scope;
    if (changes.status !== undefined) columns.status = changes.status;
    if (changes.customHeaders !== undefined) columns.custom_headers = changes.customHeaders;
    const row = await this.#db
      .updateTable('webhooks')
      .set(columns)
      .where('registry', '=', registry)
      .where('name', '=', name)
      .returningAll()
      .executeTakeFirst();
    return row && toWebhookRecord(row);
  }

  async deleteWebhook(registry: string, name: string): Promise<boolean> {
    // Its deliveries go with it (ON DELETE CASCADE).
    const result = await this.#db.deleteFrom('webhooks').where('registry', '=', registry).where('name', '=', name).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async listEnabledWebhooks(registries: string[]): Promise<WebhookRecord[]> {
    if (registries.length === 0) return [];
    const rows = await this.#db
      .selectFrom('webhooks')
      .selectAll()
      .where('registry', 'in', registries)
      .where('status', '=', 'enabled')
      .orderBy('registry')
      .orderBy('name')
      .execute();
    return rows.map(toWebhookRecord);
  }

  async enqueueDeliveries(deliveries: NewDelivery[], now: string): Promise<void> {
    for (let start = 0; start < deliveries.length; start += rowsPerInsert) {
      await this.#insertPending(deliveries.slice(start, start + rowsPerInsert), now);
    }
  }

  async #insertPending(deliveries: NewDelivery[], now: string): Promise<void> {
    await this.#db
      .insertInto('webhook_deliveries')
      .values(
        deliveries.map((delivery) => ({
          webhook_id: delivery.webhookId,
          event_id: delivery.eventId,
          event_sequence: delivery.eventSequence,
          action: delivery.action,
          payload: delivery.payload,
          status: 'pending' as const,
          attempts: 0,
          created_at: now,
          next_attempt_at: now,
        })),
      )
      .onConflict((oc) => oc.columns(['webhook_id', 'event_id']).doNothing())
      .execute();
  }

  async recordDelivery(delivery: NewDelivery, result: AttemptResult): Promise<void> {
    await this.#db
      .insertInto('webhook_deliveries')
      .values({
        webhook_id: delivery.webhookId,
        event_id: delivery.eventId,
        event_sequence: delivery.eventSequence,
        action: delivery.action,
        payload: delivery.payload,
        attempts: 1,
        created_at: result.attemptedAt,
        next_attempt_at: result.nextAttemptAt ?? result.attemptedAt,
        ...attemptColumns(result),
        status: result.status,
      })
      .execute();
  }

  async claimDeliveries(options: ClaimOptions): Promise<ClaimedDelivery[]> {
    if (options.limit <= 0) return [];
    const candidates = await this.#db
      .selectFrom('webhook_deliveries')
      .select(['webhook_id', 'event_id'])
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', options.now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', options.now)]))
      .$if(options.excludeWebhooks.length > 0, (qb) => qb.where('webhook_id', 'not in', options.excludeWebhooks))
      .orderBy('next_attempt_at')
      .limit(claimWindow)
      .execute();

    const chosen = new Map<string, string>();
    for (const candidate of candidates) {
      if (chosen.size >= options.limit) break;
      if (!chosen.has(candidate.webhook_id)) chosen.set(candidate.webhook_id, candidate.event_id);
    }

    const claimed: ClaimedDelivery[] = [];
    for (const [webhookId, eventId] of chosen) {
      const row = await this.#db
        .updateTable('webhook_deliveries')
        .set({ lease_until: options.leaseUntil, attempts: (eb) => eb('attempts', '+', 1) })
        .where('webhook_id', '=', webhookId)
        .where('event_id', '=', eventId)
        .where('status', '=', 'pending')
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', options.now)]))
        .returningAll()
        .executeTakeFirst();
      if (!row) continue;
      const webhook = await this.#db.selectFrom('webhooks').selectAll().where('id', '=', webhookId).executeTakeFirst();
      if (webhook) claimed.push({ ...toDeliveryRecord(row), webhook: toWebhookRecord(webhook) });
    }
    return claimed;
  }

  async recordAttempt(key: DeliveryKey, result: AttemptResult): Promise<void> {
    await this.#db
      .updateTable('webhook_deliveries')
      .set(attemptColumns(result))
      .where('webhook_id', '=', key.webhookId)
      .where('event_id', '=', key.eventId)
      .execute();
  }

  async releaseDeliveries(keys: DeliveryKey[]): Promise<void> {
    for (const key of keys) {
      // The attempt was counted when claimed; it never happened.
      await this.#db
        .updateTable('webhook_deliveries')
        .set({ lease_until: null, attempts: (eb) => eb('attempts', '-', 1) })
        .where('webhook_id', '=', key.webhookId)
        .where('event_id', '=', key.eventId)
        .where('status', '=', 'pending')
        .execute();
    }
  }

  async listDeliveries(webhookId: string, limit: number): Promise<DeliveryRecord[]> {
    const rows = await this.#db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('webhook_id', '=', webhookId)
      .orderBy('created_at', 'desc')
      .orderBy('event_sequence', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toDeliveryRecord);
  }

  async pruneDeliveries(before: string): Promise<number> {
    const result = await this.#db
      .deleteFrom('webhook_deliveries')
      .where('status', '<>', 'pending')
      .where('last_attempt_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
