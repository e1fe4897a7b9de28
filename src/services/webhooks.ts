/**
 * Webhooks as the management API and `berth webhook` see them (ACR's shapes): validation, the
 * SKU's webhook limit, custom headers sealed and never shown again, `ping` (one attempt, sent at
 * once and recorded) and the recorded deliveries (`list-events`).
 */
import { randomUUID } from 'node:crypto';
import type { MetaStore } from '../meta/meta-store.ts';
import {
  webhookActions,
  WebhookExistsError,
  WebhookLimitError,
  type DeliveryRecord,
  type WebhookAction,
  type WebhookChanges,
  type WebhookRecord,
  type WebhookStatus,
} from '../meta/webhook-store.ts';
import { RegistryNotFoundError } from '../meta/meta-store.ts';
import { pingEvent, type AcrEvent } from '../events/acr-event.ts';
import { scopeProblem } from '../events/scope.ts';
import type { WebhookClient } from '../events/webhook-client.ts';

export interface WebhookInput {
  name: string;
  serviceUri: string;
  actions: string[];
  scope?: string;
  status?: WebhookStatus;
  customHeaders?: Record<string, string>;
}

export type WebhookUpdate = Partial<Omit<WebhookInput, 'name'>>;

/** `az acr webhook show`. */
export interface WebhookView {
  id: string;
  name: string;
  type: 'Berth/registries/webhooks';
  provisioningState: 'Succeeded';
  status: WebhookStatus;
  scope: string;
  actions: WebhookAction[];
  createdAt: string;
}

/** `az acr webhook get-config`: where events go; custom header values are write-only. */
export interface WebhookConfigView {
  serviceUri: string;
  customHeaders: Record<string, string>;
}

/** One delivery as `az acr webhook list-events` shows it. */
export interface WebhookEventView {
  id: string;
  action: string;
  /** pending (will be retried), delivered, or failed. */
  status: DeliveryRecord['status'];
  attempts: number;
  createdAt: string;
  lastAttemptTime: string | null;
  nextAttemptTime: string | null;
  error: string | null;
  eventRequestMessage: { content: AcrEvent; headers: Record<string, string>; method: 'POST'; requestUri: string; version: '1.1' };
  eventResponseMessage: { content: string; headers: Record<string, string>; reasonPhrase: string; statusCode: string; version: '1.1' } | null;
}

/** A refused webhook request, with the HTTP status it maps onto. */
export class WebhookError extends Error {
  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
  ) {
    super(message);
    this.name = 'WebhookError';
  }
}

const namePattern = /^[A-Za-z0-9]{5,50}$/;
const headerNamePattern = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
/** Set by Berth on every delivery, or by the HTTP stack: not for users to override. */
const reservedHeaders = new Set(['content-type', 'content-length', 'host', 'transfer-encoding', 'connection']);
const MAX_HEADERS = 32;
const MAX_HEADER_VALUE = 4096;
const MAX_URI = 2048;

function invalid(message: string): WebhookError {
  return new WebhookError(400, message);
}

