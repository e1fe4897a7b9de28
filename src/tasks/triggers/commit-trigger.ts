/**
 * What a task's commit trigger follows — the repository and branch of its git context — and the
 * compare-and-set that lets exactly one of the webhook and the poller fire for a commit.
 */
import type { TaskRecord } from '../../meta/task-store.ts';
import type { TriggerStore } from '../../meta/trigger-store.ts';
import { ContextError } from '../context/context-source.ts';
import { parseGitLocation, type GitLocation } from '../context/git-location.ts';
import { locationKind } from '../context/location-kind.ts';
import { triggersOf, type SourceTriggerConfig } from './trigger-config.ts';

export interface CommitTrigger {
  config: SourceTriggerConfig;
  /** The task's context; `ref` is the branch followed (undefined: the repository's default branch). */
  location: GitLocation;
}

/**
 * The task's commit trigger, enabled or not; undefined when it has none: no source trigger, a
 * context that is not a git repository, or one pinned to a commit.
 */
export async function commitTriggerOf(task: Pick<TaskRecord, 'triggers' | 'contextPath'>): Promise<CommitTrigger | undefined> {
  const config = triggersOf(task).source;
  if (!config || task.contextPath === null || (await locationKind(task.contextPath)) !== 'git') return undefined;
  let location: GitLocation;
  try {
    location = parseGitLocation(task.contextPath);
  } catch (error) {
    if (error instanceof ContextError) return undefined;
    throw error;
  }
  return location.refIsCommit ? undefined : { config, location };
}

/**
 * The context location of a commit-triggered run: the task's repository and folder at exactly
 * `commit` (`<repository>#<sha>[:folder]`), so the run builds the commit that fired it even when
 * the branch has moved on since.
 */
export function contextAtCommit(contextPath: string, commit: string): string {
  const hash = contextPath.indexOf('#');
  const repository = hash < 0 ? contextPath : contextPath.slice(0, hash);
  const folder = parseGitLocation(contextPath).folder;
  return `${repository}#${commit}${folder === undefined ? '' : `:${folder}`}`;
}

const CLAIM_ATTEMPTS = 5;

/**
 * Moves the task's commit cursor to `commit` unless it is already there; true only for the caller
 * that moved it (the one that queues the run).
 */
export async function claimCommit(
  triggers: Pick<TriggerStore, 'commitCursor' | 'advanceCommitCursor'>,
  registry: string,
  task: string,
  commit: string,
): Promise<boolean> {
  for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
    const cursor = await triggers.commitCursor(registry, task);
    if (cursor === commit) return false;
    if (await triggers.advanceCommitCursor(registry, task, cursor, commit)) return true;
  }
  return false;
}
