/**
 * `/mgmt/v1/registries/{registry}/webhooks` (`berth webhook create|update|show|list|delete|
 * get-config|ping|list-events`). Reading webhooks needs `read_registry`; changing them, and
 * seeing where they send and what was sent (`config`, `events`), needs `manage_registry`.
 */
import type { FastifyInstance } from 'fastify';
import { webhookActions } from '../meta/webhook-store.ts';
import { WebhookError, type WebhookService, type WebhookUpdate } from '../services/webhooks.ts';
import { ProblemError } from './problem.ts';
import { listOf, problemResponses, registryNameParam, registryParams } from './schemas.ts';

export interface WebhooksApiOptions {
  webhooks: WebhookService;
}

type Params = { registry: string; name: string };

const readRegistry = { access: { action: 'read_registry' } } as const;
const manageRegistry = { access: { action: 'manage_registry' } } as const;
const tags = ['webhooks'];

const string = { type: 'string' } as const;
const nullableString = { type: ['string', 'null'] } as const;
const webhookName = { type: 'string', pattern: '^[A-Za-z0-9]{5,50}$', description: 'webhook name: 5-50 letters and digits' } as const;
const nameParams = { type: 'object', properties: { registry: registryNameParam, name: webhookName }, required: ['registry', 'name'] } as const;

const status = { type: 'string', enum: ['enabled', 'disabled'] } as const;
const actions = { type: 'array', items: { type: 'string', enum: webhookActions }, minItems: 1, maxItems: webhookActions.length } as const;
const serviceUri = { type: 'string', minLength: 1, maxLength: 2048, description: 'http:// or https:// URL that receives the events' } as const;
const scope = { type: 'string', maxLength: 512, description: "'repo:tag', 'repo:*', 'repo' (= repo:latest), '*' wildcards; '' for all" } as const;
const customHeaders = {
  type: 'object',
  additionalProperties: { type: 'string' },
  description: 'sent with every event; write-only (never shown again)',
} as const;

const webhookSchema = {
  type: 'object',
  properties: {
    id: string,
    name: string,
    type: string,
    provisioningState: string,
    status,
    scope: string,
    actions: { type: 'array', items: string },
    createdAt: string,
  },
} as const;

const configSchema = {
  type: 'object',
  properties: { serviceUri: string, customHeaders: { type: 'object', additionalProperties: string, description: 'header names; values hidden' } },
} as const;

/** ACR's event JSON, as sent. */
const eventContentSchema = {
  type: 'object',
  properties: {
    id: string,
    timestamp: string,
    action: string,
    target: {
      type: 'object',
      properties: {
        mediaType: string,
        size: { type: 'integer' },
        digest: string,
        length: { type: 'integer' },
        repository: string,
        tag: string,
      },
    },
    request: { type: 'object', properties: { id: string, host: string, method: string, useragent: string } },
  },
} as const;

const stringMap = { type: 'object', additionalProperties: string } as const;

const deliverySchema = {
  type: 'object',
  properties: {
    id: string,
    action: string,
    status: { type: 'string', enum: ['pending', 'delivered', 'failed'] },
    attempts: { type: 'integer' },
    createdAt: string,
    lastAttemptTime: nullableString,
    nextAttemptTime: nullableString,
    error: nullableString,
    eventRequestMessage: {
      type: 'object',
      properties: { content: eventContentSchema, headers: stringMap, method: string, requestUri: string, version: string },
    },
    eventResponseMessage: {
      type: ['object', 'null'],
      properties: { content: string, headers: stringMap, reasonPhrase: string, statusCode: string, version: string },
    },
  },
} as const;

const titles = { 400: 'Invalid request', 404: 'Not found', 409: 'Conflict' } as const;

/** Runs a service call, answering its refusals as problems. */
async function answer<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof WebhookError) throw new ProblemError(error.status, titles[error.status], error.message);
    throw error;
  }
}

interface CreateBody {
  name: string;
  serviceUri: string;
  actions: string[];
  scope?: string;
  status?: 'enabled' | 'disabled';
  customHeaders?: Record<string, string>;
}

