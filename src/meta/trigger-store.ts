/**
 * What the task triggers remember so that each change fires a task exactly once, across restarts
 * and nodes: the last commit seen per task, the base images each task's last build started FROM
 * (with the digest it used), and the timer occurrences already fired. Every "advance" is a
 * compare-and-set: only the caller that moves the value queues the run.
 */

export interface BaseImageDependency {
  /** Login server as the FROM line names it after ARG substitution, e.g. `publicregistry.localhost:5000` or `docker.io`. */
  loginServer: string;
  /** The installation registry behind `loginServer`, or null for an external registry (polled). */
  registry: string | null;
  repository: string;
  tag: string;
  /** The digest the task's last build used; null if unknown. */
  digest: string | null;
  /** `Runtime`: the final stage's base; `BuildTime`: an earlier stage's. */
  type: 'Runtime' | 'BuildTime';
}

export interface TaskDependency {
  registry: string;
  task: string;
  dependency: BaseImageDependency;
}

export interface TriggerStore {
  /** The last commit the task's commit trigger handled, or null. */
  commitCursor(registry: string, task: string): Promise<string | null>;
  /** Moves the cursor from `expected` to `next`; true only for the caller that moved it. */
  advanceCommitCursor(registry: string, task: string, expected: string | null, next: string): Promise<boolean>;

  /** Replaces the task's recorded base images (after each successful build). */
  replaceBaseImageDependencies(registry: string, task: string, dependencies: BaseImageDependency[]): Promise<void>;
  baseImageDependencies(registry: string, task: string): Promise<BaseImageDependency[]>;
  /** Tasks whose recorded base image is `repository:tag` of the installation registry `registry`. */
  dependentsOf(registry: string, repository: string, tag: string): Promise<TaskDependency[]>;
  /** Recorded base images in external registries (for polling). */
  externalDependencies(): Promise<TaskDependency[]>;
  /** Moves a dependency's recorded digest from `expected` to `next`; true only for the caller that moved it. */
  advanceBaseImageDigest(
    registry: string,
    task: string,
    image: { loginServer: string; repository: string; tag: string },
    expected: string | null,
    next: string,
  ): Promise<boolean>;

  /** Records that `timer` fired for `occurrence` (ISO minute); true only for the first caller. */
  claimTimerOccurrence(registry: string, task: string, timer: string, occurrence: string): Promise<boolean>;
}
