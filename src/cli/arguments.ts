/** Parsing and expansion of command-line values shared by the command groups. */
import { InvalidArgumentError } from 'commander';
import { CliError } from './errors.ts';

/** `true|false` for az's three-state flags (`--admin-enabled`, alone meaning true). */
export function parseBoolean(value: string): boolean {
  const lower = value.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  throw new InvalidArgumentError('expected true or false.');
}

export function parsePositiveInt(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('expected a positive whole number.');
  return number;
}

/** The repository actions of scope maps, as `--repository REPO ACTION...` names them. */
export const repositoryActions = ['content/read', 'content/write', 'content/delete', 'metadata/read', 'metadata/write'] as const;

/**
 * `--repository REPO ACTION... [--repository REPO ACTION...]` arrives as one flat list (commander
 * joins repeated variadic options); a value that is not an action starts the next repository.
 * Returns the stored form `repositories/<repo>/<action>`.
 */
export function expandRepositoryActions(values: string[], flag = '--repository'): string[] {
  const groups: { repository: string; actions: string[] }[] = [];
  for (const value of values) {
    if ((repositoryActions as readonly string[]).includes(value)) {
      const current = groups.at(-1);
      if (!current) throw new CliError(`${flag}: give the repository before its actions, e.g. ${flag} hello-world content/read`);
      if (!current.actions.includes(value)) current.actions.push(value);
    } else if (/^(content|metadata)\/[^/]*$/.test(value)) {
      throw new CliError(`${flag}: unknown action ${value}; actions are ${repositoryActions.join(', ')}`);
    } else {
      groups.push({ repository: value, actions: [] });
    }
  }
  const empty = groups.find((group) => group.actions.length === 0);
  if (empty) throw new CliError(`${flag} ${empty.repository}: no actions given; actions are ${repositoryActions.join(', ')}`);
  return groups.flatMap((group) => group.actions.map((action) => `repositories/${group.repository}/${action}`));
}

export type ImageReference = { repository: string; tag: string; digest?: undefined } | { repository: string; digest: string; tag?: undefined };

/** `repo:tag` or `repo@sha256:...` (as `--image/-t` takes them). */
export function parseImage(value: string): ImageReference {
  const at = value.indexOf('@');
  if (at >= 0) {
    const repository = value.slice(0, at);
    const digest = value.slice(at + 1);
    if (!repository || !/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(digest)) throw new CliError(`--image ${value}: expected repo@<algorithm>:<hex>`);
    return { repository, digest };
  }
  const colon = value.lastIndexOf(':');
  if (colon <= value.lastIndexOf('/') || colon === value.length - 1) throw new CliError(`--image ${value}: expected repo:tag or repo@digest`);
  return { repository: value.slice(0, colon), tag: value.slice(colon + 1) };
}

/** A path of `/acr/v1` or `/v2` naming a repository: each segment percent-encoded, slashes kept. */
export function repositoryPath(repository: string): string {
  if (!repository || repository.startsWith('/') || repository.endsWith('/')) throw new CliError(`invalid repository name: ${repository || '(empty)'}`);
  return repository.split('/').map(encodeURIComponent).join('/');
}

/** `--expiration-in-days N` or `--expiration ISO` → an ISO timestamp (or undefined for neither). */
export function expiryFrom(options: { expirationInDays?: number; expiration?: string }, now = new Date()): string | undefined {
  if (options.expirationInDays !== undefined && options.expiration !== undefined) throw new CliError('give either --expiration-in-days or --expiration, not both');
  if (options.expirationInDays !== undefined) return new Date(now.getTime() + options.expirationInDays * 86_400_000).toISOString();
  if (options.expiration !== undefined) {
    const time = Date.parse(options.expiration);
    if (Number.isNaN(time)) throw new CliError(`--expiration ${options.expiration}: expected a date such as 2025-12-31T12:59:59Z`);
    return new Date(time).toISOString();
  }
  return undefined;
}

/** `--orderby time_desc|time_asc` → the `/acr/v1` `orderby` value. */
export function acrOrderBy(value: string | undefined): 'timedesc' | 'timeasc' | undefined {
  if (value === undefined) return undefined;
  if (value === 'time_desc') return 'timedesc';
  if (value === 'time_asc') return 'timeasc';
  throw new CliError(`--orderby ${value}: expected time_desc or time_asc`);
}

/** `berth configure --defaults registry=<name>`: known keys only; an empty value clears one. */
export function parseDefaults(values: string[]): { registry?: string } {
  const defaults: { registry?: string } = {};
  for (const value of values) {
    const equals = value.indexOf('=');
    const key = equals < 0 ? value : value.slice(0, equals);
    if (equals < 0 || key !== 'registry') throw new CliError(`--defaults ${value}: expected registry=<name>`);
    defaults.registry = value.slice(equals + 1);
  }
  return defaults;
}