export async function webhooksApi(app: FastifyInstance, { webhooks }: WebhooksApiOptions): Promise<void> {
  app.get<{ Params: { registry: string } }>(
    '/registries/:registry/webhooks',
    { config: readRegistry, schema: { summary: "List a registry's webhooks", tags, params: registryParams, response: { 200: listOf(webhookSchema), ...problemResponses } } },
    async (request) => ({ value: await answer(() => webhooks.list(request.params.registry)) }),
  );

  app.post<{ Params: { registry: string }; Body: CreateBody }>(
    '/registries/:registry/webhooks',
    {
      config: manageRegistry,
      schema: {
        summary: "Create a webhook (up to the SKU's webhook limit)",
        tags,
        params: registryParams,
        body: {
          type: 'object',
          properties: { name: webhookName, serviceUri, actions, scope, status, customHeaders },
          required: ['name', 'serviceUri', 'actions'],
          additionalProperties: false,
        },
        response: { 201: webhookSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const created = await answer(() => webhooks.create(request.params.registry, request.body));
      reply.code(201);
      return created;
    },
  );

  app.get<{ Params: Params }>(
    '/registries/:registry/webhooks/:name',
    { config: readRegistry, schema: { summary: 'Show a webhook', tags, params: nameParams, response: { 200: webhookSchema, ...problemResponses } } },
    async (request) => answer(() => webhooks.get(request.params.registry, request.params.name)),
  );

  app.patch<{ Params: Params; Body: WebhookUpdate }>(
    '/registries/:registry/webhooks/:name',
    {
      config: manageRegistry,
      schema: {
        summary: "Change a webhook's URI, actions, scope, status or custom headers (which are replaced as a whole)",
        tags,
        params: nameParams,
        body: { type: 'object', properties: { serviceUri, actions, scope, status, customHeaders }, additionalProperties: false },
        response: { 200: webhookSchema, ...problemResponses },
      },
    },
    async (request) => answer(() => webhooks.update(request.params.registry, request.params.name, request.body ?? {})),
  );

  app.delete<{ Params: Params }>(
    '/registries/:registry/webhooks/:name',
    {
      config: manageRegistry,
      schema: { summary: 'Delete a webhook and its recorded deliveries', tags, params: nameParams, response: { 204: { type: 'null' }, ...problemResponses } },
    },
    async (request, reply) => {
      await answer(() => webhooks.delete(request.params.registry, request.params.name));
      reply.code(204).send();
    },
  );

  app.get<{ Params: Params }>(
    '/registries/:registry/webhooks/:name/config',
    {
      config: manageRegistry,
      schema: { summary: "Show where a webhook sends events and its custom headers' names", tags, params: nameParams, response: { 200: configSchema, ...problemResponses } },
    },
    async (request) => answer(() => webhooks.getConfig(request.params.registry, request.params.name)),
  );

  app.post<{ Params: Params }>(
    '/registries/:registry/webhooks/:name/ping',
    {
      config: manageRegistry,
      schema: {
        summary: 'Send a ping event now; its result is listed with the events',
        tags,
        params: nameParams,
        response: { 200: { type: 'object', properties: { id: string } }, ...problemResponses },
      },
    },
    async (request) => answer(() => webhooks.ping(request.params.registry, request.params.name)),
  );

  app.get<{ Params: Params; Querystring: { top?: number } }>(
    '/registries/:registry/webhooks/:name/events',
    {
      config: manageRegistry,
      schema: {
        summary: "List a webhook's deliveries, newest first: the event sent, the response, attempts and status",
        tags,
        params: nameParams,
        querystring: { type: 'object', properties: { top: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } }, additionalProperties: false },
        response: { 200: listOf(deliverySchema), ...problemResponses },
      },
    },
    async (request) => ({ value: await answer(() => webhooks.listEvents(request.params.registry, request.params.name, request.query.top ?? 100)) }),
  );
}
