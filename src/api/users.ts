/** `/mgmt/v1/users`: the installation's human users (`berth user create|list|show|delete|reset-password`). */
import type { FastifyInstance } from 'fastify';
import type { IdentityService } from '../auth/identity-service.ts';
import { listOf, problemResponses, userSchemas } from './schemas.ts';

export interface UsersApiOptions {
  identity: IdentityService;
}

const usernameParams = {
  type: 'object',
  properties: { username: { type: 'string', minLength: 1, maxLength: 64 } },
  required: ['username'],
} as const;

const password = { type: 'string', minLength: 1, maxLength: 1024 } as const;
const manageInstallation = { access: { action: 'manage_installation' } } as const;

export async function usersApi(app: FastifyInstance, { identity }: UsersApiOptions): Promise<void> {
  app.get(
    '/users',
    { config: manageInstallation, schema: { summary: 'List users', tags: ['users'], response: { 200: listOf(userSchemas.shown), ...problemResponses } } },
    async () => ({ value: await identity.listUsers() }),
  );

  app.post<{ Body: { username: string; password?: string } }>(
    '/users',
    {
      config: manageInstallation,
      schema: {
        summary: 'Create a user; without a password one is generated and returned once',
        tags: ['users'],
        body: {
          type: 'object',
          properties: { username: { type: 'string', minLength: 1, maxLength: 64 }, password },
          required: ['username'],
          additionalProperties: false,
        },
        response: { 201: userSchemas.created, ...problemResponses },
      },
    },
    async (request, reply) => {
      const user = await identity.createUser(request.body.username, request.body.password);
      reply.code(201);
      return user;
    },
  );

  app.get<{ Params: { username: string } }>(
    '/users/:username',
    { config: manageInstallation, schema: { summary: 'Show a user', tags: ['users'], params: usernameParams, response: { 200: userSchemas.shown, ...problemResponses } } },
    async (request) => identity.getUser(request.params.username),
  );

  app.delete<{ Params: { username: string } }>(
    '/users/:username',
    {
      config: manageInstallation,
      schema: { summary: 'Delete a user; its role assignments and refresh tokens go with it', tags: ['users'], params: usernameParams, response: { 204: { type: 'null' }, ...problemResponses } },
    },
    async (request, reply) => {
      await identity.deleteUser(request.params.username);
      reply.code(204).send();
    },
  );

  app.post<{ Params: { username: string }; Body: { password?: string } | undefined }>(
    '/users/:username/reset-password',
    {
      config: manageInstallation,
      schema: {
        summary: 'Set a new password; without one a password is generated and returned once',
        tags: ['users'],
        params: usernameParams,
        body: { type: 'object', properties: { password }, additionalProperties: false },
        response: { 200: userSchemas.created, ...problemResponses },
      },
    },
    async (request) => identity.resetUserPassword(request.params.username, request.body?.password),
  );
}
