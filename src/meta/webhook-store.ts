/**
 * Webhooks and their deliveries. A webhook belongs to one registry; a delivery is one event (or
 * ping) for one webhook, queued by the events fan-out and sent by the delivery loop, which
 * leases it for the duration of an attempt (so several nodes never send it at once) and records
 * each attempt's result. Deliveries go with their webhook; webhooks with their registry.
 */

export const webhookActions = ['push', 'delete', 'quarantine', 'chart_push', 'chart_delete'] as const;
export type WebhookAction = (typeof webhookActions)[number];

export type WebhookStatus = 'enabled' | 'disabled';

export interface NewWebhook {
  registry: string;
  name: string;
  serviceUri: string;
  actions: WebhookAction[];
  /** `repo:tag` pattern, or '' for every repository and tag. */
  scope: string;
  status: WebhookStatus;
  /** The custom headers, sealed by the caller (opaque here); null for none. */
  customHeaders: string | null;
}

export interface WebhookRecord extends NewWebhook {
  id: string;
  createdAt: string;
  updatedAt: string;
}

export type WebhookChanges = Partial<Pick<NewWebhook, 'serviceUri' | 'actions' | 'scope' | 'status' | 'customHeaders'>>;

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface NewDelivery {
  webhookId: string;
  /** The event's id as the receiver sees it (unique per webhook). */
  eventId: string;
  /** The outbox event it announces; null for a ping. */
  eventSequence: number | null;
  action: string;
  /** The JSON body sent. */
  payload: string;
}

export interface DeliveryResponse {
  status: number;
  reason: string;
  headers: Record<string, string>;
  /** The beginning of the response body. */
  body: string;
}

export interface DeliveryRecord extends NewDelivery {
  status: DeliveryStatus;
  attempts: number;
  createdAt: string;
  /** When a pending delivery is due. */
  nextAttemptAt: string;
  lastAttemptAt: string | null;
  /** The last attempt's response, if it got one. */
  response: DeliveryResponse | null;
  /** Why the last attempt failed, if it did. */
  error: string | null;
}

export interface ClaimedDelivery extends DeliveryRecord {
  webhook: WebhookRecord;
}

export interface AttemptResult {
  /** `pending` schedules another attempt at `nextAttemptAt`. */
  status: DeliveryStatus;
  attemptedAt: string;
  nextAttemptAt?: string;
  response: DeliveryResponse | null;
  error: string | null;
}

export interface DeliveryKey {
  webhookId: string;
  eventId: string;
}

export interface ClaimOptions {
  now: string;
  /** The lease ends then; an attempt not recorded by then may be made again elsewhere. */
  leaseUntil: string;
  limit: number;
  /** Webhooks already being sent to by the caller; none of their deliveries is claimed. */
  excludeWebhooks: string[];
}

export interface WebhookStore {
  /**
   * Throws `RegistryNotFoundError`, `WebhookExistsError`, or `WebhookLimitError` when the
   * registry already has as many webhooks as its SKU allows.
   */
  createWebhook(webhook: NewWebhook): Promise<WebhookRecord>;
  getWebhook(registry: string, name: string): Promise<WebhookRecord | undefined>;
  /** In name order. */
  listWebhooks(registry: string): Promise<WebhookRecord[]>;
  countWebhooks(registry: string): Promise<number>;
  updateWebhook(registry: string, name: string, changes: WebhookChanges): Promise<WebhookRecord | undefined>;
  /** Deletes the webhook and its deliveries. */
  deleteWebhook(registry: string, name: string): Promise<boolean>;
  /** The enabled webhooks of these registries. */
  listEnabledWebhooks(registries: string[]): Promise<WebhookRecord[]>;

  /** Queues deliveries, due at `now`; one already queued for the same webhook and event is kept as it is. */
  enqueueDeliveries(deliveries: NewDelivery[], now: string): Promise<void>;
  /** Records a delivery already attempted once (a ping). */
  recordDelivery(delivery: NewDelivery, result: AttemptResult): Promise<void>;
  /** Leases due pending deliveries, oldest first, at most one per webhook. */
  claimDeliveries(options: ClaimOptions): Promise<ClaimedDelivery[]>;
  /** Records an attempt and ends the lease. */
  recordAttempt(key: DeliveryKey, result: AttemptResult): Promise<void>;
  /** Ends leases without recording an attempt, so the deliveries are sent again at once. */
  releaseDeliveries(keys: DeliveryKey[]): Promise<void>;
  /** A webhook's deliveries, newest first. */
  listDeliveries(webhookId: string, limit: number): Promise<DeliveryRecord[]>;
  /** Removes delivered and failed deliveries last attempted before `before`; returns how many. */
  pruneDeliveries(before: string): Promise<number>;
}

export class WebhookExistsError extends Error {
  constructor(
    readonly registry: string,
    readonly webhook: string,
  ) {
    super(`registry ${registry} already has a webhook named ${webhook}`);
    this.name = 'WebhookExistsError';
  }
}

export class WebhookLimitError extends Error {
  constructor(
    readonly registry: string,
    readonly limit: number,
  ) {
    super(`registry ${registry} has reached its limit of ${limit} webhooks`);
    this.name = 'WebhookLimitError';
  }
}
