/** `/mgmt/v1/service-principals`: non-human identities with a generated secret (`berth sp create|list|show|delete`). */
import type { FastifyInstance } from 'fastify';
import type { IdentityService, RoleName } from '../auth/identity-service.ts';
import { ProblemError } from './problem.ts';
import { listOf, problemResponses, roleNameSchema, servicePrincipalSchemas } from './schemas.ts';

export interface ServicePrincipalsApiOptions {
  identity: IdentityService;
}

const appIdParams = {
  type: 'object',
  properties: { appId: { type: 'string', minLength: 1, maxLength: 64 } },
  required: ['appId'],
} as const;

const manageInstallation = { access: { action: 'manage_installation' } } as const;

interface CreateBody {
  name: string;
  role?: RoleName;
  scopes?: string[];
}

export async function servicePrincipalsApi(app: FastifyInstance, { identity }: ServicePrincipalsApiOptions): Promise<void> {
  app.get(
    '/service-principals',
    {
      config: manageInstallation,
      schema: { summary: 'List service principals', tags: ['service-principals'], response: { 200: listOf(servicePrincipalSchemas.shown), ...problemResponses } },
    },
    async () => ({ value: await identity.listServicePrincipals() }),
  );

  app.post<{ Body: CreateBody }>(
    '/service-principals',
    {
      config: manageInstallation,
      schema: {
        summary: 'Create a service principal, optionally assigning it a role at some scopes; its password is returned once',
        tags: ['service-principals'],
        body: {
          type: 'object',
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 128 },
            role: roleNameSchema,
            scopes: { type: 'array', items: { type: 'string', maxLength: 512 }, maxItems: 50 },
          },
          required: ['name'],
          additionalProperties: false,
        },
        response: { 201: servicePrincipalSchemas.created, ...problemResponses },
      },
    },
    async (request, reply) => {
      const { name, role, scopes = [] } = request.body;
      if (role !== undefined && scopes.length === 0) throw new ProblemError(400, 'Invalid request', 'a role needs at least one scope');
      if (role === undefined && scopes.length > 0) throw new ProblemError(400, 'Invalid request', 'scopes need a role');
      const created = await identity.createServicePrincipal(name);
      try {
        for (const scope of scopes) await identity.createRoleAssignment(created.appId, role!, scope);
      } catch (error) {
        await identity.deleteServicePrincipal(created.appId);
        throw error;
      }
      reply.code(201);
      return created;
    },
  );

  app.get<{ Params: { appId: string } }>(
    '/service-principals/:appId',
    {
      config: manageInstallation,
      schema: { summary: 'Show a service principal', tags: ['service-principals'], params: appIdParams, response: { 200: servicePrincipalSchemas.shown, ...problemResponses } },
    },
    async (request) => identity.getServicePrincipal(request.params.appId),
  );

  app.delete<{ Params: { appId: string } }>(
    '/service-principals/:appId',
    {
      config: manageInstallation,
      schema: {
        summary: 'Delete a service principal; its role assignments and refresh tokens go with it',
        tags: ['service-principals'],
        params: appIdParams,
        response: { 204: { type: 'null' }, ...problemResponses },
      },
    },
    async (request, reply) => {
      await identity.deleteServicePrincipal(request.params.appId);
      reply.code(204).send();
    },
  );
}
