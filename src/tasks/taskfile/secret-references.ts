/**
 * The `secrets:` section, read before the secrets are resolved (their values are an input of
 * rendering). Only that top-level section is read, by its lines. With the run's variables and
 * values it is rendered first; without them every `{{ }}` action is kept as written: a line
 * holding only an action (`{{ if … }}`, `{{ end }}`) is skipped, so the entries of every
 * branch are listed, and an action inside a value comes back verbatim in that value.
 */
import { isMap } from 'yaml';
import type { RenderInput, TaskSecretReference } from '../model.ts';
import { expandAliases, readAliasSection } from './aliases.ts';
import { readSecrets } from './secrets-section.ts';
import { keepOnlyLines, splitLines, supportsAliases, topLevelSectionLines } from './source-lines.ts';
import { DEFAULT_TASK_FILE_NAME, IssueLog, TaskFileError } from './task-file-error.ts';
import { renderTaskText, templateData, type TemplateRenderer } from './template-renderer.ts';
import { parseYaml } from './yaml-fields.ts';

export type SecretReadInput = Omit<RenderInput, 'secrets'>;

export function secretReferencesWith(
  renderer: TemplateRenderer,
  text: string,
  input?: SecretReadInput,
  fileName: string = DEFAULT_TASK_FILE_NAME,
): TaskSecretReference[] {
  const sectionLines = topLevelSectionLines(text, 'secrets');
  if (sectionLines.size === 0) return [];

  const actions: string[] = [];
  const prepare = (sectionText: string): string =>
    input
      ? renderTaskText(renderer, sectionText, templateData({ ...input, secrets: {} }), fileName)
      : protectTemplateActions(sectionText, actions);
  let section = keepOnlyLines(text, sectionLines);
  if (supportsAliases(text)) {
    // Problems of the alias section are the loader's to report.
    const { aliases } = readAliasSection(text, prepare, new IssueLog());
    section = expandAliases(section, aliases, new Set());
  }

  const issues = new IssueLog();
  const { ctx, yamlIssues } = parseYaml(prepare(section), issues);
  if (yamlIssues) throw new TaskFileError(yamlIssues, fileName);
  const root = ctx.doc.contents;
  const secrets = isMap(root) ? readSecrets(ctx, ctx.fields(root, ['secrets'], 1)) : [];
  if (issues.errors.length > 0) throw new TaskFileError(issues.errors, fileName);

  const restore = (value: string): string =>
    value.replace(/__berth_template_(\d+)__/g, (_, index: string) => actions[Number(index)] ?? '');
  return secrets.map((secret) => ({
    ...secret,
    keyvault: restore(secret.keyvault),
    ...(secret.clientID === undefined ? {} : { clientID: restore(secret.clientID) }),
  }));
}

/** Every `{{ }}` action replaced by a plain-scalar placeholder; lines holding only an action are emptied. */
function protectTemplateActions(section: string, actions: string[]): string {
  return splitLines(section)
    .map((line) => (/^\s*\{\{.*\}\}\s*$/.test(line) && !/\}\}.*\{\{/.test(line) ? '' : line))
    .join('\n')
    .replace(/\{\{.*?\}\}/g, (action) => `__berth_template_${actions.push(action) - 1}__`);
}
