/**
 * `/mgmt/v1/registries/{registry}/runs` and `/sources` (`berth build`, `berth run`, `berth task
 * list-runs|show-run|cancel-run|logs`): upload a build context, queue quick builds and quick
 * runs, list, show and cancel runs, and read a run's log — live while it runs. Reading needs
 * `read_registry`; uploading, queuing and cancelling need `manage_registry`.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { RunStatus } from '../meta/task-store.ts';
import type { QuickBuildInput, QuickRunInput, TaskService } from '../tasks/task-service.ts';
import { principalOf } from './access.ts';
import { ProblemError } from './problem.ts';
import { listOf, problemResponses, registryParams } from './schemas.ts';
import { platformInput, runBody, runParams, runSchema, runStatuses, taskAnswer, taskNameParam, timeoutInput, valuesInput } from './task-schemas.ts';

export interface RunsApiOptions {
  tasks: TaskService;
}

type RunParams = { registry: string; runId: string };
type QueueBody = ({ type: 'QuickBuild' } & QuickBuildInput) | ({ type: 'QuickRun' } & QuickRunInput);

const readRegistry = { access: { action: 'read_registry' } } as const;
const manageRegistry = { access: { action: 'manage_registry' } } as const;
const tags = ['runs'];

/** Context archives are gzip'd tar streams, handed to the task engine unparsed (it enforces the size limit). */
const archiveTypes = ['application/gzip', 'application/x-gzip'];

const sourceLocation = { type: 'string', minLength: 1, maxLength: 4096, description: 'upload:<id> (from POST /sources), a git URL or a tarball URL' } as const;
const accessToken = { type: 'string', minLength: 1, maxLength: 8192, description: 'git access token (write-only)' } as const;

const quickBuild = {
  type: 'object',
  title: 'QuickBuild',
  properties: {
    type: { const: 'QuickBuild' },
    sourceLocation,
    contextAccessToken: accessToken,
    dockerFilePath: { type: 'string', minLength: 1, maxLength: 1024 },
    imageNames: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 400 }, maxItems: 50 },
    buildArgs: valuesInput,
    target: { type: 'string', minLength: 1, maxLength: 256 },
    platform: platformInput,
    noPush: { type: 'boolean' },
    noCache: { type: 'boolean' },
    timeoutSeconds: timeoutInput,
  },
  required: ['type', 'sourceLocation'],
  additionalProperties: false,
} as const;

const quickRun = {
  type: 'object',
  title: 'QuickRun',
  properties: {
    type: { const: 'QuickRun' },
    sourceLocation: { ...sourceLocation, type: ['string', 'null'], description: 'as for QuickBuild, or null for no context (/dev/null)' },
    contextAccessToken: accessToken,
    taskFileContent: { type: 'string', minLength: 1, maxLength: 1048576, description: 'the text of a task file' },
    taskFilePath: { type: 'string', minLength: 1, maxLength: 1024, description: 'a task file within the context' },
    cmd: { type: 'string', minLength: 1, maxLength: 8192, description: '"<image> <args>"' },
    values: valuesInput,
    platform: platformInput,
    timeoutSeconds: timeoutInput,
  },
  required: ['type'],
  additionalProperties: false,
} as const;

/** A quick run runs exactly one of: a task file's text, a task file in the context, a command. */
function checkQuickRun(body: QuickRunInput): void {
  const given = [body.taskFileContent, body.taskFilePath, body.cmd].filter((field) => field !== undefined).length;
  if (given !== 1) throw new ProblemError(400, 'Invalid request', 'give exactly one of taskFileContent, taskFilePath and cmd');
}

