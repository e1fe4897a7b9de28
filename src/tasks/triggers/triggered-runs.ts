/**
 * How trigger sources (git webhooks and polling, base-image updates, timers) queue runs. The task
 * service implements it; each source decides *when* a task fires and records enough in the
 * trigger store that a change fires once, never twice.
 */
import type { RunRecord, TaskRecord } from '../../meta/task-store.ts';

export interface CommitTriggerDetails {
  eventType: 'commit';
  commitId: string;
  branchName: string;
  /** The repository URL without credentials. */
  repositoryUrl: string;
  /** Who told us: a webhook of that kind, or polling. */
  providerType: 'GitHub' | 'GitLab' | 'Gitea' | 'Poll';
}

export interface ImageUpdateTriggerDetails {
  id: string;
  timestamp: string;
  images: Array<{ loginServer: string; repository: string; tag: string; digest: string }>;
  /** `registry/task` of every task upstream of this run in a trigger chain (cycle detection). */
  chain: string[];
}

export interface TimerTriggerDetails {
  timerTriggerName: string;
  /** The cron occurrence (ISO 8601, minute precision, UTC) this run is for. */
  scheduleOccurrence: string;
}

export type TriggeredRun =
  | { trigger: 'Commit'; details: CommitTriggerDetails }
  | { trigger: 'Image Update'; details: ImageUpdateTriggerDetails }
  | { trigger: 'Timer'; details: TimerTriggerDetails };

export interface TriggeredRuns {
  /**
   * Queues a run of the task for a trigger (a Commit run builds exactly `details.commitId`);
   * undefined when the task no longer exists or is Disabled.
   */
  queue(registry: string, task: string, run: TriggeredRun): Promise<RunRecord | undefined>;
  /** Every task of every registry of the installation. */
  allTasks(): Promise<TaskRecord[]>;
}
