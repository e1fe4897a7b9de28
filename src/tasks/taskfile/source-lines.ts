/**
 * Line-level reading of a task file before it is rendered: the raw text may hold `{{ }}`
 * actions that are not valid YAML yet, so the few things needed earlier (the version, the
 * `alias` and `secrets` sections) are found by their lines. Every helper keeps line numbers
 * unchanged so that later errors still point into the file as written.
 */

const TOP_LEVEL_KEY = /^["']?([^\s#'"-][^:'"]*)["']?\s*:(\s|$)/;
const DOCUMENT_MARKER = /^(---|\.\.\.)(\s|$)/;

export function splitLines(text: string): string[] {
  return text.split(/\r?\n/);
}

export function isCommentLine(line: string): boolean {
  return /^\s*#/.test(line);
}

/** The `version:` value as written (quotes and a trailing comment removed), or undefined. */
export function findVersion(text: string): string | undefined {
  for (const line of splitLines(text)) {
    const match = /^["']?version["']?\s*:(.*)$/.exec(line);
    if (!match) continue;
    const value = (match[1] ?? '').replace(/\s#.*$/, '').trim();
    return value.replace(/^["']|["']$/g, '');
  }
  return undefined;
}

/** Aliases exist from task file version v1.1.0 on. */
export function supportsAliases(text: string): boolean {
  return findVersion(text)?.toLowerCase() === 'v1.1.0';
}

/** 0-based indexes of the lines of the top-level section `key` (its key line and everything nested under it). */
export function topLevelSectionLines(text: string, key: string): Set<number> {
  const lines = splitLines(text);
  const section = new Set<number>();
  let inside = false;
  lines.forEach((line, index) => {
    const topKey = TOP_LEVEL_KEY.exec(line)?.[1]?.trim();
    if (topKey !== undefined) inside = topKey === key;
    else if (DOCUMENT_MARKER.test(line)) inside = false;
    if (inside) section.add(index);
  });
  return section;
}

/** The text with every line outside `keep` emptied: same line numbers, only the kept YAML. */
export function keepOnlyLines(text: string, keep: Set<number>): string {
  return splitLines(text)
    .map((line, index) => (keep.has(index) ? line : ''))
    .join('\n');
}
