/**
 * A task's trigger configuration (`TaskRecord.triggers`) as `task create|update` flags and the
 * `task timer` commands change it. A task whose context is a git repository following a branch
 * gets a commit trigger (on unless `--commit-trigger-enabled false`) with its own webhook secret;
 * any other context has none. The base-image trigger is on by default; timers are named cron
 * schedules (UTC).
 */
import { randomBytes } from 'node:crypto';
import type { SealedValue } from '../meta/task-store.ts';
import { ContextError } from './context/context-source.ts';
import { parseGitLocation } from './context/git-location.ts';
import { locationKind } from './context/location-kind.ts';
import { TaskError, type TaskChanges } from './task-service.ts';
import type { TimerChanges, TimerInput, TimerView } from './task-trigger-service.ts';
import { ScheduleError } from './triggers/cron.ts';
import { timerFromSpec, timersFromSpecs } from './triggers/timer-spec.ts';
import type { BaseImageTriggerConfig, TaskTriggers, TimerTriggerConfig } from './triggers/trigger-config.ts';

export const MIN_GIT_POLL_SECONDS = 1;
export const MAX_GIT_POLL_SECONDS = 86_400;

const triggerNamePattern = /^[A-Za-z0-9_-]{1,50}$/;

/** The trigger flags of `task create` and `task update`. */
export type TriggerChanges = Pick<
  TaskChanges,
  'commitTriggerEnabled' | 'gitPollIntervalSeconds' | 'baseImageTriggerEnabled' | 'baseImageTriggerType' | 'baseImageTriggerName' | 'schedules'
>;

/** A new webhook secret: 32 random bytes, hex (GitHub, GitLab and Gitea take any string). */
export function newWebhookSecret(): string {
  return randomBytes(32).toString('hex');
}

/** Whether a context is a git repository whose branch a commit trigger can follow (not one pinned to a commit). */
export async function followsGitBranch(contextPath: string | null): Promise<boolean> {
  if (contextPath === null || (await locationKind(contextPath)) !== 'git') return false;
  try {
    return !parseGitLocation(contextPath).refIsCommit;
  } catch (error) {
    if (error instanceof ContextError) return false;
    throw error;
  }
}

/**
 * The task's triggers after `changes`. `contextChanged` says whether the context is new (a task
 * being created, or an update of `--context`): only then is it looked at again, so a task keeps
 * its commit trigger and webhook secret across other updates.
 */
export async function changedTriggers(
  current: TaskTriggers,
  changes: TriggerChanges,
  context: { path: string | null; changed: boolean },
  sealSecret: (secret: string) => SealedValue,
): Promise<TaskTriggers> {
  const git = !context.changed && current.source !== null ? true : await followsGitBranch(context.path);
  let source = git ? current.source : null;
  if (!git) {
    if (changes.commitTriggerEnabled === true) {
      throw new TaskError('invalid', 'a commit trigger needs a context that is a git repository following a branch (https://host/repo.git#branch, or a repository on the server)');
    }
    if (changes.gitPollIntervalSeconds !== undefined && changes.gitPollIntervalSeconds !== null) {
      throw new TaskError('invalid', '--git-poll-interval applies only to a task whose context is a git repository');
    }
  } else {
    source ??= { enabled: true, pollIntervalSeconds: null, webhookSecret: sealSecret(newWebhookSecret()) };
    if (changes.commitTriggerEnabled !== undefined) source = { ...source, enabled: changes.commitTriggerEnabled };
    if (changes.gitPollIntervalSeconds !== undefined) source = { ...source, pollIntervalSeconds: checkPollInterval(changes.gitPollIntervalSeconds) };
  }
  const timers = [...current.timers];
  for (const timer of scheduled(() => timersFromSpecs(changes.schedules ?? [], current.timers))) timers.push({ ...timer, enabled: true });
  return { source, baseImage: changedBaseImage(current.baseImage, changes), timers };
}

function changedBaseImage(current: BaseImageTriggerConfig, changes: TriggerChanges): BaseImageTriggerConfig {
  const type = changes.baseImageTriggerType ?? current.type;
  if (type !== 'All' && type !== 'Runtime') throw new TaskError('invalid', `invalid base image trigger type "${String(type)}": use All or Runtime`);
  const name = changes.baseImageTriggerName ?? current.name;
  if (!triggerNamePattern.test(name)) throw new TaskError('invalid', `invalid base image trigger name "${name}": use 1 to 50 letters, digits, hyphens or underscores`);
  return { enabled: changes.baseImageTriggerEnabled ?? current.enabled, type, name };
}

function checkPollInterval(seconds: number | null): number | null {
  if (seconds === null) return null;
  if (!Number.isInteger(seconds) || seconds < MIN_GIT_POLL_SECONDS || seconds > MAX_GIT_POLL_SECONDS) {
    throw new TaskError('invalid', `invalid git poll interval ${seconds}: use ${MIN_GIT_POLL_SECONDS} to ${MAX_GIT_POLL_SECONDS} seconds`);
  }
  return seconds;
}

/** Runs a timer-spec check, answering a bad name or cron expression as an invalid request. */
function scheduled<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof ScheduleError) throw new TaskError('invalid', error.message);
    throw error;
  }
}

export function timerViews(triggers: TaskTriggers): TimerView[] {
  return triggers.timers.map((timer) => ({ name: timer.name, schedule: timer.schedule, status: timer.enabled ? 'Enabled' : 'Disabled' }));
}

export function withTimerAdded(triggers: TaskTriggers, input: TimerInput): TaskTriggers {
  const timer = scheduled(() => timerFromSpec(input.schedule, triggers.timers, input.name));
  return { ...triggers, timers: [...triggers.timers, { ...timer, enabled: input.enabled ?? true }] };
}

export function withTimerChanged(triggers: TaskTriggers, task: string, name: string, changes: TimerChanges): TaskTriggers {
  const current = timerNamed(triggers, task, name);
  const others = triggers.timers.filter((timer) => timer !== current);
  const schedule = changes.schedule === undefined ? current.schedule : scheduled(() => timerFromSpec(changes.schedule!, others, name)).schedule;
  const changed: TimerTriggerConfig = { name, schedule, enabled: changes.enabled ?? current.enabled };
  return { ...triggers, timers: triggers.timers.map((timer) => (timer === current ? changed : timer)) };
}

export function withTimerRemoved(triggers: TaskTriggers, task: string, name: string): TaskTriggers {
  const current = timerNamed(triggers, task, name);
  return { ...triggers, timers: triggers.timers.filter((timer) => timer !== current) };
}

function timerNamed(triggers: TaskTriggers, task: string, name: string): TimerTriggerConfig {
  const timer = triggers.timers.find((candidate) => candidate.name === name);
  if (!timer) throw new TaskError('not-found', `task ${task} has no timer named '${name}'`);
  return timer;
}
