/**
 * The commit trigger for git hosts that cannot call in: every task with an enabled commit trigger
 * has its branch head read with `git ls-remote` at its polling interval, and a new head queues one
 * run for that commit. The first head seen for a task is only recorded (a new task does not run
 * for the commit that already exists). The trigger store's compare-and-set cursor is shared with
 * the webhook, so a commit announced both ways runs once.
 */
import type { Logger } from 'pino';
import type { TaskRecord } from '../../meta/task-store.ts';
import type { TriggerStore } from '../../meta/trigger-store.ts';
import { gitFailure, runGit, withGitEnvironment } from '../context/git-context.ts';
import type { GitLocation } from '../context/git-location.ts';
import type { SecretVault } from '../secrets/secret-vault.ts';
import { revealSealed } from '../secrets/reveal.ts';
import { commitTriggerOf, type CommitTrigger } from './commit-trigger.ts';
import type { TriggeredRuns } from './triggered-runs.ts';

export interface GitCommitPollerOptions {
  triggers: Pick<TriggerStore, 'commitCursor' | 'advanceCommitCursor'>;
  runs: TriggeredRuns;
  /** Unseals the tasks' git access tokens. */
  vault: Pick<SecretVault, 'isReference' | 'resolve' | 'unseal'>;
  /** `--git-poll-interval`: seconds between two looks at a task's branch, unless the task sets its own; default 60. */
  defaultIntervalSeconds?: number;
  /** How often the poller looks for tasks that are due; default 500 ms. */
  tickMs?: number;
  /** Repositories asked at the same time; default 4. */
  concurrency?: number;
  /** The git program; default `git` from the PATH. */
  git?: string;
  /** The known_hosts file for ssh repositories (see withSshCommand); default: trust each host's key per look. */
  sshKnownHostsFile?: string;
  /** Longest one `git ls-remote` may take; default 30 s. */
  timeoutMs?: number;
  /** A repository that keeps failing is logged again after this long, or when the reason changes; default 10 minutes. */
  failureLogIntervalMs?: number;
  logger?: Logger;
}

interface BranchHead {
  branch: string;
  commit: string;
}

interface Due {
  task: TaskRecord;
  trigger: CommitTrigger;
}

const keyOf = (task: Pick<TaskRecord, 'registry' | 'name'>): string => `${task.registry}/${task.name}`;

/** `git ls-remote` output: `<sha>\t<ref>` lines, and `ref: <target>\t<ref>` for symbolic refs (`--symref`). */
function parseLsRemote(stdout: string): { refs: Map<string, string>; symrefs: Map<string, string> } {
  const refs = new Map<string, string>();
  const symrefs = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const [left, name] = line.split('\t');
    if (left === undefined || name === undefined) continue;
    if (left.startsWith('ref: ')) symrefs.set(name, left.slice('ref: '.length));
    else refs.set(name, left.toLowerCase());
  }
  return { refs, symrefs };
}

export class GitCommitPoller {
  readonly #options: GitCommitPollerOptions;
  readonly #defaultIntervalMs: number;
  readonly #concurrency: number;
  /** When each task's branch is next looked at. */
  readonly #nextCheck = new Map<string, number>();
  readonly #waiting = new Map<string, Due>();
  readonly #checking = new Map<string, Promise<void>>();
  /** The last failure logged per task, to log a repository that stays unreachable only now and then. */
  readonly #failures = new Map<string, { reason: string; loggedAt: number }>();
  readonly #stop = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #tick: Promise<void> | undefined;
  #started = false;

  constructor(options: GitCommitPollerOptions) {
    this.#options = options;
    this.#defaultIntervalMs = (options.defaultIntervalSeconds ?? 60) * 1000;
    this.#concurrency = options.concurrency ?? 4;
  }

