/**
 * Scope maps: what a token may do, as a list of `repositories/<repo pattern>/<action>` with
 * ACR's five actions, and the read-only system scope maps every registry has.
 */
import type { RepositoryAction } from './actions.ts';
import { isValidRepositoryPattern, repositoryMatches } from './repository-patterns.ts';

/** Scope-map action → the docker token action it allows. */
export const scopeMapActions = {
  'content/read': 'pull',
  'content/write': 'push',
  'content/delete': 'delete',
  'metadata/read': 'metadata_read',
  'metadata/write': 'metadata_write',
} as const satisfies Record<string, RepositoryAction>;

export type ScopeMapActionName = keyof typeof scopeMapActions;

export interface ScopeMapGrant {
  repository: string;
  action: RepositoryAction;
}

const prefix = 'repositories/';

/** The grant a stored action stands for, or undefined if it is malformed. */
export function parseScopeMapAction(text: string): ScopeMapGrant | undefined {
  if (!text.startsWith(prefix)) return undefined;
  for (const [name, action] of Object.entries(scopeMapActions)) {
    const suffix = `/${name}`;
    if (!text.endsWith(suffix)) continue;
    const repository = text.slice(prefix.length, -suffix.length);
    return isValidRepositoryPattern(repository) ? { repository, action } : undefined;
  }
  return undefined;
}

export function grantsAllow(grants: readonly ScopeMapGrant[], repository: string, action: RepositoryAction): boolean {
  return grants.some((grant) => grant.action === action && repositoryMatches(grant.repository, repository));
}

function everyRepository(...actions: ScopeMapActionName[]): string[] {
  return actions.map((action) => `${prefix}*/${action}`);
}

/** ACR's system scope maps, present in every registry and never changed. */
export const systemScopeMaps: Record<string, { description: string; actions: string[] }> = {
  _repositories_admin: {
    description: 'Can perform all read, write and delete operations on the registry',
    actions: everyRepository('content/read', 'content/write', 'content/delete', 'metadata/read', 'metadata/write'),
  },
  _repositories_pull: {
    description: 'Can pull any repository of the registry',
    actions: everyRepository('content/read'),
  },
  _repositories_pull_metadata_read: {
    description: 'Can perform all read operations on the registry',
    actions: everyRepository('content/read', 'metadata/read'),
  },
  _repositories_push: {
    description: 'Can push to any repository of the registry',
    actions: everyRepository('content/read', 'content/write'),
  },
  _repositories_push_metadata_write: {
    description: 'Can perform all read and write operations on the registry',
    actions: everyRepository('content/read', 'content/write', 'metadata/read', 'metadata/write'),
  },
};

export function isSystemScopeMap(name: string): boolean {
  return Object.hasOwn(systemScopeMaps, name);
}
