/**
 * What each role grants (ACR's built-in roles) and the scopes it can be assigned at:
 * `/` (installation), `/registries/<r>`, `/registries/<r>/repositories/<repo pattern>`.
 */
import { isRepositoryAction, type Action } from './actions.ts';
import { roleNames, type RoleName } from './identity-service.ts';
import { isValidRepositoryPattern, repositoryMatches } from './repository-patterns.ts';

/** Everything on a registry's content and listings: what a registry's admin user may do. */
export const registryContentActions: readonly Action[] = [
  'pull',
  'push',
  'delete',
  'metadata_read',
  'metadata_write',
  'catalog',
  'read_registry',
];

const contributor: readonly Action[] = [...registryContentActions, 'manage_registry'];

/** `manage_installation` counts only at `/`; repository-scoped assignments grant only repository actions. */
export const roleActions: Record<RoleName, ReadonlySet<Action>> = {
  Owner: new Set([...contributor, 'assign_roles', 'manage_installation']),
  Contributor: new Set(contributor),
  Reader: new Set(['pull', 'metadata_read', 'catalog', 'read_registry']),
  AcrPush: new Set(['pull', 'push', 'metadata_read']),
  AcrPull: new Set(['pull']),
  AcrDelete: new Set(['delete']),
  AcrImageSigner: new Set(['sign']),
  AcrQuarantineReader: new Set(['quarantine_read']),
  AcrQuarantineWriter: new Set(['quarantine_read', 'quarantine_write']),
};

export function isRoleName(value: string): value is RoleName {
  return (roleNames as readonly string[]).includes(value);
}

export type RoleScope =
  | { level: 'installation' }
  | { level: 'registry'; registry: string }
  | { level: 'repository'; registry: string; repository: string };

const registryScopePattern = /^\/registries\/([^/]+)$/;
const repositoryScopePattern = /^\/registries\/([^/]+)\/repositories\/(.+)$/;

/** The scope's parts if it is well formed (the registry's existence is not checked). */
export function parseRoleScope(scope: string): RoleScope | undefined {
  if (scope === '/') return { level: 'installation' };
  const registry = registryScopePattern.exec(scope);
  if (registry) return { level: 'registry', registry: registry[1]! };
  const repository = repositoryScopePattern.exec(scope);
  if (repository && isValidRepositoryPattern(repository[2]!)) {
    return { level: 'repository', registry: repository[1]!, repository: repository[2]! };
  }
  return undefined;
}

/**
 * Whether `role` assigned at `scope` allows `action` on `repository` of `registry` (or on the
 * registry itself when `repository` is undefined, or on the installation when both are).
 */
export function roleAllows(
  role: RoleName,
  scope: RoleScope,
  registry: string | undefined,
  repository: string | undefined,
  action: Action,
): boolean {
  if (!roleActions[role].has(action)) return false;
  switch (scope.level) {
    case 'installation':
      return true;
    case 'registry':
      return action !== 'manage_installation' && registry === scope.registry;
    case 'repository':
      return (
        isRepositoryAction(action) &&
        registry === scope.registry &&
        repository !== undefined &&
        repositoryMatches(scope.repository, repository)
      );
  }
}