  start(): void {
    if (this.#started || this.#stop.signal.aborted) return;
    this.#started = true;
    this.#schedule(0);
  }

  /** Stops polling; a `git ls-remote` under way is ended. */
  async stop(): Promise<void> {
    this.#stop.abort();
    clearTimeout(this.#timer);
    await this.#tick;
    await Promise.allSettled(this.#checking.values());
  }

  #schedule(delayMs: number): void {
    if (this.#stop.signal.aborted) return;
    this.#timer = setTimeout(() => {
      this.#tick = this.#findDue()
        .catch((error: unknown) => this.#failed('*', undefined, `listing the tasks failed: ${error instanceof Error ? error.message : String(error)}`))
        .finally(() => this.#schedule(this.#options.tickMs ?? 500));
    }, delayMs);
  }

  /** Queues a check of every task whose commit trigger is enabled and due, and starts as many as allowed. */
  async #findDue(): Promise<void> {
    const now = Date.now();
    const current = new Set<string>();
    const tasks = await this.#options.runs.allTasks();
    this.#failures.delete('*');
    for (const task of tasks) {
      if (task.status !== 'Enabled') continue;
      const trigger = await commitTriggerOf(task);
      if (!trigger?.config.enabled) continue;
      const key = keyOf(task);
      current.add(key);
      if ((this.#nextCheck.get(key) ?? 0) > now || this.#checking.has(key)) continue;
      this.#waiting.set(key, { task, trigger });
    }
    for (const key of [...this.#nextCheck.keys(), ...this.#waiting.keys()]) {
      if (!current.has(key)) {
        this.#nextCheck.delete(key);
        this.#waiting.delete(key);
        this.#failures.delete(key);
      }
    }
    this.#startChecks();
  }

  #startChecks(): void {
    for (const [key, due] of this.#waiting) {
      if (this.#stop.signal.aborted || this.#checking.size >= this.#concurrency) return;
      this.#waiting.delete(key);
      const seconds = due.trigger.config.pollIntervalSeconds;
      const intervalMs = typeof seconds === 'number' ? seconds * 1000 : this.#defaultIntervalMs;
      const check = this.#check(due)
        .catch((error: unknown) => this.#failed(key, due.task, error instanceof Error ? error.message : String(error)))
        .finally(() => {
          this.#checking.delete(key);
          this.#nextCheck.set(key, Date.now() + intervalMs);
          this.#startChecks();
        });
      this.#checking.set(key, check);
    }
  }

  async #check({ task, trigger }: Due): Promise<void> {
    const head = await this.#head(task, trigger.location);
    const key = keyOf(task);
    if (this.#failures.delete(key)) this.#options.logger?.info({ registry: task.registry, task: task.name }, 'the repository of a commit-triggered task is reachable again');

    const { triggers, runs } = this.#options;
    const cursor = await triggers.commitCursor(task.registry, task.name);
    if (cursor === head.commit) return;
    const moved = await triggers.advanceCommitCursor(task.registry, task.name, cursor, head.commit);
    // The first head seen is the starting point, not a new commit.
    if (!moved || cursor === null) return;
    const run = await runs.queue(task.registry, task.name, {
      trigger: 'Commit',
      details: { eventType: 'commit', commitId: head.commit, branchName: head.branch, repositoryUrl: trigger.location.display, providerType: 'Poll' },
    });
    if (run) this.#options.logger?.info({ registry: task.registry, task: task.name, runId: run.runId, commit: head.commit, branch: head.branch }, 'a new commit queued a run');
  }

  /** The branch the task follows (its context's, or the repository's default) and its head commit. */
  async #head(task: TaskRecord, location: GitLocation): Promise<BranchHead> {
    const token = task.contextAccessToken === null ? undefined : await revealSealed(this.#options.vault, task.contextAccessToken);
    const timeoutMs = this.#options.timeoutMs ?? 30_000;
    const timeout = AbortSignal.timeout(timeoutMs);
    const wanted = location.ref === undefined ? 'HEAD' : `refs/heads/${location.ref}`;
    const args = ['ls-remote', ...(location.ref === undefined ? ['--symref'] : []), '--', location.url, wanted];
    const stop = AbortSignal.any([this.#stop.signal, timeout]);
    const result = await withGitEnvironment(location, token, this.#options.sshKnownHostsFile, (env) => runGit(this.#options.git ?? 'git', args, env, stop));
    if (this.#stop.signal.aborted) throw this.#stop.signal.reason;
    if (timeout.aborted) throw new Error(`git ls-remote ${location.display} took longer than ${Math.round(timeoutMs / 1000)}s`);
    if (result.code !== 0) throw gitFailure(result.stderr, location, token);

    const { refs, symrefs } = parseLsRemote(result.stdout);
    const commit = refs.get(wanted);
    const branch = location.ref ?? symrefs.get('HEAD')?.replace(/^refs\/heads\//, '');
    if (commit === undefined || branch === undefined) {
      throw new Error(location.ref === undefined ? `${location.display} has no default branch` : `the branch ${location.ref} does not exist in ${location.display}`);
    }
    return { branch, commit };
  }

  /** Logs a failure, unless the same one was logged for the task a short while ago. */
  #failed(key: string, task: TaskRecord | undefined, reason: string): void {
    if (this.#stop.signal.aborted) return;
    const now = Date.now();
    const last = this.#failures.get(key);
    if (last && last.reason === reason && now - last.loggedAt < (this.#options.failureLogIntervalMs ?? 10 * 60 * 1000)) return;
    this.#failures.set(key, { reason, loggedAt: now });
    this.#options.logger?.warn({ ...(task ? { registry: task.registry, task: task.name } : {}), reason }, 'polling for new commits failed');
  }
}
