/**
 * `berth purge` inputs, parsed as `acr purge` parses them: `--filter '<repo-regex>:<tag-regex>'`
 * (repeatable) and `--ago [N]d<go-duration>`.
 *
 * - The repository part is anchored (`^(?:…)$`), the tag part is not: `app:v1` matches every tag
 *   containing `v1`, as in acr purge; write `app:^v1$` for one tag.
 * - The filter splits at the one colon that is not part of a group flag such as `(?i:…)`;
 *   none or several such colons is an error.
 * - Several filters on the same repository are joined with `|`.
 * - Regexes are JavaScript's (`u` flag); RE2 inline flags such as `(?i)` do not compile.
 * - Every regex is compiled before anything is read or deleted; a bad one is a `PurgeInputError`.
 */

export class PurgeInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PurgeInputError';
  }
}

export interface PurgeFilter {
  /** The repository regex as written (unanchored). */
  repository: string;
  tag: string;
  /** Anchored repository matcher. */
  repositoryRegex: RegExp;
  tagRegex: RegExp;
}

/** Colons inside `(?flags:` open a group, they do not separate repository and tag. */
const groupFlagColon = /\(\?[imsU-]{0,5}:/g;

function compile(source: string, what: string, filter: string): RegExp {
  try {
    return new RegExp(source, 'u');
  } catch (error) {
    throw new PurgeInputError(`filter ${JSON.stringify(filter)}: ${what} regex does not compile: ${(error as Error).message}`);
  }
}

export function parseFilter(filter: string): PurgeFilter {
  const masked = filter.replace(groupFlagColon, (group) => group.replace(':', '\0'));
  const parts = masked.split(':');
  if (parts.length !== 2) throw new PurgeInputError(`filter ${JSON.stringify(filter)}: expected <repository-regex>:<tag-regex>`);
  const [repository, tag] = parts.map((part) => part.replaceAll('\0', ':')) as [string, string];
  if (repository === '') throw new PurgeInputError(`filter ${JSON.stringify(filter)}: missing repository name or regex`);
  if (tag === '') throw new PurgeInputError(`filter ${JSON.stringify(filter)}: missing tag name or regex`);
  return {
    repository,
    tag,
    repositoryRegex: compile(`^(?:${repository})$`, 'repository', filter),
    tagRegex: compile(tag, 'tag', filter),
  };
}

/** Tag matchers per repository: every filter whose repository part matches, joined by `|`. */
export function tagMatchers(filters: readonly PurgeFilter[], repositories: readonly string[]): Map<string, (tag: string) => boolean> {
  const matchers = new Map<string, (tag: string) => boolean>();
  for (const repository of repositories) {
    const regexes = filters.filter((filter) => filter.repositoryRegex.test(repository)).map((filter) => filter.tagRegex);
    if (regexes.length > 0) matchers.set(repository, (tag) => regexes.some((regex) => regex.test(tag)));
  }
  return matchers;
}

const MS = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const DAY_MS = 86_400_000;
/** acr purge caps `--ago` at 150 years. */
export const MAX_AGO_MS = 150 * 365 * DAY_MS;

/** A Go duration (`1h30m`, `1.5h`, `300ms`; no sign), in milliseconds. */
function parseGoDuration(text: string, ago: string): number {
  if (text === '0') return 0;
  const unit = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  let rest = text;
  let total = 0;
  if (rest === '') throw new PurgeInputError(`--ago ${JSON.stringify(ago)}: invalid duration`);
  while (rest !== '') {
    const match = unit.exec(rest);
    if (!match) throw new PurgeInputError(`--ago ${JSON.stringify(ago)}: invalid duration (expected e.g. 1d, 2d3h6m, 90m)`);
    total += Number(match[1]) * MS[match[2] as keyof typeof MS];
    rest = rest.slice(match[0].length);
  }
  return total;
}

/** `--ago`: `[N]d` followed by an optional Go duration (`2d3h6m`, `0d`, `90m`), in milliseconds, capped at 150 years. */
export function parseAgo(ago: string): number {
  const days = /^(\d+)d(.*)$/.exec(ago);
  const ms = days ? Number(days[1]) * DAY_MS + (days[2] === '' ? 0 : parseGoDuration(days[2]!, ago)) : parseGoDuration(ago, ago);
  return Math.min(ms, MAX_AGO_MS);
}
