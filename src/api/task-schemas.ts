/**
 * JSON schemas shared by the tasks and runs routes — tasks and runs in ACR's shapes
 * (`az acr task show`, `az acr task list-runs -o json`) — and the mapping of the task engine's
 * refusals onto problems.
 */
import { TaskError, type RunView } from '../tasks/task-service.ts';
import { ProblemError } from './problem.ts';
import { registryNameParam } from './schemas.ts';

const string = { type: 'string' } as const;
const nullableString = { type: ['string', 'null'] } as const;
const boolean = { type: 'boolean' } as const;

export const runStatuses = ['Queued', 'Running', 'Succeeded', 'Failed', 'Canceled', 'Error', 'Timeout'] as const;

/** ACR's task names: 5-50 letters, digits, '-' and '_'. */
export const taskNameParam = { type: 'string', pattern: '^[A-Za-z0-9_-]{5,50}$', description: 'task name: 5-50 letters, digits, - and _' } as const;
/** ACR's run ids: two letters and a base-36 counter, e.g. `ca1`. */
export const runIdParam = { type: 'string', pattern: '^[a-z0-9]{2,32}$', description: 'run id, e.g. ca1' } as const;

export const taskParams = { type: 'object', properties: { registry: registryNameParam, name: taskNameParam }, required: ['registry', 'name'] } as const;
export const runParams = { type: 'object', properties: { registry: registryNameParam, runId: runIdParam }, required: ['registry', 'runId'] } as const;

export const platformSchema = {
  type: 'object',
  properties: { os: string, architecture: string, variant: string },
} as const;

/** `os/architecture[/variant]`, e.g. `linux/amd64`, `linux/arm/v7`. */
export const platformInput = { type: 'string', pattern: '^[a-z0-9]+(/[a-z0-9]+){0,2}$', description: 'os/architecture[/variant], e.g. linux/amd64' } as const;
/** ACR's run timeout range. */
export const timeoutInput = { type: 'integer', minimum: 300, maximum: 28800, description: 'run timeout in seconds (300-28800)' } as const;

const valueView = {
  type: 'object',
  properties: { name: string, value: { ...nullableString, description: 'null for secret values (never shown)' }, isSecret: boolean },
} as const;

/** `--set`/`--arg` (plain) or `--set-secret`/`--secret-arg` values sent with a task or run. */
export const valuesInput = {
  type: 'array',
  maxItems: 500,
  items: {
    type: 'object',
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 256 },
      value: { type: 'string', maxLength: 65536 },
      isSecret: { type: 'boolean', description: 'masked in logs and never shown again' },
    },
    required: ['name', 'value', 'isSecret'],
    additionalProperties: false,
  },
} as const;

/** Any JSON: what fired a run, as its trigger recorded it. */
const opaque = { description: "what triggered the run, as the trigger recorded it (see sourceTrigger, imageUpdateTrigger and timerTrigger for ACR's shapes)" } as const;

const triggerStatus = { type: 'string', enum: ['Enabled', 'Disabled'] } as const;

/** A timer as `az acr task timer list` shows it. */
export const timerSchema = {
  type: 'object',
  properties: { name: string, schedule: { ...string, description: '5-field cron, UTC' }, status: triggerStatus },
} as const;

/** A task's triggers as `az acr task show` has them; the webhook secret is never shown here. */
const taskTriggerSchema = {
  type: 'object',
  properties: {
    sourceTriggers: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: string,
          sourceRepository: { type: 'object', properties: { repositoryUrl: string, branch: nullableString, sourceControlType: string } },
          sourceTriggerEvents: { type: 'array', items: string },
          status: triggerStatus,
        },
      },
    },
    baseImageTrigger: { type: 'object', properties: { name: string, baseImageTriggerType: { type: 'string', enum: ['All', 'Runtime'] }, status: triggerStatus } },
    timerTriggers: { type: 'array', items: timerSchema },
  },
} as const;

