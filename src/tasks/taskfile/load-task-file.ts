/**
 * The task file loader: aliases (v1.1.0) → Go-template rendering → YAML → the validated
 * model. Line numbers in errors and warnings are those of the file as written; they stay
 * exact as long as template actions do not add or remove lines (a `{{ if }}` spanning
 * several lines shifts what follows it by the lines it drops).
 */
import type { RenderInput, TaskFile } from '../model.ts';
import { expandAliases, NO_CUSTOM_ALIASES, readAliasSection } from './aliases.ts';
import { supportsAliases } from './source-lines.ts';
import { readTaskFile } from './task-reader.ts';
import { DEFAULT_TASK_FILE_NAME, IssueLog, TaskFileError } from './task-file-error.ts';
import { renderTaskText, templateData, type TemplateRenderer } from './template-renderer.ts';
import { parseYaml } from './yaml-fields.ts';

export interface LoadOptions {
  /** Shown in messages; default `acr-task.yaml`. */
  fileName?: string;
  /** Default `/workspace`. */
  defaultWorkingDirectory?: string;
}

export function loadTaskFileWith(renderer: TemplateRenderer, text: string, input: RenderInput, options: LoadOptions = {}): TaskFile {
  const fileName = options.fileName ?? DEFAULT_TASK_FILE_NAME;
  const issues = new IssueLog();
  const data = templateData(input);
  const aliasesEnabled = supportsAliases(text);

  let aliases = NO_CUSTOM_ALIASES;
  let source = text;
  if (aliasesEnabled) {
    const section = readAliasSection(text, (sectionText) => renderTaskText(renderer, sectionText, data, fileName), issues);
    aliases = section.aliases;
    source = expandAliases(text, aliases, section.lines);
  }

  const { ctx, yamlIssues } = parseYaml(renderTaskText(renderer, source, data, fileName), issues);
  if (yamlIssues) throw new TaskFileError([...issues.errors, ...yamlIssues], fileName);

  const task = readTaskFile(ctx, {
    defaultWorkingDirectory: options.defaultWorkingDirectory ?? '/workspace',
    aliases,
    aliasesEnabled,
  });
  if (issues.errors.length > 0 || !task) throw new TaskFileError(issues.errors, fileName);
  return task;
}
