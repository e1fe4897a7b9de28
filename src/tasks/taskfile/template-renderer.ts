import type { RenderInput, TaskFileIssue } from '../model.ts';
import { TaskFileError } from './task-file-error.ts';

/** What a task file is rendered with: `{{.Run.X}}`, `{{.Build.ID}}` (ACR's legacy name), `{{.Values.X}}`, `{{.Secrets.X}}`. */
export interface TemplateData {
  Run: RenderInput['run'];
  Build: { ID: string };
  Values: Record<string, string>;
  Secrets: Record<string, string>;
}

/** The template engine as the loader uses it (kept apart so the loader stays a pure function of its inputs). */
export interface TemplateRenderer {
  render(source: string, data: TemplateData, name: string): string;
  /** A template error's 1-based line and message, or undefined when `error` is something else. */
  describeError(error: unknown): TaskFileIssue | undefined;
}

export function templateData(input: RenderInput): TemplateData {
  return { Run: input.run, Build: { ID: input.run.ID }, Values: input.values, Secrets: input.secrets };
}

/** Renders `source`; a template error becomes a TaskFileError on its line. */
export function renderTaskText(renderer: TemplateRenderer, source: string, data: TemplateData, fileName: string): string {
  try {
    return renderer.render(source, data, fileName);
  } catch (error) {
    const issue = renderer.describeError(error);
    if (!issue) throw error;
    throw new TaskFileError([{ line: issue.line, message: `template: ${issue.message}` }], fileName);
  }
}
