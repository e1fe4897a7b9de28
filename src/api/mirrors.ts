/**
 * `/mgmt/v1/registries/{registry}/mirrors` (`berth mirror create|list|show|history|rollback|
 * delete`): a gated copy of an upstream tag. Reading needs `read_registry`; creating, deleting and
 * rolling back need `manage_registry`, and creating also push on the target and staging
 * repositories and, for a source in this installation, pull on the source repository — the
 * creator's rights, since validation runs and promotions act as the creator.
 */
import type { FastifyInstance } from 'fastify';
import type { Authorizer } from '../auth/services.ts';
import { MirrorError } from '../mirrors/mirror-error.ts';
import { MirrorService, type MirrorInput } from '../mirrors/mirror-service.ts';
import { mirrorEntryStatuses } from '../mirrors/mirror-store.ts';
import { forbidden, principalOf } from './access.ts';
import { ProblemError } from './problem.ts';
import { listOf, problemResponses, registryNameParam, registryParams } from './schemas.ts';

export interface MirrorsApiOptions {
  mirrors: MirrorService;
  authorizer: Authorizer;
}

type Params = { registry: string; name: string };

const readRegistry = { access: { action: 'read_registry' } } as const;
const manageRegistry = { access: { action: 'manage_registry' } } as const;
const tags = ['mirrors'];

const string = { type: 'string' } as const;
const nullableString = { type: ['string', 'null'] } as const;
const nullableInteger = { type: ['integer', 'null'] } as const;
const mirrorName = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,49}$', description: 'mirror name: 1-50 letters, digits, hyphens or underscores' } as const;
const nameParams = { type: 'object', properties: { registry: registryNameParam, name: mirrorName }, required: ['registry', 'name'] } as const;

const mirrorSchema = {
  type: 'object',
  properties: {
    id: string,
    name: string,
    registry: string,
    source: string,
    sourceImage: string,
    sourceRegistry: nullableString,
    watch: { type: 'string', enum: ['Events', 'Polling'] },
    image: string,
    stagingRepository: string,
    validation: {
      type: 'object',
      properties: { type: { type: 'string', enum: ['None', 'Cmd', 'TaskFile'] }, cmd: string, encodedTaskContent: string },
    },
    keepUniqueTags: nullableInteger,
    schedule: nullableString,
    pollIntervalSeconds: nullableInteger,
    sourceCredentials: { type: 'object', properties: { userName: nullableString, password: { type: 'null' } } },
    lastSourceDigest: nullableString,
    currentDigest: nullableString,
    createdBy: string,
    creationDate: string,
    lastUpdatedTime: string,
    provisioningState: string,
  },
} as const;

const historySchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    mirror: string,
    digest: string,
    status: { type: 'string', enum: mirrorEntryStatuses },
    runId: nullableString,
    uniqueTag: nullableString,
    message: nullableString,
    createTime: string,
    lastUpdatedTime: string,
  },
} as const;

const createBody = {
  type: 'object',
  properties: {
    name: mirrorName,
    source: { type: 'string', minLength: 1, maxLength: 512, description: '<registry-name>/<repo>:<tag> or <login-server>/<repo>:<tag>' },
    image: { type: 'string', minLength: 1, maxLength: 400, description: 'the target <repo>:<tag>' },
    validateCmd: { type: 'string', minLength: 1, maxLength: 8192, description: '"<image> <args>"; sees {{.Values.STAGED_IMAGE}} and {{.Values.SOURCE_IMAGE}}' },
    validateTaskFile: { type: 'string', minLength: 1, maxLength: 1024 * 1024, description: 'a task file (acr-task.yaml) as text' },
    keepUniqueTags: { type: 'integer', minimum: 1, maximum: 10_000 },
    schedule: { type: 'string', maxLength: 256, description: 'cron expression (UTC) of the polls of an external source' },
    pollIntervalSeconds: { type: 'integer', minimum: 1, maximum: 31 * 86_400, description: 'seconds between polls of an external source' },
    sourceUsername: { type: 'string', minLength: 1, maxLength: 1024, description: 'clear text or a secret URI' },
    sourcePassword: { type: 'string', minLength: 1, maxLength: 8192, description: 'clear text or a secret URI (write-only)' },
  },
  required: ['name', 'source', 'image'],
  additionalProperties: false,
} as const;

