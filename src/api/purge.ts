/**
 * `/mgmt/v1/registries/{registry}/purge`: `berth purge`, acr purge's semantics, run by the server.
 * As acr purge, it needs delete rights (with `includeLocked`, metadata write rights too) on every
 * repository it covers — which a task run's own credential has on its registry — rather than the
 * right to manage the registry.
 */
import type { FastifyInstance } from 'fastify';
import type { Authorizer } from '../auth/services.ts';
import { PurgeInputError } from '../purge/filter.ts';
import { MAX_CONCURRENCY, PurgeForbiddenError, type PurgeRequest, type PurgeService } from '../purge/purge-service.ts';
import type { RegistryDirectory } from '../services/registry-directory.ts';
import { forbidden, principalOf } from './access.ts';
import { ProblemError } from './problem.ts';
import { problemResponses, registryParams } from './schemas.ts';

export interface PurgeApiOptions {
  purge: Pick<PurgeService, 'run'>;
  directory: Pick<RegistryDirectory, 'get'>;
  authorizer: Authorizer;
}

const string = { type: 'string' } as const;

const purgeRequestSchema = {
  type: 'object',
  properties: {
    filters: { type: 'array', items: string, description: "'<repository-regex>:<tag-regex>'; the repository part is anchored, the tag part is searched" },
    ago: { type: 'string', description: '[N]d followed by a Go duration, e.g. 2d3h6m or 0d; tags (and untagged manifests) last updated before now minus this are deleted' },
    keep: { type: 'integer', minimum: 0, description: 'keep the N most recently updated of the matching tags' },
    untagged: { type: 'boolean', description: 'also delete manifests left without tags' },
    untaggedOnly: { type: 'boolean', description: 'delete only untagged manifests, no tags' },
    dryRun: { type: 'boolean' },
    includeLocked: { type: 'boolean', description: 'unlock (deleteEnabled, writeEnabled) and delete locked tags and manifests' },
    concurrency: { type: 'integer', minimum: 1, maximum: MAX_CONCURRENCY },
  },
  additionalProperties: false,
} as const;

const purgeReportSchema = {
  type: 'object',
  properties: {
    registry: string,
    dryRun: { type: 'boolean' },
    startedAt: string,
    finishedAt: string,
    tags: { type: 'array', items: { type: 'object', properties: { repository: string, tag: string, digest: string } } },
    manifests: { type: 'array', items: { type: 'object', properties: { repository: string, digest: string, reason: { type: 'string', enum: ['untagged', 'referrer'] } } } },
    failed: { type: 'array', items: { type: 'object', properties: { repository: string, tag: string, digest: string, error: string } } },
  },
} as const;

export async function purgeApi(app: FastifyInstance, { purge, directory, authorizer }: PurgeApiOptions): Promise<void> {
  app.post<{ Params: { registry: string }; Body: PurgeRequest }>(
    '/registries/:registry/purge',
    {
      config: { access: 'authenticated' },
      schema: {
        summary: 'Delete tags and untagged manifests by filter and age (acr purge); with dryRun, list exactly what a run would delete',
        tags: ['registries'],
        params: registryParams,
        body: purgeRequestSchema,
        response: { 200: purgeReportSchema, ...problemResponses },
      },
    },
    async (request) => {
      const { registry } = request.params;
      const principal = principalOf(request);
      if (!(await directory.get(registry))) throw new ProblemError(404, 'Registry not found', `registry ${registry} does not exist`);
      try {
        // Unlocking (--include-locked) changes attributes, which needs metadata write rights too.
        const mayDelete = async (repository: string) =>
          (await authorizer.authorize(principal, registry, repository, 'delete')) &&
          (request.body.includeLocked !== true || (await authorizer.authorize(principal, registry, repository, 'metadata_write')));
        return await purge.run(registry, request.body, mayDelete);
      } catch (error) {
        if (error instanceof PurgeInputError) throw new ProblemError(400, 'Invalid purge', error.message);
        if (error instanceof PurgeForbiddenError) throw forbidden(error.message);
        throw error;
      }
    },
  );
}
