import type { TaskFileIssue } from '../model.ts';

export const DEFAULT_TASK_FILE_NAME = 'acr-task.yaml';

/** Every problem found in one pass over a task file, each as `acr-task.yaml:LINE: message`. */
export class TaskFileError extends Error {
  readonly issues: TaskFileIssue[];

  constructor(issues: TaskFileIssue[], fileName: string = DEFAULT_TASK_FILE_NAME) {
    const sorted = [...issues].sort((a, b) => a.line - b.line);
    super(sorted.map((issue) => `${fileName}:${issue.line}: ${issue.message}`).join('\n'));
    this.name = 'TaskFileError';
    this.issues = sorted;
  }
}

/** Errors and warnings gathered while a task file is read. */
export class IssueLog {
  readonly errors: TaskFileIssue[] = [];
  readonly warnings: TaskFileIssue[] = [];

  error(line: number, message: string): void {
    this.errors.push({ line, message });
  }

  warn(line: number, message: string): void {
    this.warnings.push({ line, message });
  }
}
