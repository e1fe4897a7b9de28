/**
 * `/mgmt/v1/registries/{registry}/policies/retention` (`berth config retention show|update`):
 * while enabled, manifests left untagged for `days` (0 = at once) are deleted by the retention
 * job; only those untagged after the policy was enabled, unless `includeExisting`.
 */
import type { FastifyInstance } from 'fastify';
import type { RetentionPolicy, RetentionPolicyChanges, RetentionStore } from '../meta/retention-store.ts';
import { ProblemError } from './problem.ts';
import { problemResponses, registryParams } from './schemas.ts';

export interface RetentionPolicyApiOptions {
  policies: Pick<RetentionStore, 'retentionPolicy' | 'setRetentionPolicy'>;
}

const policySchema = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['enabled', 'disabled'] },
    days: { type: 'integer', minimum: 0, maximum: 365 },
    type: { type: 'string', enum: ['UntaggedManifests'] },
    includeExisting: { type: 'boolean' },
    enabledAt: { type: ['string', 'null'], description: 'when the policy was last enabled' },
  },
} as const;

const changesSchema = {
  type: 'object',
  properties: {
    status: policySchema.properties.status,
    days: policySchema.properties.days,
    type: policySchema.properties.type,
    includeExisting: policySchema.properties.includeExisting,
  },
  additionalProperties: false,
} as const;

function notFound(name: string): ProblemError {
  return new ProblemError(404, 'Registry not found', `registry ${name} does not exist`);
}

export async function retentionPolicyApi(app: FastifyInstance, { policies }: RetentionPolicyApiOptions): Promise<void> {
  app.get<{ Params: { registry: string } }>(
    '/registries/:registry/policies/retention',
    {
      config: { access: { action: 'read_registry' } },
      schema: {
        summary: "Show a registry's retention policy for untagged manifests (az acr config retention show)",
        tags: ['registries'],
        params: registryParams,
        response: { 200: policySchema, ...problemResponses },
      },
    },
    async (request): Promise<RetentionPolicy> => {
      const policy = await policies.retentionPolicy(request.params.registry);
      if (!policy) throw notFound(request.params.registry);
      return policy;
    },
  );

  app.put<{ Params: { registry: string }; Body: RetentionPolicyChanges & { type?: 'UntaggedManifests' } }>(
    '/registries/:registry/policies/retention',
    {
      config: { access: { action: 'manage_registry' } },
      schema: {
        summary: "Change a registry's retention policy for untagged manifests (az acr config retention update)",
        tags: ['registries'],
        params: registryParams,
        body: changesSchema,
        response: { 200: policySchema, ...problemResponses },
      },
    },
    async (request): Promise<RetentionPolicy> => {
      const { status, days, includeExisting } = request.body;
      const policy = await policies.setRetentionPolicy(request.params.registry, { status, days, includeExisting });
      if (!policy) throw notFound(request.params.registry);
      return policy;
    },
  );
}
