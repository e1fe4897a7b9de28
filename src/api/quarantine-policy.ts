/**
 * `/mgmt/v1/registries/{registry}/policies/quarantine` (`berth config quarantine show|update`):
 * while enabled, manifests pushed to the registry start `Pending` and only quarantine readers may
 * pull them until an AcrQuarantineWriter marks them `Passed`.
 */
import type { FastifyInstance } from 'fastify';
import type { AttributeStore } from '../meta/attribute-store.ts';
import { ProblemError } from './problem.ts';
import { problemResponses, registryParams } from './schemas.ts';

export interface QuarantinePolicyApiOptions {
  policies: Pick<AttributeStore, 'quarantineEnabled' | 'setQuarantineEnabled'>;
}

type Status = 'enabled' | 'disabled';

const policySchema = { type: 'object', properties: { status: { type: 'string', enum: ['enabled', 'disabled'] } } } as const;

function notFound(name: string): ProblemError {
  return new ProblemError(404, 'Registry not found', `registry ${name} does not exist`);
}

function statusOf(enabled: boolean): { status: Status } {
  return { status: enabled ? 'enabled' : 'disabled' };
}

export async function quarantinePolicyApi(app: FastifyInstance, { policies }: QuarantinePolicyApiOptions): Promise<void> {
  app.get<{ Params: { registry: string } }>(
    '/registries/:registry/policies/quarantine',
    {
      config: { access: { action: 'read_registry' } },
      schema: {
        summary: "Show a registry's quarantine policy (az acr config ... quarantine)",
        tags: ['registries'],
        params: registryParams,
        response: { 200: policySchema, ...problemResponses },
      },
    },
    async (request) => {
      const enabled = await policies.quarantineEnabled(request.params.registry);
      if (enabled === undefined) throw notFound(request.params.registry);
      return statusOf(enabled);
    },
  );

  app.put<{ Params: { registry: string }; Body: { status: Status } }>(
    '/registries/:registry/policies/quarantine',
    {
      config: { access: { action: 'manage_registry' } },
      schema: {
        summary: "Enable or disable a registry's quarantine policy",
        tags: ['registries'],
        params: registryParams,
        body: { ...policySchema, required: ['status'], additionalProperties: false },
        response: { 200: policySchema, ...problemResponses },
      },
    },
    async (request) => {
      const enabled = await policies.setQuarantineEnabled(request.params.registry, request.body.status === 'enabled');
      if (enabled === undefined) throw notFound(request.params.registry);
      return statusOf(enabled);
    },
  );
}
