/**
 * `/mgmt/v1/vaults/{vault}/secrets` (`berth secret set|show|list|delete`): the installation's
 * secrets, in the shapes of `az keyvault secret` (`id`, `name`, `value`, `contentType`,
 * `attributes`). Only `show` (and `set`, which was just given it) answers a value. Everything
 * needs `manage_installation`.
 */
import type { FastifyInstance } from 'fastify';
import type { SecretVault, SecretView } from '../tasks/secrets/secret-vault.ts';
import { ProblemError } from './problem.ts';
import { listOf, problemResponses } from './schemas.ts';

export interface SecretsApiOptions {
  secrets: SecretVault;
}

type VaultParams = { vault: string };
type SecretParams = { vault: string; name: string };

const manageInstallation = { access: { action: 'manage_installation' } } as const;
const tags = ['secrets'];

const string = { type: 'string' } as const;
const nullableString = { type: ['string', 'null'] } as const;

/** Key Vault's naming rules: vaults 3-24, secrets 1-127 letters, digits and '-'. */
const vaultName = { type: 'string', pattern: '^[A-Za-z0-9-]{3,24}$', description: 'vault name: 3-24 letters, digits and -' } as const;
const secretName = { type: 'string', pattern: '^[A-Za-z0-9-]{1,127}$', description: 'secret name: 1-127 letters, digits and -' } as const;
const vaultParams = { type: 'object', properties: { vault: vaultName }, required: ['vault'] } as const;
const secretParams = { type: 'object', properties: { vault: vaultName, name: secretName }, required: ['vault', 'name'] } as const;

const secretSchema = {
  type: 'object',
  properties: {
    id: { ...string, description: 'https://<vault>.vault.azure.net/secrets/<name>/<version>; usable as a secret URI, as is vault://<vault>/<name>' },
    name: string,
    vault: string,
    version: string,
    value: { ...string, description: 'only from show and set' },
    contentType: nullableString,
    attributes: { type: 'object', properties: { enabled: { type: 'boolean' }, created: string, updated: string } },
  },
} as const;

interface SecretBody {
  id: string;
  name: string;
  vault: string;
  version: string;
  value?: string;
  contentType: string | null;
  attributes: { enabled: true; created: string; updated: string };
}

function secretBody(secret: SecretView): SecretBody {
  return {
    id: secret.id,
    name: secret.name,
    vault: secret.vault,
    version: secret.version,
    ...(secret.value !== undefined && { value: secret.value }),
    contentType: secret.contentType,
    attributes: { enabled: true, created: secret.createdAt, updated: secret.updatedAt },
  };
}

function notFound({ vault, name }: SecretParams): ProblemError {
  return new ProblemError(404, 'Secret not found', `vault ${vault} has no secret ${name}`);
}

export async function secretsApi(app: FastifyInstance, { secrets }: SecretsApiOptions): Promise<void> {
  app.get<{ Params: VaultParams }>(
    '/vaults/:vault/secrets',
    {
      config: manageInstallation,
      schema: { summary: "List a vault's secrets, without their values (az keyvault secret list)", tags, params: vaultParams, response: { 200: listOf(secretSchema), ...problemResponses } },
    },
    async (request) => ({ value: (await secrets.list(request.params.vault)).map((secret) => secretBody({ ...secret, value: undefined })) }),
  );

  app.get<{ Params: SecretParams }>(
    '/vaults/:vault/secrets/:name',
    {
      config: manageInstallation,
      schema: { summary: 'Show a secret with its value (az keyvault secret show)', tags, params: secretParams, response: { 200: secretSchema, ...problemResponses } },
    },
    async (request) => {
      const secret = await secrets.show(request.params.vault, request.params.name);
      if (!secret) throw notFound(request.params);
      return secretBody(secret);
    },
  );

  app.put<{ Params: SecretParams; Body: { value: string; contentType?: string } }>(
    '/vaults/:vault/secrets/:name',
    {
      config: manageInstallation,
      schema: {
        summary: "Set a secret's value, creating the secret or a new version of it (az keyvault secret set)",
        tags,
        params: secretParams,
        body: {
          type: 'object',
          properties: { value: { type: 'string', maxLength: 25600 }, contentType: { type: 'string', maxLength: 255 } },
          required: ['value'],
          additionalProperties: false,
        },
        response: { 200: secretSchema, ...problemResponses },
      },
    },
    async (request) => {
      const { vault, name } = request.params;
      const secret = await secrets.set(vault, name, request.body.value, request.body.contentType);
      return secretBody(secret);
    },
  );

  app.delete<{ Params: SecretParams }>(
    '/vaults/:vault/secrets/:name',
    {
      config: manageInstallation,
      schema: { summary: 'Delete a secret (az keyvault secret delete)', tags, params: secretParams, response: { 204: { type: 'null' }, ...problemResponses } },
    },
    async (request, reply) => {
      if (!(await secrets.delete(request.params.vault, request.params.name))) throw notFound(request.params);
      reply.code(204).send();
    },
  );
}
