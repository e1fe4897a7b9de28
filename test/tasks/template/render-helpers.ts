import assert from 'node:assert/strict';
import { renderTemplate, TemplateError } from '../../../src/tasks/template/index.ts';

export const render = (source: string, data: unknown = {}): string =>
  renderTemplate(source, data, { name: 'acr-task.yaml' });

/** Asserts that rendering fails with exactly `message` (`acr-task.yaml:<line>: ...`) at `line`. */
export function assertFails(source: string, data: unknown, message: string): TemplateError {
  let caught: TemplateError | undefined;
  assert.throws(
    () => render(source, data),
    (error: unknown) => {
      assert.ok(error instanceof TemplateError, String(error));
      assert.equal(error.message, message);
      assert.equal(error.line, Number(/^acr-task\.yaml:(\d+):/.exec(message)?.[1]));
      caught = error;
      return true;
    },
  );
  return caught!;
}
