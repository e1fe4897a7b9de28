/**
 * ACR's aliases (task file version v1.1.0): `$Registry`, `$ID` and the other predefined
 * names, custom `alias.values` written with the `alias.directive` character (default `$`,
 * doubled to write it literally), and custom names used as a `cmd` step's first word.
 * As in ACR's runner, aliases are replaced in the text before it is rendered, so a `{{ }}`
 * value (a secret, a `--set` value) is never read for aliases.
 */
import { isMap, type YAMLMap } from 'yaml';
import { isCommentLine, keepOnlyLines, splitLines, topLevelSectionLines } from './source-lines.ts';
import type { IssueLog } from './task-file-error.ts';
import { parseYaml, type YamlContext } from './yaml-fields.ts';

/** The predefined aliases; each stands for the run variable of the same name. */
export const PREDEFINED_ALIASES: Readonly<Record<string, string>> = Object.fromEntries(
  ['ID', 'SharedVolume', 'Registry', 'RegistryName', 'Date', 'OS', 'Architecture', 'Commit', 'Branch'].map((name) => [
    name,
    `{{.Run.${name}}}`,
  ]),
);

/**
 * ACR's image aliases for a `cmd` step's first word. Their images live on mcr.microsoft.com,
 * which Berth does not reach, so they are not replaced; a step using one is warned about.
 * (`acr` lines run on the host: see cmd-line.ts.)
 */
export const IMAGE_ALIASES: Readonly<Record<string, string>> = {
  az: 'mcr.microsoft.com/acr/azure-cli',
  bash: 'mcr.microsoft.com/acr/bash',
  curl: 'mcr.microsoft.com/acr/curl',
  cssc: 'mcr.microsoft.com/acr/cssc',
};

const ALIAS_NAME = /^[A-Za-z0-9]+$/;
const ALIAS_PROPERTIES = ['values', 'src', 'directive'] as const;

export interface AliasDefinitions {
  directive: string;
  /** The file's own `alias.values`. */
  custom: Map<string, string>;
}

export const NO_CUSTOM_ALIASES: AliasDefinitions = { directive: '$', custom: new Map() };

/** Reads the `alias` mapping (already rendered), recording its errors and warnings. */
export function readAliasDefinitions(ctx: YamlContext, node: YAMLMap, line: number): AliasDefinitions {
  const fields = ctx.fields(node, ALIAS_PROPERTIES, line);
  const definitions: AliasDefinitions = { directive: '$', custom: new Map() };

  const directive = fields.string('directive');
  if (directive !== undefined && directive !== '') {
    if ([...directive].length !== 1) ctx.issues.error(fields.keyLine('directive'), "'alias.directive' must be a single character");
    else if (ALIAS_NAME.test(directive)) ctx.issues.error(fields.keyLine('directive'), "'alias.directive' cannot be a letter or a digit");
    else definitions.directive = directive;
  }

  for (const { value: [name, value], line: entryLine } of fields.stringMap('values') ?? []) {
    if (!ALIAS_NAME.test(name)) ctx.issues.error(entryLine, `alias name '${name}' may contain only letters and digits`);
    else if (value.includes('\n')) ctx.issues.error(entryLine, `alias '${name}' must be a single line`);
    else definitions.custom.set(name, value);
  }

  for (const source of fields.stringItems('src') ?? []) {
    ctx.issues.warn(source.line, `alias source '${source.value}' is not loaded: 'alias.src' is not supported here; define the aliases under 'alias.values'`);
  }
  return definitions;
}

/** Replaces aliases in `text`, except on comment lines and the lines in `skip` (the alias section). */
export function expandAliases(text: string, definitions: AliasDefinitions, skip: Set<number>): string {
  const lookUp = (name: string): string | undefined => definitions.custom.get(name) ?? PREDEFINED_ALIASES[name];
  return splitLines(text)
    .map((line, index) => (skip.has(index) || isCommentLine(line) ? line : expandLine(line, definitions.directive, lookUp)))
    .join('\n');
}

/**
 * One line through ACR's alias state machine: the directive starts a name of letters and
 * digits; a known name is replaced, an unknown one kept as written (`$HOME`), and a doubled
 * directive stands for itself.
 */
function expandLine(line: string, directive: string, lookUp: (name: string) => string | undefined): string {
  let out = '';
  let name: string | undefined;
  for (const char of `${line}\n`) {
    if (name === undefined) {
      if (char === directive) name = '';
      else out += char;
      continue;
    }
    if (char === directive && name === '') {
      out += directive;
      name = undefined;
    } else if (/[A-Za-z0-9]/.test(char)) {
      name += char;
    } else {
      const value = lookUp(name);
      out += value ?? directive + name;
      name = char === directive ? '' : undefined;
      if (name === undefined) out += char;
    }
  }
  return out.slice(0, -1);
}

export interface CommandAliasResult {
  cmd: string;
  warning?: string;
}

/** A `cmd` line whose first word is a custom alias gets that alias's value in its place. */
export function expandCommandAlias(cmd: string, definitions: AliasDefinitions): CommandAliasResult {
  const trimmed = cmd.trim();
  const firstWord = trimmed.split(/\s/, 1)[0] ?? '';
  const custom = definitions.custom.get(firstWord);
  if (custom !== undefined) return { cmd: custom + trimmed.slice(firstWord.length) };
  const image = IMAGE_ALIASES[firstWord];
  if (image === undefined) return { cmd };
  return {
    cmd,
    warning: `'${firstWord}' is ACR's alias for ${image}, which is not reachable here; the image '${firstWord}' is used as written`,
  };
}

/**
 * The top-level `alias` section: its lines, and its definitions once `prepare` (rendering) has
 * run over it. Its YAML errors are left to the parse of the whole file, which reports them on
 * the same lines.
 */
export function readAliasSection(
  text: string,
  prepare: (sectionText: string) => string,
  issues: IssueLog,
): { lines: Set<number>; aliases: AliasDefinitions } {
  const lines = topLevelSectionLines(text, 'alias');
  if (lines.size === 0) return { lines, aliases: NO_CUSTOM_ALIASES };
  const { ctx, yamlIssues } = parseYaml(prepare(keepOnlyLines(text, lines)), issues);
  const root = ctx.doc.contents;
  if (yamlIssues || !isMap(root)) return { lines, aliases: NO_CUSTOM_ALIASES };
  const alias = ctx.fields(root, ['alias'], 1).map('alias');
  return { lines, aliases: alias ? readAliasDefinitions(ctx, alias.value, alias.line) : NO_CUSTOM_ALIASES };
}
