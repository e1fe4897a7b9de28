/**
 * `/mgmt/v1/registries/{registry}/tasks` (`berth task create|update|show|list|delete|run|
 * stop-detached|credential ...`). Reading tasks needs `read_registry`; changing them and running
 * them needs `manage_registry`. Secret values and passwords are write-only.
 */
import type { FastifyInstance } from 'fastify';
import type { CredentialInput, RunTaskInput, TaskChanges, TaskInput, TaskService } from '../tasks/task-service.ts';
import { principalOf } from './access.ts';
import { listOf, problemResponses, registryNameParam, registryParams } from './schemas.ts';
import { platformInput, runBody, runSchema, taskAnswer, taskNameParam, taskParams, taskSchema, timeoutInput, triggerInputFields, valuesInput } from './task-schemas.ts';

export interface TasksApiOptions {
  tasks: TaskService;
}

type Params = { registry: string; name: string };
type CredentialParams = Params & { loginServer: string };

const readRegistry = { access: { action: 'read_registry' } } as const;
const manageRegistry = { access: { action: 'manage_registry' } } as const;
const tags = ['tasks'];

const loginServerParam = { type: 'string', pattern: '^[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?$', description: 'login server of a registry, e.g. docker.io or contoso.localhost:5000' } as const;
const credentialParams = {
  type: 'object',
  properties: { registry: registryNameParam, name: taskNameParam, loginServer: loginServerParam },
  required: ['registry', 'name', 'loginServer'],
} as const;

const secretOrText = (description: string) => ({ type: 'string', minLength: 1, maxLength: 8192, description }) as const;

/** The fields of a task definition; all optional in an update. */
const taskFields = {
  contextPath: { type: ['string', 'null'], maxLength: 4096, description: 'git URL, repository path on the server, tarball URL, or /dev/null' },
  contextAccessToken: secretOrText('git access token, clear text or a secret URI (write-only)'),
  file: { type: 'string', minLength: 1, maxLength: 1024, description: 'Dockerfile or task file (.yaml/.yml) within the context' },
  cmd: { type: 'string', minLength: 1, maxLength: 8192, description: '"<image> <args>": a one-step task' },
  imageNames: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 400 }, maxItems: 50 },
  noPush: { type: 'boolean' },
  noCache: { type: 'boolean' },
  target: { type: 'string', minLength: 1, maxLength: 256 },
  values: valuesInput,
  platform: platformInput,
  timeoutSeconds: timeoutInput,
  status: { type: 'string', enum: ['Enabled', 'Disabled'] },
  assignIdentity: { type: 'boolean', description: 'give the task its own identity (a service principal)' },
  ...triggerInputFields,
} as const;

const credentialFields = {
  username: secretOrText('user name, clear text or a secret URI'),
  password: secretOrText('password, clear text or a secret URI (write-only)'),
  useIdentity: { type: 'boolean', description: "log in with the task's identity" },
} as const;

