/**
 * Webhook scopes, as ACR writes them: `repo:tag` limits a webhook to one tag of one repository,
 * `repo:*` to every tag of it, `repo` alone means `repo:latest`, and an empty scope matches
 * everything. `*` is a wildcard in either part (`samples/*:v*`). An event without a tag (a
 * manifest deleted, or pushed by digest) matches only scopes whose tag part is `*`.
 */

export interface ParsedScope {
  repository: RegExp;
  tag: RegExp;
  /** The tag part is `*`: events without a tag match too. */
  anyTag: boolean;
}

/** Repository names' characters, and `*`; no empty path component. */
const repositoryPattern = /^[a-z0-9*._-]+(?:\/[a-z0-9*._-]+)*$/;
const tagPattern = /^[\w.*-]{1,128}$/;

/** Why `scope` is not a valid webhook scope, or undefined if it is. */
export function scopeProblem(scope: string): string | undefined {
  if (scope === '') return undefined;
  if (scope.length > 512) return 'a scope is at most 512 characters';
  const parts = scope.split(':');
  if (parts.length > 2) return `scope "${scope}" has more than one ":"; write repository:tag`;
  const [repository = '', tag] = parts;
  if (!repositoryPattern.test(repository)) return `scope "${scope}": "${repository}" is not a repository name or pattern`;
  if (tag !== undefined && !tagPattern.test(tag)) return `scope "${scope}": "${tag}" is not a tag or tag pattern`;
  return undefined;
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\/-]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`);
}

const parsed = new Map<string, ParsedScope>();
const maxCached = 1000;

/** The scope as patterns; null for the empty scope (everything). Throws on an invalid scope. */
export function parseScope(scope: string): ParsedScope | null {
  if (scope === '') return null;
  const cached = parsed.get(scope);
  if (cached) return cached;
  const problem = scopeProblem(scope);
  if (problem) throw new Error(problem);
  const [repository = '', tag = 'latest'] = scope.split(':');
  const result = { repository: globToRegExp(repository), tag: globToRegExp(tag), anyTag: tag === '*' };
  if (parsed.size >= maxCached) parsed.clear();
  parsed.set(scope, result);
  return result;
}

export function scopeMatches(scope: string, repository: string, tag: string | undefined): boolean {
  const pattern = parseScope(scope);
  if (pattern === null) return true;
  if (!pattern.repository.test(repository)) return false;
  return tag === undefined ? pattern.anyTag : pattern.tag.test(tag);
}