const titles = { invalid: [400, 'Invalid request'], 'not-found': [404, 'Not found'], conflict: [409, 'Conflict'], forbidden: [403, 'Forbidden'] } as const;

/** Runs a service call, answering its refusals as problems. */
async function answer<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof MirrorError) {
      const [status, title] = titles[error.kind];
      throw new ProblemError(status, title, error.message);
    }
    throw error;
  }
}

export async function mirrorsApi(app: FastifyInstance, { mirrors, authorizer }: MirrorsApiOptions): Promise<void> {
  app.get<{ Params: { registry: string } }>(
    '/registries/:registry/mirrors',
    { config: readRegistry, schema: { summary: "List a registry's mirrors", tags, params: registryParams, response: { 200: listOf(mirrorSchema), ...problemResponses } } },
    async (request) => ({ value: await answer(() => mirrors.list(request.params.registry)) }),
  );

  app.post<{ Params: { registry: string }; Body: MirrorInput }>(
    '/registries/:registry/mirrors',
    {
      config: manageRegistry,
      schema: {
        summary: 'Create a mirror: watch an upstream tag, stage and validate each new digest, promote the ones that pass',
        tags,
        params: registryParams,
        body: createBody,
        response: { 201: mirrorSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const { registry } = request.params;
      const caller = principalOf(request);
      const prepared = await answer(() => mirrors.prepare(registry, request.body, caller));
      for (const repository of MirrorService.writtenRepositories(prepared)) {
        if (!(await authorizer.authorize(caller, registry, repository, 'push'))) throw forbidden(`the caller may not push to ${repository} in registry ${registry}`);
      }
      const source = prepared.source;
      if (source.registry !== null && !(await authorizer.authorize(caller, source.registry, source.repository, 'pull'))) {
        throw forbidden(`the caller may not pull ${source.repository} from registry ${source.registry}`);
      }
      const created = await answer(() => mirrors.create(prepared));
      reply.code(201);
      return created;
    },
  );

  app.get<{ Params: Params }>(
    '/registries/:registry/mirrors/:name',
    { config: readRegistry, schema: { summary: 'Show a mirror', tags, params: nameParams, response: { 200: mirrorSchema, ...problemResponses } } },
    async (request) => answer(() => mirrors.get(request.params.registry, request.params.name)),
  );

  app.delete<{ Params: Params }>(
    '/registries/:registry/mirrors/:name',
    {
      config: manageRegistry,
      schema: { summary: 'Delete a mirror and its history (the images it staged and promoted stay)', tags, params: nameParams, response: { 204: { type: 'null' }, ...problemResponses } },
    },
    async (request, reply) => {
      await answer(() => mirrors.delete(request.params.registry, request.params.name));
      reply.code(204).send();
    },
  );

  app.get<{ Params: Params; Querystring: { top?: number } }>(
    '/registries/:registry/mirrors/:name/history',
    {
      config: readRegistry,
      schema: {
        summary: "A mirror's history, newest first: each upstream digest (Staged, Validating, Promoted, Failed) and each rollback",
        tags,
        params: nameParams,
        querystring: { type: 'object', properties: { top: { type: 'integer', minimum: 1, maximum: 1000 } }, additionalProperties: false },
        response: { 200: listOf(historySchema), ...problemResponses },
      },
    },
    async (request) => ({ value: await answer(() => mirrors.history(request.params.registry, request.params.name, request.query.top)) }),
  );

  app.post<{ Params: Params; Body: { to?: string } | undefined }>(
    '/registries/:registry/mirrors/:name/rollback',
    {
      config: manageRegistry,
      schema: {
        summary: "Move a mirror's target tag back to the digest promoted before, or to a digest or unique tag it promoted",
        tags,
        params: nameParams,
        body: { type: 'object', properties: { to: { type: 'string', minLength: 1, maxLength: 256, description: 'a digest or unique tag from the history' } }, additionalProperties: false },
        response: { 200: historySchema, ...problemResponses },
      },
    },
    async (request) => answer(() => mirrors.rollback(request.params.registry, request.params.name, request.body?.to)),
  );
}
