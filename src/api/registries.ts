/** `/mgmt/v1/registries`: create, list, show and delete registries (as `az acr create|list|show|delete`). */
import type { FastifyInstance } from 'fastify';
import type { RegistryRecord } from '../meta/meta-store.ts';
import { RegistryExistsError } from '../meta/meta-store.ts';
import { RegistryNameError, type RegistryDirectory } from '../services/registry-directory.ts';
import { ProblemError } from './problem.ts';

/** ACR's registry shape, as `az acr show` prints it. */
export interface RegistryView {
  id: string;
  name: string;
  loginServer: string;
  sku: { name: string; tier: string };
  adminUserEnabled: boolean;
  anonymousPullEnabled: boolean;
  creationDate: string;
  provisioningState: string;
  type: string;
}

const registryViewSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    loginServer: { type: 'string' },
    sku: { type: 'object', properties: { name: { type: 'string' }, tier: { type: 'string' } } },
    adminUserEnabled: { type: 'boolean' },
    anonymousPullEnabled: { type: 'boolean' },
    creationDate: { type: 'string' },
    provisioningState: { type: 'string' },
    type: { type: 'string' },
  },
} as const;

const nameParams = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } as const;

export function registryView(record: RegistryRecord, directory: RegistryDirectory, portSuffix: string): RegistryView {
  return {
    id: `/registries/${record.name}`,
    name: record.name,
    loginServer: `${directory.loginServer(record.name)}${portSuffix}`,
    sku: { name: 'Standard', tier: 'Standard' },
    adminUserEnabled: false,
    anonymousPullEnabled: false,
    creationDate: record.createdAt,
    provisioningState: 'Succeeded',
    type: 'Berth/registries',
  };
}

export interface RegistriesApiOptions {
  directory: RegistryDirectory;
  /** The `:port` suffix of login servers ('' for the default port of the scheme). */
  portSuffix: () => string;
}

export async function registriesApi(app: FastifyInstance, { directory, portSuffix }: RegistriesApiOptions): Promise<void> {
  const view = (record: RegistryRecord) => registryView(record, directory, portSuffix());

  app.get('/registries', { schema: { response: { 200: { type: 'object', properties: { value: { type: 'array', items: registryViewSchema } } } } } }, async () => ({
    value: (await directory.list()).map(view),
  }));

  app.post<{ Body: { name: string } }>(
    '/registries',
    {
      schema: {
        body: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'], additionalProperties: false },
        response: { 201: registryViewSchema },
      },
    },
    async (request, reply) => {
      try {
        const record = await directory.create(request.body.name);
        reply.code(201);
        return view(record);
      } catch (error) {
        if (error instanceof RegistryNameError) throw new ProblemError(400, 'Invalid registry name', error.message);
        if (error instanceof RegistryExistsError) throw new ProblemError(409, 'Registry already exists', error.message);
        throw error;
      }
    },
  );

  app.get<{ Params: { name: string } }>('/registries/:name', { schema: { params: nameParams, response: { 200: registryViewSchema } } }, async (request) => {
    const record = await directory.get(request.params.name);
    if (!record) throw new ProblemError(404, 'Registry not found', `registry ${request.params.name} does not exist`);
    return view(record);
  });

  app.delete<{ Params: { name: string } }>('/registries/:name', { schema: { params: nameParams } }, async (request, reply) => {
    try {
      if (!(await directory.delete(request.params.name))) {
        throw new ProblemError(404, 'Registry not found', `registry ${request.params.name} does not exist`);
      }
    } catch (error) {
      if (error instanceof RegistryNameError) throw new ProblemError(400, 'Registry cannot be deleted', error.message);
      throw error;
    }
    reply.code(204).send();
  });
}
