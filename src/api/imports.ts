/**
 * `/mgmt/v1/registries/{registry}/imports` (`berth import`): start a server-side copy of an image
 * into the registry, then follow its job. The request body has the shape of ACR's `importImage`
 * (`source.{registryUri, resourceId, sourceImage, credentials}`, `targetTags`,
 * `untaggedTargetRepositories`, `mode`). Starting an import needs push on every target
 * repository; a source in this installation also needs pull on the source repository, by the
 * caller or by the source credentials given. Credentials are never echoed back.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { principalName, type Principal } from '../auth/principal.ts';
import { AuthError, type Authenticator, type Authorizer } from '../auth/services.ts';
import type { ImportService, ImportPlan, ImportRequest } from '../import/import-service.ts';
import type { ImportJob } from '../import/jobs.ts';
import type { ChangeOrigin } from '../meta/event-store.ts';
import { ImportError } from '../import/source-reader.ts';
import { RegistryError } from '../oci/errors.ts';
import { runOrigin } from '../registry/change-origin.ts';
import type { RegistryDirectory } from '../services/registry-directory.ts';
import { forbidden, principalOf } from './access.ts';
import { ProblemError } from './problem.ts';
import { problemResponses, registryNameParam } from './schemas.ts';

export interface ImportsApiOptions {
  directory: RegistryDirectory;
  authorizer: Authorizer;
  authenticator: Authenticator;
  imports: ImportService;
}

interface ImportBody {
  source: {
    sourceImage: string;
    registryUri?: string;
    resourceId?: string;
    credentials?: { username: string; password: string };
  };
  targetTags?: string[];
  untaggedTargetRepositories?: string[];
  mode?: 'Force' | 'NoForce';
}

const string = { type: 'string' } as const;
const count = { type: 'integer', minimum: 0 } as const;
const tags = ['imports'];
const authenticated = { access: 'authenticated' } as const;

const jobSchema = {
  type: 'object',
  properties: {
    id: string,
    status: { type: 'string', enum: ['Running', 'Succeeded', 'Failed'] },
    source: string,
    sourceRegistry: { type: ['string', 'null'] },
    targetTags: { type: 'array', items: string },
    untaggedTargetRepositories: { type: 'array', items: string },
    mode: { type: 'string', enum: ['Force', 'NoForce'] },
    digest: { type: ['string', 'null'] },
    mediaType: { type: ['string', 'null'] },
    progress: {
      type: 'object',
      properties: {
        manifests: { type: 'object', properties: { total: count, copied: count } },
        blobs: { type: 'object', properties: { total: count, copied: count, linked: count, skipped: count } },
        bytes: { type: 'object', properties: { total: count, copied: count } },
      },
    },
    error: { type: ['string', 'null'] },
    createdAt: string,
    finishedAt: { type: ['string', 'null'] },
  },
} as const;

const jobParams = {
  type: 'object',
  properties: { registry: registryNameParam, id: { type: 'string', pattern: '^[0-9a-f-]{36}$' } },
  required: ['registry', 'id'],
} as const;

const registryParams = { type: 'object', properties: { registry: registryNameParam }, required: ['registry'] } as const;

const bodySchema = {
  type: 'object',
  properties: {
    source: {
      type: 'object',
      properties: {
        sourceImage: { type: 'string', minLength: 1, maxLength: 512, description: 'repo:tag or repo@digest; fully qualified (host/repo:tag) unless registryUri or resourceId is given' },
        registryUri: { type: 'string', maxLength: 255, description: 'host[:port] of the source registry' },
        resourceId: { type: 'string', pattern: '^/registries/[a-z0-9]{5,50}$', description: 'a registry of this installation: /registries/<name>' },
        credentials: {
          type: 'object',
          properties: { username: { type: 'string', maxLength: 1024 }, password: { type: 'string', maxLength: 8192 } },
          required: ['username', 'password'],
          additionalProperties: false,
        },
      },
      required: ['sourceImage'],
      additionalProperties: false,
    },
    targetTags: { type: 'array', items: { type: 'string', maxLength: 400 }, maxItems: 50 },
    untaggedTargetRepositories: { type: 'array', items: { type: 'string', maxLength: 256 }, maxItems: 50 },
    mode: { type: 'string', enum: ['Force', 'NoForce'], default: 'NoForce' },
  },
  required: ['source'],
  additionalProperties: false,
} as const;

export async function importsApi(app: FastifyInstance, { directory, authorizer, authenticator, imports }: ImportsApiOptions): Promise<void> {
  app.post<{ Params: { registry: string }; Body: ImportBody }>(
    '/registries/:registry/imports',
    {
      config: authenticated,
      schema: {
        summary: 'Import an image from another registry, remote or of this installation (az acr import); answers 202 with the import job',
        tags,
        params: registryParams,
        body: bodySchema,
        response: { 202: jobSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const registry = request.params.registry;
      const principal = principalOf(request);
      const plan = await planOf(imports, registry, request.body, originOf(request, principal));
      for (const target of plan.targets) {
        if (!(await authorizer.authorize(principal, registry, target.repository, 'push'))) {
          throw forbidden(`the caller may not push to ${target.repository} in registry ${registry}`);
        }
      }
      if (!(await directory.get(registry))) throw new ProblemError(404, 'Registry not found', `registry ${registry} does not exist`);
      if (plan.sourceRegistry !== null) await authorizeInstallationSource(request, plan, principal);
      if (!plan.request.force) {
        const existing = await imports.existingTags(plan);
        if (existing.length > 0) {
          throw new ProblemError(409, 'Tag exists', `${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''} in registry ${registry}; import with mode Force (--force) to overwrite`);
        }
      }
      const job = imports.start(plan);
      reply.code(202).header('location', `/mgmt/v1/registries/${registry}/imports/${job.id}`);
      return job;
    },
  );

  app.get<{ Params: { registry: string; id: string } }>(
    '/registries/:registry/imports/:id',
    {
      config: authenticated,
      schema: { summary: 'Show an import job: status (Running, Succeeded, Failed), progress and error', tags, params: jobParams, response: { 200: jobSchema, ...problemResponses } },
    },
    async (request) => {
      const { registry, id } = request.params;
      const job = imports.jobs.get(registry, id);
      if (!job || !(await mayFollow(principalOf(request), job))) throw new ProblemError(404, 'Import not found', `no import ${id} in registry ${registry}`);
      return job;
    },
  );

  /** Whoever may push to one of the job's target repositories may follow it. */
  async function mayFollow(principal: Principal, job: ImportJob): Promise<boolean> {
    const repositories = [...job.targetTags.map((image) => image.slice(0, image.lastIndexOf(':'))), ...job.untaggedTargetRepositories];
    for (const repository of repositories) {
      if (await authorizer.authorize(principal, job.registry, repository, 'push')) return true;
    }
    return false;
  }

  async function authorizeInstallationSource(request: FastifyRequest, plan: ImportPlan, caller: Principal): Promise<void> {
    const sourceRegistry = plan.sourceRegistry!;
    const repository = plan.source.repository;
    const credentials = plan.request.credentials;
    let reader = caller;
    if (credentials) {
      try {
        reader = await authenticator.verifyPassword(credentials.username, credentials.password, { registry: sourceRegistry, address: request.ip });
      } catch (error) {
        if (error instanceof AuthError) throw new ProblemError(400, 'Invalid request', `the source registry ${sourceRegistry} refused the user name and password`);
        throw error;
      }
    }
    if (!(await authorizer.authorize(reader, sourceRegistry, repository, 'pull'))) {
      throw forbidden(`${credentials ? 'the source credentials' : 'the caller'} may not pull ${repository} from registry ${sourceRegistry}`);
    }
  }
}

