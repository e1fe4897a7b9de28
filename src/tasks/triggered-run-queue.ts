/**
 * How the trigger sources queue runs: the task is read again when its trigger fires (a task
 * deleted or disabled since runs nothing), a Commit run builds exactly the commit that fired it,
 * and what fired is stored with the run for `show-run`.
 */
import type { RunRecord, TaskRecord, TaskStore } from '../meta/task-store.ts';
import type { StoredTaskService } from './stored-task-service.ts';
import type { TriggeredRun, TriggeredRuns } from './triggers/triggered-runs.ts';

export class TaskRunQueue implements TriggeredRuns {
  constructor(
    private readonly store: Pick<TaskStore, 'getTask' | 'listAllTasks'>,
    private readonly service: Pick<StoredTaskService, 'queueTaskRun'>,
  ) {}

  async queue(registry: string, taskName: string, run: TriggeredRun): Promise<RunRecord | undefined> {
    const task = await this.store.getTask(registry, taskName);
    if (!task || task.status === 'Disabled') return undefined;
    return this.service.queueTaskRun(task, {
      trigger: run.trigger,
      caller: null,
      values: [],
      triggerDetails: run.details,
      ...(run.trigger === 'Commit' ? { commit: { id: run.details.commitId, branch: run.details.branchName } } : {}),
    });
  }

  allTasks(): Promise<TaskRecord[]> {
    return this.store.listAllTasks();
  }
}
