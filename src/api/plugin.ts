/**
 * The management REST API under `/mgmt/v1/`: JSON in and out, `application/problem+json` errors,
 * every route authenticated and authorized by the action it declares (see `access.ts`).
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import type { IdentityService } from '../auth/identity-service.ts';
import type { Authenticator, Authorizer, TokenIssuer } from '../auth/services.ts';
import type { ImportService } from '../import/import-service.ts';
import type { CallerResolver } from '../oauth/callers.ts';
import type { PurgeService } from '../purge/purge-service.ts';
import type { GarbageCollector } from '../services/gc.ts';
import type { RegistryDirectory } from '../services/registry-directory.ts';
import type { UsageService } from '../services/usage.ts';
import type { WebhookService } from '../services/webhooks.ts';
import type { SecretVault } from '../tasks/secrets/secret-vault.ts';
import type { TaskService } from '../tasks/task-service.ts';
import type { TaskTriggerService } from '../tasks/task-trigger-service.ts';
import { installManagementAccess } from './access.ts';
import { gcApi } from './gc.ts';
import { gitWebhooksApi, type GitWebhooksApiOptions } from './git-webhooks.ts';
import { importsApi } from './imports.ts';
import { mirrorsApi } from './mirrors.ts';
import type { MirrorService } from '../mirrors/mirror-service.ts';
import { problemOf, sendProblem } from './problem.ts';
import { purgeApi } from './purge.ts';
import { quarantinePolicyApi, type QuarantinePolicyApiOptions } from './quarantine-policy.ts';
import { retentionPolicyApi, type RetentionPolicyApiOptions } from './retention-policy.ts';
import { registriesApi } from './registries.ts';
import { runsApi } from './runs.ts';
import { secretsApi } from './secrets.ts';
import { roleAssignmentsApi } from './role-assignments.ts';
import { scopeMapsApi } from './scope-maps.ts';
import { servicePrincipalsApi } from './service-principals.ts';
import { signingKeysApi } from './signing-keys.ts';
import { tasksApi } from './tasks.ts';
import { taskTriggersApi } from './task-triggers.ts';
import { tokensApi } from './tokens.ts';
import { usageApi } from './usage.ts';
import { usersApi } from './users.ts';
import { webhooksApi } from './webhooks.ts';

export interface ManagementApiOptions {
  directory: RegistryDirectory;
  identity: IdentityService;
  authorizer: Authorizer;
  tokens: TokenIssuer;
  callers: CallerResolver;
  /** The `:port` suffix of login servers ('' for the default port of the scheme). */
  portSuffix: () => string;
  /** Default grace period of a signing key rotation. */
  refreshTokenSeconds: number;
  webhooks: WebhookService;
  authenticator: Authenticator;
  imports: ImportService;
  gc: GarbageCollector;
  usage: UsageService;
  purge: PurgeService;
  quarantinePolicies: QuarantinePolicyApiOptions['policies'];
  retentionPolicies: RetentionPolicyApiOptions['policies'];
  tasks?: TaskService;
  /** Timers and the git webhook's secret (with `tasks`). */
  taskTriggers?: TaskTriggerService;
  /** The commit trigger's webhook endpoint for git hosts. */
  gitWebhooks?: GitWebhooksApiOptions;
  secrets?: SecretVault;
  mirrors?: MirrorService;
}

export async function managementApi(app: FastifyInstance, options: ManagementApiOptions): Promise<void> {
  const { directory, identity, authorizer, tokens, callers } = options;

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const problem = problemOf(error);
    if (problem) return sendProblem(reply, problem.status, problem.title, problem.detail, problem.headers);
    if (error.validation) return sendProblem(reply, 400, 'Invalid request', error.message);
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) request.log.error({ err: error, method: request.method, url: request.routeOptions.url }, 'management request failed');
    sendProblem(reply, status, status === 500 ? 'Internal server error' : error.message);
  });
  app.setNotFoundHandler((request, reply) => sendProblem(reply, 404, 'Not found', `no endpoint matches ${request.method} ${request.url.split('?', 1)[0]}`));

  installManagementAccess(app, { callers, authorizer, directory });

  app.get(
    '/openapi.json',
    {
      config: { access: 'public' },
      schema: { summary: 'This OpenAPI document: /mgmt/v1, /acr/v1 and /oauth2', tags: ['openapi'] },
    },
    async () => app.swagger(),
  );

  await app.register(registriesApi, { directory, identity, authorizer, portSuffix: options.portSuffix });
  await app.register(usersApi, { identity });
  await app.register(servicePrincipalsApi, { identity });
  await app.register(roleAssignmentsApi, { identity, authorizer });
  await app.register(scopeMapsApi, { identity });
  await app.register(tokensApi, { identity });
  await app.register(signingKeysApi, { tokens, defaultGraceSeconds: options.refreshTokenSeconds });
  await app.register(webhooksApi, { webhooks: options.webhooks });
  await app.register(importsApi, { directory, authorizer, authenticator: options.authenticator, imports: options.imports });
  await app.register(gcApi, { gc: options.gc });
  await app.register(usageApi, { usage: options.usage });
  await app.register(purgeApi, { purge: options.purge, directory, authorizer });
  await app.register(quarantinePolicyApi, { policies: options.quarantinePolicies });
  await app.register(retentionPolicyApi, { policies: options.retentionPolicies });
  if (options.tasks) {
    await app.register(tasksApi, { tasks: options.tasks });
    await app.register(runsApi, { tasks: options.tasks });
    if (options.taskTriggers) await app.register(taskTriggersApi, { triggers: options.taskTriggers });
  }
  // Its own plugin context: it reads request bodies as raw bytes, to check their signatures.
  if (options.gitWebhooks) await app.register(gitWebhooksApi, options.gitWebhooks);
  if (options.secrets) await app.register(secretsApi, { secrets: options.secrets });
  if (options.mirrors) await app.register(mirrorsApi, { mirrors: options.mirrors, authorizer });
}
