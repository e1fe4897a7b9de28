/**
 * `/mgmt/v1/registries/{registry}/usage` (`berth show-usage`) and the registry's storage quota
 * (`berth update --storage-quota`), which only the installation's owners set.
 */
import type { FastifyInstance } from 'fastify';
import type { UsageService } from '../services/usage.ts';
import { ProblemError } from './problem.ts';
import { problemResponses, registryParams } from './schemas.ts';

export interface UsageApiOptions {
  usage: Pick<UsageService, 'show' | 'setStorageQuota'>;
}

const usageSchema = {
  type: 'object',
  properties: {
    value: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          limit: { type: ['integer', 'null'] },
          currentValue: { type: 'integer' },
          unit: { type: 'string', enum: ['Bytes', 'Count'] },
        },
      },
    },
  },
} as const;

const quotaSchema = { type: 'object', properties: { storageQuotaBytes: { type: 'integer' } } } as const;

function notFound(name: string): ProblemError {
  return new ProblemError(404, 'Registry not found', `registry ${name} does not exist`);
}

export async function usageApi(app: FastifyInstance, { usage }: UsageApiOptions): Promise<void> {
  app.get<{ Params: { registry: string } }>(
    '/registries/:registry/usage',
    {
      config: { access: { action: 'read_registry' } },
      schema: {
        summary: "Show a registry's storage (each blob counted once), quota and counts (az acr show-usage)",
        tags: ['registries'],
        params: registryParams,
        response: { 200: usageSchema, ...problemResponses },
      },
    },
    async (request) => {
      const shown = await usage.show(request.params.registry);
      if (!shown) throw notFound(request.params.registry);
      return shown;
    },
  );

  app.put<{ Params: { registry: string }; Body: { storageQuotaBytes: number } }>(
    '/registries/:registry/storage-quota',
    {
      config: { access: { action: 'manage_installation' } },
      schema: {
        summary: "Set a registry's storage quota in bytes; pushes that would exceed it are refused (a SKU change resets it to the SKU's)",
        tags: ['registries'],
        params: registryParams,
        body: {
          type: 'object',
          properties: { storageQuotaBytes: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } },
          required: ['storageQuotaBytes'],
          additionalProperties: false,
        },
        response: { 200: quotaSchema, ...problemResponses },
      },
    },
    async (request) => {
      const { registry } = request.params;
      if (!(await usage.setStorageQuota(registry, request.body.storageQuotaBytes))) throw notFound(registry);
      return { storageQuotaBytes: request.body.storageQuotaBytes };
    },
  );
}
