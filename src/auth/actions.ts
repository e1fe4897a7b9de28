/** What a principal may be allowed to do, and how docker token scopes name it. */

/** Repository-scoped actions, named as in docker token scopes (`repository:<name>:<actions>`). */
export const repositoryActions = ['pull', 'push', 'delete', 'metadata_read', 'metadata_write', 'quarantine_read', 'quarantine_write', 'sign'] as const;
export type RepositoryAction = (typeof repositoryActions)[number];

/**
 * Registry- and installation-scoped actions. `assign_roles`: create and delete role assignments
 * at the scope (Owner has it, Contributor does not).
 */
export type RegistryLevelAction = 'catalog' | 'read_registry' | 'manage_registry' | 'assign_roles' | 'manage_installation';

export type Action = RepositoryAction | RegistryLevelAction;

export function isRepositoryAction(value: string): value is RepositoryAction {
  return (repositoryActions as readonly string[]).includes(value);
}