export async function runsApi(app: FastifyInstance, { tasks }: RunsApiOptions): Promise<void> {
  app.addContentTypeParser(archiveTypes, (_request, payload, done) => done(null, payload));

  app.post<{ Params: { registry: string }; Body: NodeJS.ReadableStream }>(
    '/registries/:registry/sources',
    {
      config: manageRegistry,
      schema: {
        summary: 'Upload a build context (a gzip-compressed tar, streamed) for a quick build or run; answers its location',
        tags,
        params: registryParams,
        body: { content: { 'application/gzip': { schema: { description: 'gzip-compressed tar of the context folder' } } } },
        response: { 201: { type: 'object', properties: { location: { type: 'string', description: 'upload:<id>; pass as sourceLocation' } } }, ...problemResponses },
      },
    },
    async (request, reply) => {
      const type = (request.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
      if (!archiveTypes.includes(type)) throw new ProblemError(415, 'Unsupported media type', 'send the context as a gzip-compressed tar (content-type application/gzip)');
      const location = await taskAnswer(() => tasks.uploadSource(request.params.registry, request.body));
      reply.code(201);
      return { location };
    },
  );

  app.post<{ Params: { registry: string }; Body: QueueBody }>(
    '/registries/:registry/runs',
    {
      config: manageRegistry,
      schema: {
        summary: 'Queue a quick build of a Dockerfile (az acr build) or a quick run of a task file or command (az acr run)',
        tags,
        params: registryParams,
        body: { oneOf: [quickBuild, quickRun] },
        response: { 202: runSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const { registry } = request.params;
      const caller = principalOf(request);
      const { type, ...input } = request.body;
      let run;
      if (type === 'QuickBuild') {
        const build = input as QuickBuildInput;
        run = await taskAnswer(() => tasks.quickBuild(registry, { ...build, imageNames: build.imageNames ?? [] }, caller));
      } else {
        checkQuickRun(input as QuickRunInput);
        run = await taskAnswer(() => tasks.quickRun(registry, { ...(input as QuickRunInput), sourceLocation: (input as QuickRunInput).sourceLocation ?? null }, caller));
      }
      reply.code(202).header('location', `/mgmt/v1/registries/${registry}/runs/${run.runId}`);
      return runBody(run);
    },
  );

  app.get<{ Params: { registry: string }; Querystring: { task?: string; status?: RunStatus; top?: number } }>(
    '/registries/:registry/runs',
    {
      config: readRegistry,
      schema: {
        summary: "List a registry's runs, newest first (az acr task list-runs)",
        tags,
        params: registryParams,
        querystring: {
          type: 'object',
          properties: { task: taskNameParam, status: { type: 'string', enum: runStatuses }, top: { type: 'integer', minimum: 1, maximum: 1000 } },
          additionalProperties: false,
        },
        response: { 200: listOf(runSchema), ...problemResponses },
      },
    },
    async (request) => {
      const { task, status, top } = request.query;
      const runs = await taskAnswer(() => tasks.listRuns(request.params.registry, { task, status, top }));
      return { value: runs.map(runBody) };
    },
  );

  app.post<{ Params: { registry: string } }>(
    '/registries/:registry/runs/cancel',
    {
      config: manageRegistry,
      schema: { summary: 'Cancel every queued and running run of the registry; answers those cancelled', tags, params: registryParams, response: { 200: listOf(runSchema), ...problemResponses } },
    },
    async (request) => ({ value: (await taskAnswer(() => tasks.cancelAllRuns(request.params.registry))).map(runBody) }),
  );

  app.get<{ Params: RunParams }>(
    '/registries/:registry/runs/:runId',
    { config: readRegistry, schema: { summary: 'Show a run (az acr task show-run)', tags, params: runParams, response: { 200: runSchema, ...problemResponses } } },
    async (request) => runBody(await taskAnswer(() => tasks.getRun(request.params.registry, request.params.runId))),
  );

  app.post<{ Params: RunParams }>(
    '/registries/:registry/runs/:runId/cancel',
    {
      config: manageRegistry,
      schema: { summary: 'Cancel a queued or running run (az acr task cancel-run)', tags, params: runParams, response: { 200: runSchema, ...problemResponses } },
    },
    async (request) => runBody(await taskAnswer(() => tasks.cancelRun(request.params.registry, request.params.runId))),
  );

  app.get<{ Params: RunParams; Querystring: { follow?: boolean } }>(
    '/registries/:registry/runs/:runId/log',
    {
      config: readRegistry,
      schema: {
        summary: "A run's log as text (az acr task logs); with follow=true it streams until the run finishes",
        tags,
        params: runParams,
        querystring: { type: 'object', properties: { follow: { type: 'boolean', default: false } }, additionalProperties: false },
        response: { 200: { description: 'the log, chunked while following', content: { 'text/plain': { schema: { type: 'string' } } } }, ...problemResponses },
      },
    },
    async (request, reply) => {
      const { registry, runId } = request.params;
      // Unknown runs are refused before the first byte of the log is sent.
      await taskAnswer(() => tasks.getRun(registry, runId));
      const stop = new AbortController();
      reply.raw.on('close', () => stop.abort());
      const chunks = tasks.readLog(registry, runId, { follow: request.query.follow === true, signal: stop.signal });
      reply.header('content-type', 'text/plain; charset=utf-8').header('cache-control', 'no-store').header('x-content-type-options', 'nosniff');
      return reply.send(Readable.from(chunks, { objectMode: false }));
    },
  );
}