export async function tasksApi(app: FastifyInstance, { tasks }: TasksApiOptions): Promise<void> {
  app.get<{ Params: { registry: string } }>(
    '/registries/:registry/tasks',
    { config: readRegistry, schema: { summary: "List a registry's tasks (az acr task list)", tags, params: registryParams, response: { 200: listOf(taskSchema), ...problemResponses } } },
    async (request) => ({ value: await taskAnswer(() => tasks.listTasks(request.params.registry)) }),
  );

  app.post<{ Params: { registry: string }; Body: TaskInput }>(
    '/registries/:registry/tasks',
    {
      config: manageRegistry,
      schema: {
        summary: 'Create a task: a Dockerfile build, a task file or a --cmd step (az acr task create)',
        tags,
        params: registryParams,
        body: { type: 'object', properties: { name: taskNameParam, ...taskFields }, required: ['name'], additionalProperties: false },
        response: { 201: taskSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const created = await taskAnswer(() => tasks.createTask(request.params.registry, request.body, principalOf(request)));
      reply.code(201);
      return created;
    },
  );

  app.get<{ Params: Params }>(
    '/registries/:registry/tasks/:name',
    { config: readRegistry, schema: { summary: 'Show a task (az acr task show)', tags, params: taskParams, response: { 200: taskSchema, ...problemResponses } } },
    async (request) => taskAnswer(() => tasks.getTask(request.params.registry, request.params.name)),
  );

  app.patch<{ Params: Params; Body: TaskChanges }>(
    '/registries/:registry/tasks/:name',
    {
      config: manageRegistry,
      schema: {
        summary: "Change a task's definition; fields not given are kept (az acr task update)",
        tags,
        params: taskParams,
        body: { type: 'object', properties: taskFields, additionalProperties: false },
        response: { 200: taskSchema, ...problemResponses },
      },
    },
    async (request) => taskAnswer(() => tasks.updateTask(request.params.registry, request.params.name, request.body ?? {}, principalOf(request))),
  );

  app.delete<{ Params: Params }>(
    '/registries/:registry/tasks/:name',
    { config: manageRegistry, schema: { summary: 'Delete a task; its runs stay listed (az acr task delete)', tags, params: taskParams, response: { 204: { type: 'null' }, ...problemResponses } } },
    async (request, reply) => {
      await taskAnswer(() => tasks.deleteTask(request.params.registry, request.params.name));
      reply.code(204).send();
    },
  );

  app.post<{ Params: Params; Body: CredentialInput }>(
    '/registries/:registry/tasks/:name/credentials',
    {
      config: manageRegistry,
      schema: {
        summary: "Add a registry's credential to a task: a user name and password, or the task's identity (az acr task credential add)",
        tags,
        params: taskParams,
        body: { type: 'object', properties: { loginServer: loginServerParam, ...credentialFields }, required: ['loginServer'], additionalProperties: false },
        response: { 200: taskSchema, ...problemResponses },
      },
    },
    async (request) => taskAnswer(() => tasks.addCredential(request.params.registry, request.params.name, request.body)),
  );

  app.patch<{ Params: CredentialParams; Body: Omit<CredentialInput, 'loginServer'> }>(
    '/registries/:registry/tasks/:name/credentials/:loginServer',
    {
      config: manageRegistry,
      schema: {
        summary: "Change a task's credential for a registry (az acr task credential update)",
        tags,
        params: credentialParams,
        body: { type: 'object', properties: credentialFields, additionalProperties: false },
        response: { 200: taskSchema, ...problemResponses },
      },
    },
    async (request) => {
      const { registry, name, loginServer } = request.params;
      return taskAnswer(() => tasks.updateCredential(registry, name, { ...request.body, loginServer }));
    },
  );

  app.delete<{ Params: CredentialParams }>(
    '/registries/:registry/tasks/:name/credentials/:loginServer',
    {
      config: manageRegistry,
      schema: { summary: "Remove a task's credential for a registry (az acr task credential remove)", tags, params: credentialParams, response: { 200: taskSchema, ...problemResponses } },
    },
    async (request) => {
      const { registry, name, loginServer } = request.params;
      return taskAnswer(() => tasks.removeCredential(registry, name, loginServer));
    },
  );

  app.post<{ Params: Params; Body: RunTaskInput | undefined }>(
    '/registries/:registry/tasks/:name/runs',
    {
      config: manageRegistry,
      schema: {
        summary: "Queue a run of a task, optionally overriding its values (az acr task run); follow it with the run's log",
        tags,
        params: taskParams,
        body: { type: 'object', properties: { values: valuesInput }, additionalProperties: false },
        response: { 202: runSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const { registry, name } = request.params;
      const run = await taskAnswer(() => tasks.runTask(registry, name, request.body ?? {}, principalOf(request)));
      reply.code(202).header('location', `/mgmt/v1/registries/${registry}/runs/${run.runId}`);
      return runBody(run);
    },
  );

  app.post<{ Params: Params }>(
    '/registries/:registry/tasks/:name/stop-detached',
    {
      config: manageRegistry,
      schema: {
        summary: "Stop the containers a task's runs left running (detach: true steps)",
        tags,
        params: taskParams,
        response: { 200: { type: 'object', properties: { stopped: { type: 'integer', description: 'how many containers were stopped' } } }, ...problemResponses },
      },
    },
    async (request) => ({ stopped: await taskAnswer(() => tasks.stopDetached(request.params.registry, request.params.name)) }),
  );
}
