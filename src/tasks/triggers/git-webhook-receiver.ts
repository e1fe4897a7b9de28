/**
 * A git host's push event for a task's commit trigger: the task's webhook secret checked, then a
 * new commit on the task's branch claimed through the commit cursor (shared with the poller, so
 * the two never both fire for one commit) and queued as a Commit run.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { TaskStore } from '../../meta/task-store.ts';
import type { TriggerStore } from '../../meta/trigger-store.ts';
import type { SecretVault } from '../secrets/secret-vault.ts';
import { claimCommit, commitTriggerOf } from './commit-trigger.ts';
import { readGitWebhook, type GitPush } from './git-webhooks.ts';
import type { TriggeredRuns } from './triggered-runs.ts';

export interface GitWebhookReceiverOptions {
  tasks: Pick<TaskStore, 'getTask'>;
  /** Unseals the task's webhook secret. */
  vault: Pick<SecretVault, 'unseal'>;
  triggers: Pick<TriggerStore, 'commitCursor' | 'advanceCommitCursor'>;
  runs: Pick<TriggeredRuns, 'queue'>;
}

export type GitWebhookOutcome =
  /** No such task, or it has no commit trigger. */
  | { outcome: 'not-found' }
  | { outcome: 'unauthorized'; reason: string }
  | { outcome: 'invalid'; reason: string }
  /** A ping, another event or branch, a deletion, or a commit already handled. */
  | { outcome: 'ignored'; reason: string }
  | { outcome: 'disabled'; reason: string }
  | { outcome: 'queued'; runId: string; push: GitPush };

export class GitWebhookReceiver {
  constructor(private readonly options: GitWebhookReceiverOptions) {}

  async receive(registry: string, name: string, headers: IncomingHttpHeaders, body: Buffer): Promise<GitWebhookOutcome> {
    const { tasks, vault, triggers, runs } = this.options;
    const task = await tasks.getTask(registry, name);
    const trigger = task && (await commitTriggerOf(task));
    if (!task || !trigger) return { outcome: 'not-found' };

    const result = readGitWebhook({ headers, body, secret: vault.unseal(trigger.config.webhookSecret), branch: trigger.location.ref });
    if (result.outcome !== 'push') return result;
    if (task.status === 'Disabled') return { outcome: 'disabled', reason: 'the task is disabled' };
    if (!trigger.config.enabled) return { outcome: 'disabled', reason: "the task's commit trigger is disabled" };

    const { push } = result;
    if (!(await claimCommit(triggers, registry, name, push.commit))) return { outcome: 'ignored', reason: `commit ${push.commit} was already handled` };
    const run = await runs.queue(registry, name, {
      trigger: 'Commit',
      details: { eventType: 'commit', commitId: push.commit, branchName: push.branch, repositoryUrl: trigger.location.display, providerType: push.provider },
    });
    if (!run) return { outcome: 'disabled', reason: 'the task is disabled' };
    return { outcome: 'queued', runId: run.runId, push };
  }
}
