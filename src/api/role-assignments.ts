/**
 * `/mgmt/v1/role-assignments` (`berth role assignment create|list|delete`). Installation managers
 * may see and change any assignment; whoever may assign roles on a registry (its Owners, not its
 * Contributors) those scoped to that registry or its repositories.
 */
import type { FastifyInstance } from 'fastify';
import type { IdentityService, RoleName } from '../auth/identity-service.ts';
import type { Principal } from '../auth/principal.ts';
import type { Authorizer } from '../auth/services.ts';
import { forbidden, principalOf } from './access.ts';
import { listOf, problemResponses, roleAssignmentSchema, roleNameSchema } from './schemas.ts';

export interface RoleAssignmentsApiOptions {
  identity: IdentityService;
  authorizer: Authorizer;
}

/** The registry a scope lies in: `/registries/<r>` or `/registries/<r>/repositories/<repo>`; undefined for `/`. */
export function registryOfScope(scope: string): string | undefined {
  return /^\/registries\/([a-z0-9]{5,50})(?:\/repositories\/.+)?$/.exec(scope)?.[1];
}

const scope = { type: 'string', minLength: 1, maxLength: 512, pattern: '^/' } as const;

export async function roleAssignmentsApi(app: FastifyInstance, { identity, authorizer }: RoleAssignmentsApiOptions): Promise<void> {
  const managesInstallation = (principal: Principal) => authorizer.authorize(principal, undefined, undefined, 'manage_installation');

  /** Throws 403 unless the caller may change assignments at `scope`. */
  async function requireManager(principal: Principal, scopeValue: string): Promise<void> {
    if (await managesInstallation(principal)) return;
    const registry = registryOfScope(scopeValue);
    if (registry === undefined || !(await authorizer.authorize(principal, registry, undefined, 'assign_roles'))) throw forbidden();
  }

  app.get<{ Querystring: { assignee?: string; scope?: string; role?: string } }>(
    '/role-assignments',
    {
      config: { access: 'authenticated' },
      schema: {
        summary: 'List role assignments, filtered by assignee, scope or role; registry owners must filter by a scope of their registry',
        tags: ['role-assignments'],
        querystring: {
          type: 'object',
          properties: { assignee: { type: 'string', maxLength: 256 }, scope: { type: 'string', maxLength: 512 }, role: { type: 'string', maxLength: 64 } },
          additionalProperties: false,
        },
        response: { 200: listOf(roleAssignmentSchema), ...problemResponses },
      },
    },
    async (request) => {
      const filter = request.query;
      if (await managesInstallation(principalOf(request))) return { value: await identity.listRoleAssignments(filter) };
      const registry = filter.scope === undefined ? undefined : registryOfScope(filter.scope);
      if (registry === undefined || !(await authorizer.authorize(principalOf(request), registry, undefined, 'assign_roles'))) throw forbidden();
      const all = await identity.listRoleAssignments(filter);
      return { value: all.filter((assignment) => registryOfScope(assignment.scope) === registry) };
    },
  );

  app.post<{ Body: { assignee: string; role: RoleName; scope: string } }>(
    '/role-assignments',
    {
      config: { access: 'authenticated' },
      schema: {
        summary: 'Assign a role to a user or service principal at a scope',
        tags: ['role-assignments'],
        body: {
          type: 'object',
          properties: { assignee: { type: 'string', minLength: 1, maxLength: 256 }, role: roleNameSchema, scope },
          required: ['assignee', 'role', 'scope'],
          additionalProperties: false,
        },
        response: { 201: roleAssignmentSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const { assignee, role, scope: at } = request.body;
      await requireManager(principalOf(request), at);
      const created = await identity.createRoleAssignment(assignee, role, at);
      reply.code(201);
      return created;
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/role-assignments/:id',
    {
      config: { access: 'authenticated' },
      schema: {
        summary: 'Remove a role assignment; it no longer counts from the next token request on',
        tags: ['role-assignments'],
        params: { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 64 } }, required: ['id'] },
        response: { 204: { type: 'null' }, ...problemResponses },
      },
    },
    async (request, reply) => {
      if (!(await managesInstallation(principalOf(request)))) {
        const assignment = await identity.getRoleAssignment(request.params.id);
        await requireManager(principalOf(request), assignment.scope);
      }
      await identity.deleteRoleAssignment(request.params.id);
      reply.code(204).send();
    },
  );
}
