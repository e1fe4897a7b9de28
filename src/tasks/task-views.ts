/** Tasks and runs as the API shows them (ACR's JSON shapes); secret values never appear. */
import type { RunRecord, TaskRecord, TaskValue } from '../meta/task-store.ts';
import type { PlatformView, RunView, TaskView, ValueView } from './task-service.ts';

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
    trigger: task.triggers ?? null,
    creationDate: task.createdAt,
    lastUpdatedTime: task.updatedAt,
    provisioningState: 'Succeeded',
  };
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
  };
}
