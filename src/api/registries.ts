/**
 * `/mgmt/v1/registries`: create, list, show, update and delete registries (`az acr
 * create|list|show|update|delete`) and their admin user's credentials (`az acr credential`).
 */
import type { FastifyInstance } from 'fastify';
import type { IdentityService, RegistrySettings } from '../auth/identity-service.ts';
import type { Authorizer } from '../auth/services.ts';
import type { RegistryRecord } from '../meta/meta-store.ts';
import { RegistryExistsError } from '../meta/meta-store.ts';
import { RegistryNameError, type RegistryDirectory } from '../services/registry-directory.ts';
import { principalOf } from './access.ts';
import { ProblemError } from './problem.ts';
import { adminCredentialSchemas, listOf, problemResponses, registryParams, registrySchema, skuNames } from './schemas.ts';

/** ACR's registry shape, as `az acr show` prints it. */
export interface RegistryView {
  id: string;
  name: string;
  loginServer: string;
  location: string | null;
  resourceGroup: string | null;
  sku: { name: string; tier: string };
  adminUserEnabled: boolean;
  anonymousPullEnabled: boolean;
  creationDate: string;
  provisioningState: 'Succeeded';
  type: 'Berth/registries';
  policies: Record<string, never>;
}

export function registryView(record: RegistryRecord, settings: RegistrySettings, loginServer: string): RegistryView {
  return {
    id: `/registries/${record.name}`,
    name: record.name,
    loginServer,
    location: settings.location,
    resourceGroup: settings.resourceGroup,
    sku: { name: settings.sku, tier: settings.sku },
    adminUserEnabled: settings.adminUserEnabled,
    anonymousPullEnabled: settings.anonymousPullEnabled,
    creationDate: record.createdAt,
    provisioningState: 'Succeeded',
    type: 'Berth/registries',
    policies: {},
  };
}

export interface RegistriesApiOptions {
  directory: RegistryDirectory;
  identity: IdentityService;
  authorizer: Authorizer;
  /** The `:port` suffix of login servers ('' for the default port of the scheme). */
  portSuffix: () => string;
}

interface CreateBody {
  name: string;
  sku?: RegistrySettings['sku'];
  adminUserEnabled?: boolean;
  anonymousPullEnabled?: boolean;
  resourceGroup?: string;
  location?: string;
}

type UpdateBody = Pick<CreateBody, 'sku' | 'adminUserEnabled' | 'anonymousPullEnabled'>;

const settingsProperties = {
  sku: { type: 'string', enum: skuNames },
  adminUserEnabled: { type: 'boolean' },
  anonymousPullEnabled: { type: 'boolean' },
} as const;

const labelProperty = { type: 'string', maxLength: 90, pattern: '^[A-Za-z0-9._()-]*$' } as const;

function notFound(name: string): ProblemError {
  return new ProblemError(404, 'Registry not found', `registry ${name} does not exist`);
}

export async function registriesApi(app: FastifyInstance, { directory, identity, authorizer, portSuffix }: RegistriesApiOptions): Promise<void> {
  const view = async (record: RegistryRecord): Promise<RegistryView> =>
    registryView(record, await identity.getRegistrySettings(record.name), `${directory.loginServer(record.name)}${portSuffix()}`);

  const existing = async (name: string): Promise<RegistryRecord> => {
    const record = await directory.get(name);
    if (!record) throw notFound(name);
    return record;
  };

  app.get(
    '/registries',
    {
      config: { access: 'authenticated' },
      schema: { summary: 'List the registries the caller can read (az acr list)', tags: ['registries'], response: { 200: listOf(registrySchema), ...problemResponses } },
    },
    async (request) => {
      const readable: RegistryView[] = [];
      for (const record of await directory.list()) {
        if (await authorizer.authorize(principalOf(request), record.name, undefined, 'read_registry')) readable.push(await view(record));
      }
      return { value: readable };
    },
  );

  app.post<{ Body: CreateBody }>(
    '/registries',
    {
      config: { access: { action: 'manage_installation' } },
      schema: {
        summary: 'Create a registry (az acr create)',
        tags: ['registries'],
        body: {
          type: 'object',
          properties: { name: { type: 'string' }, ...settingsProperties, resourceGroup: labelProperty, location: labelProperty },
          required: ['name'],
          additionalProperties: false,
        },
        response: { 201: registrySchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const { name, ...settings } = request.body;
      let record: RegistryRecord;
      try {
        record = await directory.create(name);
      } catch (error) {
        if (error instanceof RegistryNameError) throw new ProblemError(400, 'Invalid registry name', error.message);
        if (error instanceof RegistryExistsError) throw new ProblemError(409, 'Registry already exists', error.message);
        throw error;
      }
      if (Object.keys(settings).length > 0) await identity.updateRegistrySettings(name, settings);
      reply.code(201);
      return view(record);
    },
  );

  app.get<{ Params: { registry: string } }>(
    '/registries/:registry',
    {
      config: { access: { action: 'read_registry' } },
      schema: { summary: 'Show a registry (az acr show)', tags: ['registries'], params: registryParams, response: { 200: registrySchema, ...problemResponses } },
    },
    async (request) => view(await existing(request.params.registry)),
  );

  app.patch<{ Params: { registry: string }; Body: UpdateBody }>(
    '/registries/:registry',
    {
      config: { access: { action: 'manage_registry' } },
      schema: {
        summary: 'Update a registry (az acr update)',
        tags: ['registries'],
        params: registryParams,
        body: { type: 'object', properties: settingsProperties, additionalProperties: false },
        response: { 200: registrySchema, ...problemResponses },
      },
    },
    async (request) => {
      const record = await existing(request.params.registry);
      await identity.updateRegistrySettings(record.name, request.body);
      return view(record);
    },
  );

  app.delete<{ Params: { registry: string } }>(
    '/registries/:registry',
    {
      config: { access: { action: 'manage_installation' } },
      schema: { summary: 'Delete a registry and everything in it (az acr delete)', tags: ['registries'], params: registryParams, response: { 204: { type: 'null' }, ...problemResponses } },
    },
    async (request, reply) => {
      try {
        if (!(await directory.delete(request.params.registry))) throw notFound(request.params.registry);
      } catch (error) {
        if (error instanceof RegistryNameError) throw new ProblemError(400, 'Registry cannot be deleted', error.message);
        throw error;
      }
      reply.code(204).send();
    },
  );

  app.get<{ Params: { registry: string } }>(
    '/registries/:registry/credentials',
    {
      config: { access: { action: 'manage_registry' } },
      schema: {
        summary: "Show the admin user's name and password dates, never the values (az acr credential show)",
        tags: ['registries'],
        params: registryParams,
        response: { 200: adminCredentialSchemas.shown, ...problemResponses },
      },
    },
    async (request) => {
      await existing(request.params.registry);
      return identity.showAdminCredential(request.params.registry);
    },
  );

  app.post<{ Params: { registry: string }; Body: { name: 'password' | 'password2' } }>(
    '/registries/:registry/credentials/renew',
    {
      config: { access: { action: 'manage_registry' } },
      schema: {
        summary: "Regenerate one of the admin user's passwords; the response carries its new value (az acr credential renew)",
        tags: ['registries'],
        params: registryParams,
        body: { type: 'object', properties: { name: { type: 'string', enum: ['password', 'password2'] } }, required: ['name'], additionalProperties: false },
        response: { 200: adminCredentialSchemas.renewed, ...problemResponses },
      },
    },
    async (request) => {
      await existing(request.params.registry);
      return identity.renewAdminPassword(request.params.registry, request.body.name);
    },
  );
}