/** The request as the events of the import's writes name it. */
function originOf(request: FastifyRequest, principal: Principal): ChangeOrigin {
  return {
    requestId: randomUUID(),
    host: request.headers.host ?? '',
    method: request.method,
    userAgent: request.headers['user-agent'] ?? '',
    address: request.ip,
    actor: principalName(principal),
    ...runOrigin(principal),
  };
}

async function planOf(imports: ImportService, registry: string, body: ImportBody, origin: ChangeOrigin): Promise<ImportPlan> {
  const { sourceImage, registryUri, resourceId, credentials } = body.source;
  if (registryUri !== undefined && resourceId !== undefined) throw new ProblemError(400, 'Invalid request', 'give the source registry as registryUri or resourceId, not both');
  const request: ImportRequest = {
    registry,
    source: registryUri !== undefined ? `${registryUri.replace(/\/+$/, '')}/${sourceImage}` : sourceImage,
    ...(resourceId !== undefined && { sourceRegistry: resourceId.slice('/registries/'.length) }),
    targetTags: body.targetTags ?? [],
    untaggedTargetRepositories: body.untaggedTargetRepositories ?? [],
    force: body.mode === 'Force',
    ...(credentials && { credentials }),
    origin,
  };
  try {
    return await imports.plan(request);
  } catch (error) {
    if (error instanceof ImportError || error instanceof RegistryError) throw new ProblemError(400, 'Invalid import', error.message);
    throw error;
  }
}
