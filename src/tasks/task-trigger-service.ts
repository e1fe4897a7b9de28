/**
 * What the management API and the CLI ask of a task's triggers beyond `task create|update`:
 * its named timers (`berth task timer add|update|remove|list`, as `az acr task timer`) and the
 * URL and secret a git host's push webhook needs (`berth task show-webhook`).
 */
import type { TaskView } from './task-service.ts';

/** A timer as `az acr task timer list` shows it. */
export interface TimerView {
  name: string;
  /** 5-field cron, UTC. */
  schedule: string;
  status: 'Enabled' | 'Disabled';
}

export interface TimerInput {
  /** Default: the first free of `t1`, `t2`, … (or the name in `[name:]cron`). */
  name?: string;
  /** `[name:]cron`. */
  schedule: string;
  enabled?: boolean;
}

export interface TimerChanges {
  schedule?: string;
  enabled?: boolean;
}

export interface TaskTriggerService {
  listTimers(registry: string, task: string): Promise<TimerView[]>;
  addTimer(registry: string, task: string, timer: TimerInput): Promise<TaskView>;
  updateTimer(registry: string, task: string, timer: string, changes: TimerChanges): Promise<TaskView>;
  removeTimer(registry: string, task: string, timer: string): Promise<TaskView>;
  /** The secret of the task's git webhook in clear (GitHub's and Gitea's HMAC key, GitLab's token); refused for a task without a commit trigger. */
  gitWebhookSecret(registry: string, task: string): Promise<string>;
}
