/**
 * `/mgmt/v1/registries/{registry}/tokens` (`berth token create|update|show|list|delete` and
 * `berth token credential generate`). Password values appear only in the responses that create them.
 */
import type { FastifyInstance } from 'fastify';
import type { IdentityService } from '../auth/identity-service.ts';
import { actionsSchema, childNameParam, listOf, problemResponses, registryChildParams, registryParams, tokenSchemas } from './schemas.ts';

export interface TokensApiOptions {
  identity: IdentityService;
}

type Params = { registry: string; name: string };
type Status = 'enabled' | 'disabled';

interface CreateBody {
  name: string;
  scopeMapName?: string;
  actions?: string[];
  status?: Status;
  noPasswords?: boolean;
  expiry?: string | null;
}

const readRegistry = { access: { action: 'read_registry' } } as const;
const manageRegistry = { access: { action: 'manage_registry' } } as const;
const nameParams = registryChildParams('name');
const status = { type: 'string', enum: ['enabled', 'disabled'] } as const;
const expiry = { type: ['string', 'null'], format: 'date-time', description: 'ISO-8601; null or absent for never' } as const;
const scopeMapName = { type: 'string', pattern: '^[A-Za-z0-9_-]{1,50}$' } as const;
const tags = ['tokens'];

export async function tokensApi(app: FastifyInstance, { identity }: TokensApiOptions): Promise<void> {
  app.get<{ Params: { registry: string } }>(
    '/registries/:registry/tokens',
    { config: readRegistry, schema: { summary: "List a registry's tokens", tags, params: registryParams, response: { 200: listOf(tokenSchemas.shown), ...problemResponses } } },
    async (request) => ({ value: await identity.listTokens(request.params.registry) }),
  );

  app.post<{ Params: { registry: string }; Body: CreateBody }>(
    '/registries/:registry/tokens',
    {
      config: manageRegistry,
      schema: {
        summary: 'Create a token bound to a scope map, or to inline actions (creating <token>-scope-map); its passwords are returned once',
        tags,
        params: registryParams,
        body: {
          type: 'object',
          properties: {
            name: childNameParam,
            scopeMapName,
            actions: actionsSchema,
            status,
            noPasswords: { type: 'boolean' },
            expiry,
          },
          required: ['name'],
          additionalProperties: false,
        },
        response: { 201: tokenSchemas.withPasswords, ...problemResponses },
      },
    },
    async (request, reply) => {
      const { name, ...options } = request.body;
      const created = await identity.createToken(request.params.registry, name, options);
      reply.code(201);
      return created;
    },
  );

  app.get<{ Params: Params }>(
    '/registries/:registry/tokens/:name',
    { config: readRegistry, schema: { summary: 'Show a token (never its password values)', tags, params: nameParams, response: { 200: tokenSchemas.shown, ...problemResponses } } },
    async (request) => identity.getToken(request.params.registry, request.params.name),
  );

  app.patch<{ Params: Params; Body: { scopeMapName?: string; status?: Status } }>(
    '/registries/:registry/tokens/:name',
    {
      config: manageRegistry,
      schema: {
        summary: 'Bind the token to another scope map, or enable or disable it',
        tags,
        params: nameParams,
        body: { type: 'object', properties: { scopeMapName, status }, additionalProperties: false },
        response: { 200: tokenSchemas.shown, ...problemResponses },
      },
    },
    async (request) => identity.updateToken(request.params.registry, request.params.name, request.body),
  );

  app.delete<{ Params: Params }>(
    '/registries/:registry/tokens/:name',
    {
      config: manageRegistry,
      schema: { summary: 'Delete a token; its refresh tokens are revoked', tags, params: nameParams, response: { 204: { type: 'null' }, ...problemResponses } },
    },
    async (request, reply) => {
      await identity.deleteToken(request.params.registry, request.params.name);
      reply.code(204).send();
    },
  );

  app.post<{ Params: Params; Body: { password1?: boolean; password2?: boolean; expiry?: string | null } | undefined }>(
    '/registries/:registry/tokens/:name/credentials/generate',
    {
      config: manageRegistry,
      schema: {
        summary: 'Generate new values for password1 and/or password2; they are returned once',
        tags,
        params: nameParams,
        body: { type: 'object', properties: { password1: { type: 'boolean' }, password2: { type: 'boolean' }, expiry }, additionalProperties: false },
        response: { 200: tokenSchemas.withPasswords, ...problemResponses },
      },
    },
    async (request) => identity.generateTokenPasswords(request.params.registry, request.params.name, request.body ?? {}),
  );
}
