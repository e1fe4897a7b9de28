/**
 * Repository patterns of role scopes and scope maps: a repository name, `*` for every
 * repository, or a prefix wildcard such as `samples/*` for every repository under `samples/`.
 */
import { isValidRepositoryName } from '../oci/names.ts';

export function isValidRepositoryPattern(pattern: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('/*')) return isValidRepositoryName(pattern.slice(0, -2));
  return isValidRepositoryName(pattern);
}

export function repositoryMatches(pattern: string, repository: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('/*')) return repository.startsWith(pattern.slice(0, -1));
  return pattern === repository;
}