/** The trigger flags of `task create` and `task update`. */
export const triggerInputFields = {
  commitTriggerEnabled: { type: 'boolean', description: "run on each new commit of the git context's branch (default: on for git contexts)" },
  gitPollIntervalSeconds: { type: ['integer', 'null'], minimum: 1, maximum: 86400, description: "seconds between polls of the branch; null: the server's default" },
  baseImageTriggerEnabled: { type: 'boolean', description: 'run when a base image the task builds FROM moves (default: on)' },
  baseImageTriggerType: { type: 'string', enum: ['All', 'Runtime'], description: "Runtime (default): the final stage's base only; All: every stage's" },
  baseImageTriggerName: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,50}$' },
  schedules: {
    type: 'array',
    maxItems: 50,
    items: { type: 'string', minLength: 1, maxLength: 200 },
    description: 'timers to add: "[name:]cron", 5-field cron in UTC, e.g. "nightly:0 2 * * *"',
  },
} as const;

export const taskSchema = {
  type: 'object',
  properties: {
    name: string,
    registry: string,
    status: { type: 'string', enum: ['Enabled', 'Disabled'] },
    platform: platformSchema,
    timeout: { type: 'integer' },
    step: {
      type: 'object',
      properties: {
        type: { type: 'string', enum: ['Docker', 'FileTask', 'EncodedTask'] },
        contextPath: nullableString,
        contextAccessToken: { type: 'null' },
        dockerFilePath: string,
        imageNames: { type: 'array', items: string },
        isPushEnabled: boolean,
        noCache: boolean,
        target: string,
        arguments: { type: 'array', items: valueView },
        taskFilePath: string,
        encodedTaskContent: string,
        values: { type: 'array', items: valueView },
      },
    },
    credentials: {
      type: 'object',
      properties: {
        customRegistries: {
          type: 'object',
          additionalProperties: { type: 'object', properties: { userName: nullableString, password: { type: 'null' }, identity: nullableString } },
        },
      },
    },
    identity: { type: ['object', 'null'], properties: { type: string, principalId: string } },
    trigger: taskTriggerSchema,
    creationDate: string,
    lastUpdatedTime: string,
    provisioningState: string,
  },
} as const;

export const runSchema = {
  type: 'object',
  properties: {
    runId: string,
    name: { ...string, description: 'the run id (ACR names a run by it)' },
    registry: string,
    task: nullableString,
    status: { type: 'string', enum: runStatuses },
    runType: { type: 'string', enum: ['QuickBuild', 'QuickRun', 'AutoBuild', 'AutoRun'] },
    trigger: { type: 'string', enum: ['Manual', 'Commit', 'Image Update', 'Timer'], description: "list-runs' TRIGGER column" },
    platform: platformSchema,
    createTime: string,
    startTime: nullableString,
    finishTime: nullableString,
    lastUpdatedTime: string,
    outputImages: {
      type: 'array',
      items: { type: 'object', properties: { registry: string, repository: string, tag: nullableString, digest: string } },
    },
    runErrorMessage: nullableString,
    triggerDetails: opaque,
    sourceTrigger: {
      type: ['object', 'null'],
      properties: { id: string, eventType: string, commitId: string, branchName: string, repositoryUrl: string, providerType: string },
    },
    imageUpdateTrigger: {
      type: ['object', 'null'],
      properties: {
        id: string,
        timestamp: string,
        images: { type: 'array', items: { type: 'object', properties: { registry: string, repository: string, tag: string, digest: string } } },
      },
    },
    timerTrigger: { type: ['object', 'null'], properties: { timerTriggerName: string, scheduleOccurrence: string } },
  },
} as const;

const problemTitles = { 'not-found': [404, 'Not found'], conflict: [409, 'Conflict'], invalid: [400, 'Invalid request'] } as const;

/** Runs a task engine call, answering its refusals (`TaskError`) as problems. */
export async function taskAnswer<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof TaskError) {
      const [status, title] = problemTitles[error.kind];
      throw new ProblemError(status, title, error.message);
    }
    throw error;
  }
}

/** A run as answered: the view plus ACR's `name` (= the run id). */
export function runBody(run: RunView): RunView & { name: string } {
  return { ...run, name: run.runId };
}
