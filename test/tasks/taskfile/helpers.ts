import assert from 'node:assert/strict';
import type { RunVariables, TaskFile, TaskStep } from '../../../src/tasks/model.ts';
import { loadTaskFile, TaskFileError, type LoadOptions } from '../../../src/tasks/taskfile/index.ts';

export const RUN: RunVariables = {
  ID: 'ca1',
  Registry: 'contoso.localhost:5000',
  RegistryName: 'contoso',
  Date: '20240102-030405z',
  OS: 'linux',
  OSVersion: '',
  Architecture: 'amd64',
  Commit: 'abc123',
  Branch: 'main',
  GitTag: '',
  Repository: 'hello-world',
  TriggeredBy: 'manual',
  TaskName: 'gate',
  SharedVolume: 'acb_vol_1',
};

export interface LoadInput {
  values?: Record<string, string>;
  secrets?: Record<string, string>;
  options?: LoadOptions;
}

export function load(text: string, input: LoadInput = {}): TaskFile {
  return loadTaskFile(text, { run: RUN, values: input.values ?? {}, secrets: input.secrets ?? {} }, input.options);
}

/** The TaskFileError loading `text` throws. */
export function loadError(text: string, input: LoadInput = {}): TaskFileError {
  try {
    load(text, input);
  } catch (error) {
    assert.ok(error instanceof TaskFileError, `expected a TaskFileError, got ${String(error)}`);
    return error;
  }
  assert.fail('the task file loaded without error');
}

/** Asserts the error has an issue on `line` whose message matches. */
export function assertIssue(error: TaskFileError, line: number, message: RegExp): void {
  const found = error.issues.some((issue) => issue.line === line && message.test(issue.message));
  assert.ok(found, `no issue on line ${line} matching ${message}; issues:\n${error.message}`);
}

export function assertWarning(task: TaskFile, line: number, message: RegExp): void {
  const found = task.warnings.some((issue) => issue.line === line && message.test(issue.message));
  assert.ok(found, `no warning on line ${line} matching ${message}; warnings: ${JSON.stringify(task.warnings)}`);
}

export function stepById(task: TaskFile, id: string): TaskStep {
  const step = task.steps.find((candidate) => candidate.id === id);
  assert.ok(step, `no step '${id}'`);
  return step;
}

/** A task file from lines, so that tests can count them. */
export function lines(...text: string[]): string {
  return `${text.join('\n')}\n`;
}
