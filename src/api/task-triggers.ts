/**
 * `/mgmt/v1/registries/{registry}/tasks/{name}/timers` (`berth task timer add|update|remove|list`,
 * as `az acr task timer`) and `.../webhook` (`berth task show-webhook`: the URL and secret a git
 * host's push webhook needs). Listing timers needs `read_registry`; changing them, and reading
 * the webhook secret, `manage_registry`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TaskTriggerService, TimerChanges, TimerInput } from '../tasks/task-trigger-service.ts';
import { gitWebhookPath } from './git-webhooks.ts';
import { listOf, problemResponses, registryNameParam } from './schemas.ts';
import { taskAnswer, taskNameParam, taskParams, taskSchema, timerSchema } from './task-schemas.ts';

export interface TaskTriggersApiOptions {
  triggers: TaskTriggerService;
}

type Params = { registry: string; name: string };
type TimerParams = Params & { timer: string };

const readRegistry = { access: { action: 'read_registry' } } as const;
const manageRegistry = { access: { action: 'manage_registry' } } as const;
const tags = ['tasks'];

const timerNameParam = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,49}$', description: 'timer name, e.g. t1' } as const;
const timerParams = {
  type: 'object',
  properties: { registry: registryNameParam, name: taskNameParam, timer: timerNameParam },
  required: ['registry', 'name', 'timer'],
} as const;
const scheduleInput = { type: 'string', minLength: 1, maxLength: 200, description: '5-field cron in UTC ("[name:]cron" when adding), e.g. "0 2 * * *"' } as const;

const webhookSchema = {
  type: 'object',
  properties: {
    url: { type: 'string', description: "where the git host sends push events (the server's address as this request reached it)" },
    secret: { type: 'string', description: "the webhook secret: GitHub's and Gitea's signing secret, GitLab's token" },
    contentType: { type: 'string', enum: ['application/json'] },
    events: { type: 'array', items: { type: 'string', enum: ['push'] } },
  },
} as const;

/** The server's base URL as the caller reached it. */
function baseUrlOf(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

export async function taskTriggersApi(app: FastifyInstance, { triggers }: TaskTriggersApiOptions): Promise<void> {
  app.get<{ Params: Params }>(
    '/registries/:registry/tasks/:name/timers',
    {
      config: readRegistry,
      schema: { summary: "List a task's timer triggers (az acr task timer list)", tags, params: taskParams, response: { 200: listOf(timerSchema), ...problemResponses } },
    },
    async (request) => ({ value: await taskAnswer(() => triggers.listTimers(request.params.registry, request.params.name)) }),
  );

  app.post<{ Params: Params; Body: TimerInput }>(
    '/registries/:registry/tasks/:name/timers',
    {
      config: manageRegistry,
      schema: {
        summary: 'Add a timer trigger to a task: a named cron schedule in UTC (az acr task timer add)',
        tags,
        params: taskParams,
        body: {
          type: 'object',
          properties: { name: timerNameParam, schedule: scheduleInput, enabled: { type: 'boolean', description: 'default true' } },
          required: ['schedule'],
          additionalProperties: false,
        },
        response: { 200: taskSchema, ...problemResponses },
      },
    },
    async (request) => taskAnswer(() => triggers.addTimer(request.params.registry, request.params.name, request.body)),
  );

  app.patch<{ Params: TimerParams; Body: TimerChanges }>(
    '/registries/:registry/tasks/:name/timers/:timer',
    {
      config: manageRegistry,
      schema: {
        summary: "Change a task's timer trigger: its schedule, or whether it is enabled (az acr task timer update)",
        tags,
        params: timerParams,
        body: { type: 'object', properties: { schedule: scheduleInput, enabled: { type: 'boolean' } }, additionalProperties: false },
        response: { 200: taskSchema, ...problemResponses },
      },
    },
    async (request) => {
      const { registry, name, timer } = request.params;
      return taskAnswer(() => triggers.updateTimer(registry, name, timer, request.body ?? {}));
    },
  );

  app.delete<{ Params: TimerParams }>(
    '/registries/:registry/tasks/:name/timers/:timer',
    {
      config: manageRegistry,
      schema: { summary: "Remove a task's timer trigger (az acr task timer remove)", tags, params: timerParams, response: { 200: taskSchema, ...problemResponses } },
    },
    async (request) => {
      const { registry, name, timer } = request.params;
      return taskAnswer(() => triggers.removeTimer(registry, name, timer));
    },
  );

  app.get<{ Params: Params }>(
    '/registries/:registry/tasks/:name/webhook',
    {
      config: manageRegistry,
      schema: {
        summary: "The URL and secret of a task's git push webhook (GitHub, GitLab, Gitea), for the repository's webhook settings",
        tags,
        params: taskParams,
        response: { 200: webhookSchema, ...problemResponses },
      },
    },
    async (request) => {
      const { registry, name } = request.params;
      const secret = await taskAnswer(() => triggers.gitWebhookSecret(registry, name));
      return { url: `${baseUrlOf(request)}${gitWebhookPath(registry, name)}`, secret, contentType: 'application/json', events: ['push'] };
    },
  );
}
