/** Tasks and runs as the API shows them (ACR's JSON shapes); secret values never appear. */
import type { RunRecord, TaskRecord, TaskValue } from '../meta/task-store.ts';
import { ContextError } from './context/context-source.ts';
import { parseGitLocation } from './context/git-location.ts';
import type { ImageUpdateTriggerView, PlatformView, RunView, SourceTriggerView, TaskView, ValueView } from './task-service.ts';
import type { TimerView } from './task-trigger-service.ts';
import { timerViews } from './trigger-settings.ts';
import { triggersOf } from './triggers/trigger-config.ts';
import type { CommitTriggerDetails, ImageUpdateTriggerDetails, TimerTriggerDetails } from './triggers/triggered-runs.ts';

type Status = 'Enabled' | 'Disabled';

/** A task's `trigger` as `az acr task show` has it (never the webhook secret). */
export interface TaskTriggerView {
  sourceTriggers: Array<{
    name: 'defaultSourceTriggerName';
    sourceRepository: { repositoryUrl: string; branch: string | null; sourceControlType: string };
    sourceTriggerEvents: ['commit'];
    status: Status;
  }>;
  baseImageTrigger: { name: string; baseImageTriggerType: 'All' | 'Runtime'; status: Status };
  timerTriggers: TimerView[];
}

export function platformView(platform: string): PlatformView {
  const [os = 'linux', architecture = 'amd64', variant] = platform.split('/');
  return { os, architecture, ...(variant !== undefined ? { variant } : {}) };
}

function valueViews(values: TaskValue[]): ValueView[] {
  return values.map((value) => ({ name: value.name, value: value.isSecret ? null : value.value, isSecret: value.isSecret }));
}

export function taskView(task: TaskRecord): TaskView {
  const step = task.step;
  const common = { type: step.type, contextPath: task.contextPath, contextAccessToken: null };
  const stepView: TaskView['step'] =
    step.type === 'Docker'
      ? {
          ...common,
          dockerFilePath: step.dockerFilePath,
          imageNames: step.imageNames,
          isPushEnabled: step.isPushEnabled,
          noCache: step.noCache,
          ...(step.target !== undefined ? { target: step.target } : {}),
          arguments: valueViews(step.arguments),
        }
      : step.type === 'FileTask'
        ? { ...common, taskFilePath: step.taskFilePath, values: valueViews(step.values) }
        : { ...common, encodedTaskContent: Buffer.from(step.taskFileContent, 'utf8').toString('base64'), values: valueViews(step.values) };
  const customRegistries: TaskView['credentials']['customRegistries'] = {};
  for (const credential of task.credentials) {
    customRegistries[credential.loginServer] = {
      userName: credential.useIdentity ? null : credential.username,
      password: null,
      identity: credential.useIdentity ? (task.identityPrincipalId ?? '[system]') : null,
    };
  }
  return {
    name: task.name,
    registry: task.registry,
    status: task.status,
    platform: platformView(task.platform),
    timeout: task.timeoutSeconds,
    step: stepView,
    credentials: { customRegistries },
    identity: task.identityPrincipalId ? { type: 'SystemAssigned', principalId: task.identityPrincipalId } : null,
    trigger: triggerView(task),
    creationDate: task.createdAt,
    lastUpdatedTime: task.updatedAt,
    provisioningState: 'Succeeded',
  };
}

const status = (enabled: boolean): Status => (enabled ? 'Enabled' : 'Disabled');

export function triggerView(task: Pick<TaskRecord, 'triggers' | 'contextPath'>): TaskTriggerView {
  const triggers = triggersOf(task);
  const repository = triggers.source && task.contextPath !== null ? sourceRepositoryOf(task.contextPath) : undefined;
  return {
    sourceTriggers:
      triggers.source && repository
        ? [{ name: 'defaultSourceTriggerName', sourceRepository: repository, sourceTriggerEvents: ['commit'], status: status(triggers.source.enabled) }]
        : [],
    baseImageTrigger: { name: triggers.baseImage.name, baseImageTriggerType: triggers.baseImage.type, status: status(triggers.baseImage.enabled) },
    timerTriggers: timerViews(triggers),
  };
}

/** The repository and branch a commit trigger follows; `sourceControlType` names the host where it is known. */
function sourceRepositoryOf(contextPath: string): TaskTriggerView['sourceTriggers'][number]['sourceRepository'] | undefined {
  try {
    const location = parseGitLocation(contextPath);
    const host = /^https?:/.test(location.url) ? new URL(location.url).hostname : '';
    const sourceControlType = host === 'github.com' ? 'Github' : host === 'gitlab.com' ? 'GitLab' : 'Git';
    return { repositoryUrl: location.display, branch: location.ref ?? null, sourceControlType };
  } catch (error) {
    if (error instanceof ContextError) return undefined;
    throw error;
  }
}

/** ACR's `sourceTrigger`, `imageUpdateTrigger` and `timerTrigger` of a run, from what its trigger recorded. */
function runTriggerViews(run: RunRecord): Pick<RunView, 'sourceTrigger' | 'imageUpdateTrigger' | 'timerTrigger'> {
  const none = { sourceTrigger: null, imageUpdateTrigger: null, timerTrigger: null };
  const details = run.triggerDetails;
  if (typeof details !== 'object' || details === null) return none;
  switch (run.trigger) {
    case 'Commit': {
      const commit = details as CommitTriggerDetails;
      const sourceTrigger: SourceTriggerView = {
        id: commit.commitId,
        eventType: 'commit',
        commitId: commit.commitId,
        branchName: commit.branchName,
        repositoryUrl: commit.repositoryUrl,
        providerType: commit.providerType,
      };
      return { ...none, sourceTrigger };
    }
    case 'Image Update': {
      const update = details as ImageUpdateTriggerDetails;
      const imageUpdateTrigger: ImageUpdateTriggerView = {
        id: update.id,
        timestamp: update.timestamp,
        images: (update.images ?? []).map((image) => ({ registry: image.loginServer, repository: image.repository, tag: image.tag, digest: image.digest })),
      };
      return { ...none, imageUpdateTrigger };
    }
    case 'Timer': {
      const timer = details as TimerTriggerDetails;
      return { ...none, timerTrigger: { timerTriggerName: timer.timerTriggerName, scheduleOccurrence: timer.scheduleOccurrence } };
    }
    default:
      return none;
  }
}

export function runView(run: RunRecord): RunView {
  return {
    runId: run.runId,
    registry: run.registry,
    task: run.task,
    status: run.status,
    runType: run.runType,
    trigger: run.trigger,
    platform: platformView(run.platform),
    createTime: run.createTime,
    startTime: run.startTime,
    finishTime: run.finishTime,
    lastUpdatedTime: run.finishTime ?? run.startTime ?? run.createTime,
    outputImages: run.outputImages,
    runErrorMessage: run.errorMessage,
    triggerDetails: run.triggerDetails ?? null,
    ...runTriggerViews(run),
  };
}
