/**
 * Task files (`acr-task.yaml`, versions 1.0-preview-1, v1.0.0 and v1.1.0) into the model the
 * run engine executes; see load-task-file.ts for the pipeline.
 */
import type { RenderInput, TaskFile, TaskSecretReference } from '../model.ts';
import { renderTemplate, TemplateError } from '../template/index.ts';
import { loadTaskFileWith, type LoadOptions } from './load-task-file.ts';
import { secretReferencesWith, type SecretReadInput } from './secret-references.ts';
import type { TemplateRenderer } from './template-renderer.ts';

export { TaskFileError } from './task-file-error.ts';
export { parseBuildArguments, type BuildArgumentsResult } from './build-arguments.ts';
export { parseCmd, parseCmdLine, type CmdLineResult } from './cmd-line.ts';
export { CommandLineError } from './shell-words.ts';
export type { LoadOptions } from './load-task-file.ts';
export type { SecretReadInput } from './secret-references.ts';

const renderer: TemplateRenderer = {
  render: (source, data, name) => renderTemplate(source, data, { name }),
  describeError: (error) => {
    if (!(error instanceof TemplateError)) return undefined;
    // The engine's message starts with the `name:line: ` that TaskFileError adds itself.
    const message = error.message.replace(/^[^\n]*?:\d+: /, '');
    return { line: error.line, message };
  },
};

/** Renders, parses and validates a task file; throws TaskFileError listing every problem found. */
export function loadTaskFile(text: string, input: RenderInput, options?: LoadOptions): TaskFile {
  return loadTaskFileWith(renderer, text, input, options);
}

/**
 * The `secrets:` entries of a task file, read before its secrets are resolved. Given the
 * run's variables and values, template actions in the section are rendered; otherwise they are
 * returned as written.
 */
export function secretReferences(text: string, input?: SecretReadInput): TaskSecretReference[] {
  return secretReferencesWith(renderer, text, input);
}
