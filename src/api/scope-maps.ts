/** `/mgmt/v1/registries/{registry}/scope-maps` (`berth scope-map create|update|show|list|delete`). */
import type { FastifyInstance } from 'fastify';
import type { IdentityService } from '../auth/identity-service.ts';
import { actionsSchema, childNameParam, listOf, problemResponses, registryChildParams, registryParams, scopeMapSchema } from './schemas.ts';

export interface ScopeMapsApiOptions {
  identity: IdentityService;
}

type Params = { registry: string; name: string };

const readRegistry = { access: { action: 'read_registry' } } as const;
const manageRegistry = { access: { action: 'manage_registry' } } as const;
const nameParams = registryChildParams('name');
const description = { type: 'string', maxLength: 256 } as const;
const tags = ['scope-maps'];

export async function scopeMapsApi(app: FastifyInstance, { identity }: ScopeMapsApiOptions): Promise<void> {
  app.get<{ Params: { registry: string } }>(
    '/registries/:registry/scope-maps',
    {
      config: readRegistry,
      schema: { summary: "List a registry's scope maps, the system-defined ones included", tags, params: registryParams, response: { 200: listOf(scopeMapSchema), ...problemResponses } },
    },
    async (request) => ({ value: await identity.listScopeMaps(request.params.registry) }),
  );

  app.post<{ Params: { registry: string }; Body: { name: string; actions: string[]; description?: string } }>(
    '/registries/:registry/scope-maps',
    {
      config: manageRegistry,
      schema: {
        summary: 'Create a scope map of repository actions (repositories/<repo>/content/read ...)',
        tags,
        params: registryParams,
        body: {
          type: 'object',
          properties: { name: childNameParam, actions: actionsSchema, description },
          required: ['name', 'actions'],
          additionalProperties: false,
        },
        response: { 201: scopeMapSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const { name, actions, description: text } = request.body;
      const created = await identity.createScopeMap(request.params.registry, name, actions, text);
      reply.code(201);
      return created;
    },
  );

  app.get<{ Params: Params }>(
    '/registries/:registry/scope-maps/:name',
    { config: readRegistry, schema: { summary: 'Show a scope map', tags, params: nameParams, response: { 200: scopeMapSchema, ...problemResponses } } },
    async (request) => identity.getScopeMap(request.params.registry, request.params.name),
  );

  app.patch<{ Params: Params; Body: { addActions?: string[]; removeActions?: string[]; description?: string } }>(
    '/registries/:registry/scope-maps/:name',
    {
      config: manageRegistry,
      schema: {
        summary: "Add or remove actions, or change the description; tokens bound to it are affected from their next token request",
        tags,
        params: nameParams,
        body: { type: 'object', properties: { addActions: actionsSchema, removeActions: actionsSchema, description }, additionalProperties: false },
        response: { 200: scopeMapSchema, ...problemResponses },
      },
    },
    async (request) => identity.updateScopeMap(request.params.registry, request.params.name, request.body),
  );

  app.delete<{ Params: Params }>(
    '/registries/:registry/scope-maps/:name',
    {
      config: manageRegistry,
      schema: { summary: 'Delete a user-defined scope map no token uses', tags, params: nameParams, response: { 204: { type: 'null' }, ...problemResponses } },
    },
    async (request, reply) => {
      await identity.deleteScopeMap(request.params.registry, request.params.name);
      reply.code(204).send();
    },
  );
}