function checkServiceUri(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(`the service URI "${value}" is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(`the service URI must be http:// or https://, not ${url.protocol}`);
  if (value.length > MAX_URI) throw invalid(`the service URI is longer than ${MAX_URI} characters`);
  return value;
}

function checkActions(values: string[]): WebhookAction[] {
  if (values.length === 0) throw invalid(`give at least one action: ${webhookActions.join(', ')}`);
  const unknown = values.filter((value) => !(webhookActions as readonly string[]).includes(value));
  if (unknown.length > 0) throw invalid(`unknown action ${unknown.join(', ')}; actions are ${webhookActions.join(', ')}`);
  return webhookActions.filter((action) => values.includes(action));
}

function checkScope(scope: string): string {
  const problem = scopeProblem(scope);
  if (problem) throw invalid(problem);
  return scope;
}

function checkHeaders(headers: Record<string, string>): Record<string, string> {
  const entries = Object.entries(headers);
  if (entries.length > MAX_HEADERS) throw invalid(`at most ${MAX_HEADERS} custom headers`);
  const seen = new Set<string>();
  for (const [name, value] of entries) {
    if (!headerNamePattern.test(name)) throw invalid(`"${name}" is not a valid header name`);
    const lower = name.toLowerCase();
    if (reservedHeaders.has(lower)) throw invalid(`the header ${name} is set by Berth and cannot be given`);
    if (seen.has(lower)) throw invalid(`the header ${name} is given twice`);
    seen.add(lower);
    if (typeof value !== 'string' || /[\r\n\0]/.test(value) || value.length > MAX_HEADER_VALUE) {
      throw invalid(`the value of header ${name} must be one line of at most ${MAX_HEADER_VALUE} characters`);
    }
  }
  return headers;
}

export function webhookView(record: WebhookRecord): WebhookView {
  return {
    id: `/registries/${record.registry}/webhooks/${record.name}`,
    name: record.name,
    type: 'Berth/registries/webhooks',
    provisioningState: 'Succeeded',
    status: record.status,
    scope: record.scope,
    actions: record.actions,
    createdAt: record.createdAt,
  };
}

export class WebhookService {
  constructor(
    private readonly meta: MetaStore,
    private readonly client: WebhookClient,
  ) {}

  async create(registry: string, input: WebhookInput): Promise<WebhookView> {
    if (!namePattern.test(input.name)) throw invalid(`webhook names are 5-50 letters and digits, not "${input.name}"`);
    const customHeaders = checkHeaders(input.customHeaders ?? {});
    const webhook = {
      registry,
      name: input.name,
      serviceUri: checkServiceUri(input.serviceUri),
      actions: checkActions(input.actions),
      scope: checkScope(input.scope ?? ''),
      status: input.status ?? 'enabled',
      customHeaders: this.client.sealHeaders(customHeaders),
    };
    try {
      return webhookView(await this.meta.webhooks.createWebhook(webhook));
    } catch (error) {
      if (error instanceof RegistryNotFoundError) throw registryNotFound(registry);
      if (error instanceof WebhookExistsError) throw new WebhookError(409, error.message);
      if (error instanceof WebhookLimitError) {
        const sku = (await this.meta.getRegistry(registry))?.sku ?? 'current';
        throw new WebhookError(409, `the registry ${registry} already has ${error.limit} webhooks, the most its ${sku} SKU allows; delete one or move to a larger SKU`);
      }
      throw error;
    }
  }

  async list(registry: string): Promise<WebhookView[]> {
    await this.requireRegistry(registry);
    return (await this.meta.webhooks.listWebhooks(registry)).map(webhookView);
  }

  async get(registry: string, name: string): Promise<WebhookView> {
    return webhookView(await this.requireWebhook(registry, name));
  }

  async update(registry: string, name: string, update: WebhookUpdate): Promise<WebhookView> {
    const changes: WebhookChanges = {};
    if (update.serviceUri !== undefined) changes.serviceUri = checkServiceUri(update.serviceUri);
    if (update.actions !== undefined) changes.actions = checkActions(update.actions);
    if (update.scope !== undefined) changes.scope = checkScope(update.scope);
    if (update.status !== undefined) changes.status = update.status;
    if (update.customHeaders !== undefined) changes.customHeaders = this.client.sealHeaders(checkHeaders(update.customHeaders));
    const updated = await this.meta.webhooks.updateWebhook(registry, name, changes);
    if (!updated) throw await this.notFound(registry, name);
    return webhookView(updated);
  }

  async delete(registry: string, name: string): Promise<void> {
    if (!(await this.meta.webhooks.deleteWebhook(registry, name))) throw await this.notFound(registry, name);
  }

  async getConfig(registry: string, name: string): Promise<WebhookConfigView> {
    const webhook = await this.requireWebhook(registry, name);
    const customHeaders: Record<string, string> = {};
    for (const header of this.client.headerNames(webhook)) customHeaders[header] = '***';
    return { serviceUri: webhook.serviceUri, customHeaders };
  }

  /** Sends a ping event now (once, whatever the webhook's actions and status) and records the result. */
  async ping(registry: string, name: string): Promise<{ id: string }> {
    const webhook = await this.requireWebhook(registry, name);
    const id = randomUUID();
    const payload = JSON.stringify(pingEvent(id, new Date().toISOString()));
    const attempt = await this.client.send(webhook, payload);
    await this.meta.webhooks.recordDelivery(
      { webhookId: webhook.id, eventId: id, eventSequence: null, action: 'ping', payload },
      { status: attempt.ok ? 'delivered' : 'failed', attemptedAt: new Date().toISOString(), response: attempt.response, error: attempt.error },
    );
    return { id };
  }

  /** The newest `top` deliveries, newest first. */
  async listEvents(registry: string, name: string, top: number): Promise<WebhookEventView[]> {
    const webhook = await this.requireWebhook(registry, name);
    const deliveries = await this.meta.webhooks.listDeliveries(webhook.id, top);
    return deliveries.map((delivery) => ({
      id: delivery.eventId,
      action: delivery.action,
      status: delivery.status,
      attempts: delivery.attempts,
      createdAt: delivery.createdAt,
      lastAttemptTime: delivery.lastAttemptAt,
      nextAttemptTime: delivery.status === 'pending' ? delivery.nextAttemptAt : null,
      error: delivery.error,
      eventRequestMessage: {
        content: JSON.parse(delivery.payload) as AcrEvent,
        headers: this.client.shownRequestHeaders(webhook, delivery.payload),
        method: 'POST',
        requestUri: webhook.serviceUri,
        version: '1.1',
      },
      eventResponseMessage: delivery.response && {
        content: delivery.response.body,
        headers: delivery.response.headers,
        reasonPhrase: delivery.response.reason,
        statusCode: String(delivery.response.status),
        version: '1.1',
      },
    }));
  }

  private async requireRegistry(registry: string): Promise<void> {
    if (!(await this.meta.getRegistry(registry))) throw registryNotFound(registry);
  }

  private async requireWebhook(registry: string, name: string): Promise<WebhookRecord> {
    const webhook = await this.meta.webhooks.getWebhook(registry, name);
    if (!webhook) throw await this.notFound(registry, name);
    return webhook;
  }

  private async notFound(registry: string, name: string): Promise<WebhookError> {
    await this.requireRegistry(registry);
    return new WebhookError(404, `the registry ${registry} has no webhook named ${name}`);
  }
}

function registryNotFound(registry: string): WebhookError {
  return new WebhookError(404, `registry ${registry} not found`);
}
