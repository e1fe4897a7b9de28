/**
 * A task's triggers as stored in `TaskRecord.triggers`: a commit trigger on its git context, a
 * base-image trigger on the images its builds start FROM, and named cron timers (UTC) — ACR's
 * `sourceTriggers`, `baseImageTrigger` and `timerTriggers`.
 */
import type { SealedValue, TaskRecord } from '../../meta/task-store.ts';

export interface SourceTriggerConfig {
  enabled: boolean;
  /** Polling interval for this task; null = the server's `tasks.gitPollSeconds`. */
  pollIntervalSeconds: number | null;
  /** HMAC secret of the task's git webhook (GitHub, GitLab, Gitea push events), sealed. */
  webhookSecret: SealedValue;
}

export type BaseImageTriggerType = 'All' | 'Runtime';

export interface BaseImageTriggerConfig {
  enabled: boolean;
  /** `Runtime`: only the final stage's base; `All`: every stage's. */
  type: BaseImageTriggerType;
  name: string;
}

export interface TimerTriggerConfig {
  name: string;
  /** 5-field cron, UTC. */
  schedule: string;
  enabled: boolean;
}

export interface TaskTriggers {
  /** Null when the task's context is not a git repository. */
  source: SourceTriggerConfig | null;
  baseImage: BaseImageTriggerConfig;
  timers: TimerTriggerConfig[];
}

export const defaultBaseImageTrigger: BaseImageTriggerConfig = { enabled: true, type: 'Runtime', name: 'defaultBaseimageTriggerName' };

/** The task's triggers; tasks stored without any get ACR's defaults (base-image trigger on, no timers). */
export function triggersOf(task: Pick<TaskRecord, 'triggers'>): TaskTriggers {
  const stored = task.triggers as Partial<TaskTriggers> | null | undefined;
  return {
    source: stored?.source ?? null,
    baseImage: stored?.baseImage ?? defaultBaseImageTrigger,
    timers: stored?.timers ?? [],
  };
}
