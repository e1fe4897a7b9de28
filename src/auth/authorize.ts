/**
 * THE access decision. Every `/v2/`, `/acr/v1/`, `/oauth2/` and management route asks
 * `authorize` (or, for a token request, `grantedActions`, which asks the same rules).
 *
 * - The installation owner (a user flagged owner): everything.
 * - Users and service principals: their role assignments (`roles.ts`) at `/`, at the registry,
 *   or at a repository pattern of the registry.
 * - A registry's admin user, while enabled: pull, push, delete, metadata read/write, catalog
 *   and reading the registry's settings, on that registry only.
 * - A token, while enabled and holding an unexpired password: exactly its scope map's actions,
 *   on its registry only. A scope map that no longer exists grants nothing.
 * - Anonymous: pull, where the registry allows anonymous pull.
 * - A task run's credential: pull, push and delete on every repository of the run's registry
 *   (as ACR's run token), and whatever its identity may do besides.
 *
 * Everything is read from the metadata store on each call: no permission is cached, so a
 * change applies to the next request.
 */
import type { MetaStore } from '../meta/meta-store.ts';
import { isRepositoryAction, repositoryActions, type Action } from './actions.ts';
import type { Principal } from './principal.ts';
import { tokenIsActive } from './principal-status.ts';
import { isRoleName, parseRoleScope, registryContentActions, roleAllows, type RoleScope } from './roles.ts';
import { grantsAllow, parseScopeMapAction, systemScopeMaps, type ScopeMapGrant } from './scope-maps.ts';
import type { Authorizer } from './services.ts';
import type { RoleName } from './identity-service.ts';

/** What one principal may do within one registry (or the installation), decided per request. */
export interface Permissions {
  allows(repository: string | undefined, action: Action): boolean;
}

const nothing: Permissions = { allows: () => false };
const everything: Permissions = { allows: () => true };

const adminActions: ReadonlySet<Action> = new Set(registryContentActions);
const runActions: ReadonlySet<Action> = new Set<Action>(['pull', 'push', 'delete']);

/** Of the docker token actions requested on `repository` (`*` = all), those `permissions` grant, in request order. */
export function narrowActions(permissions: Permissions, repository: string, requested: readonly string[]): string[] {
  const granted = new Set<string>();
  for (const action of requested) {
    const candidates = action === '*' ? repositoryActions : isRepositoryAction(action) ? [action] : [];
    for (const candidate of candidates) {
      if (permissions.allows(repository, candidate)) granted.add(candidate);
    }
  }
  return [...granted];
}

export class RoleAuthorizer implements Authorizer {
  readonly #meta: MetaStore;
  readonly #now: () => number;

  constructor(meta: MetaStore, now: () => number = Date.now) {
    this.#meta = meta;
    this.#now = now;
  }

  async authorize(principal: Principal, registry: string | undefined, repository: string | undefined, action: Action): Promise<boolean> {
    return (await this.permissions(principal, registry)).allows(repository, action);
  }

  /**
   * Of the docker token actions requested on `repository` (`pull`, `push`, `delete`,
   * `metadata_read`, … or `*` for all), those granted, in request order.
   */
  async grantedActions(principal: Principal, registry: string, repository: string, requested: string[]): Promise<string[]> {
    return narrowActions(await this.permissions(principal, registry), repository, requested);
  }

  /** The principal's permissions in `registry` (undefined: the installation level only), read now. */
  async permissions(principal: Principal, registry: string | undefined): Promise<Permissions> {
    switch (principal.kind) {
      case 'anonymous':
        return await this.#anonymous(registry);
      case 'admin':
        return await this.#admin(principal.registry, registry);
      case 'token':
        return await this.#token(principal.id, principal.registry, registry);
      case 'user':
      case 'servicePrincipal':
        return await this.#assignments(principal.id, registry);
      case 'taskRun':
        return await this.#taskRun(principal.registry, principal.identity, registry);
    }
  }

  async #taskRun(own: string, identity: Principal, registry: string | undefined): Promise<Permissions> {
    const granted = await this.permissions(identity, registry);
    if (registry !== own) return granted;
    return {
      allows: (repository, action) => (repository !== undefined && runActions.has(action)) || granted.allows(repository, action),
    };
  }

  async #anonymous(registry: string | undefined): Promise<Permissions> {
    if (registry === undefined) return nothing;
    const record = await this.#meta.getRegistry(registry);
    if (!record?.anonymousPullEnabled) return nothing;
    return { allows: (repository, action) => action === 'pull' && repository !== undefined };
  }

  async #admin(own: string, registry: string | undefined): Promise<Permissions> {
    if (registry !== own) return nothing;
    const credential = await this.#meta.getAdminCredential(own);
    if (!credential?.enabled) return nothing;
    return { allows: (_repository, action) => adminActions.has(action) };
  }

  async #token(id: string, own: string, registry: string | undefined): Promise<Permissions> {
    if (registry !== own) return nothing;
    const token = await this.#meta.getTokenById(id);
    if (!token || token.registry !== own || !tokenIsActive(token, this.#now())) return nothing;
    const grants = await this.#scopeMapGrants(own, token.scopeMap);
    return {
      allows: (repository, action) =>
        repository !== undefined && isRepositoryAction(action) && grantsAllow(grants, repository, action),
    };
  }

  async #scopeMapGrants(registry: string, name: string): Promise<ScopeMapGrant[]> {
    const actions = systemScopeMaps[name]?.actions ?? (await this.#meta.getScopeMap(registry, name))?.actions ?? [];
    return actions.map(parseScopeMapAction).filter((grant): grant is ScopeMapGrant => grant !== undefined);
  }

  async #assignments(principalId: string, registry: string | undefined): Promise<Permissions> {
    const grants = await this.#meta.getPrincipalGrants(principalId, registry);
    if (!grants) return nothing;
    if (grants.owner) return everything;
    const assignments: { role: RoleName; scope: RoleScope }[] = [];
    for (const { role, scope } of grants.assignments) {
      const parsed = parseRoleScope(scope);
      if (parsed && isRoleName(role)) assignments.push({ role, scope: parsed });
    }
    return {
      allows: (repository, action) =>
        assignments.some(({ role, scope }) => roleAllows(role, scope, registry, repository, action)),
    };
  }
}
