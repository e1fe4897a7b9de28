/** Who is asking: the principals Berth knows, as the authorization function sees them. */
export type Principal =
  | { kind: 'anonymous' }
  /** A human user; `owner` marks the installation owner, who holds every permission. */
  | { kind: 'user'; id: string; name: string; owner: boolean }
  | { kind: 'servicePrincipal'; id: string; name: string; appId: string }
  /** A registry's admin user (user name = registry name). */
  | { kind: 'admin'; registry: string }
  /** An ACR-style token of one registry, bound to one scope map. */
  | { kind: 'token'; id: string; registry: string; name: string }
  /**
   * A task run's credential: pull, push and delete on every repository of the run's registry, and
   * whatever `identity` (the task's identity, or a quick run's caller) may do.
   */
  | { kind: 'taskRun'; registry: string; runId: string; identity: Principal };

/** The user name that marks the password as a refresh token (ACR's null GUID rule). */
export const REFRESH_TOKEN_USERNAME = '00000000-0000-0000-0000-000000000000';

export function principalName(principal: Principal): string {
  switch (principal.kind) {
    case 'anonymous':
      return 'anonymous';
    case 'admin':
      return principal.registry;
    case 'servicePrincipal':
      return principal.appId;
    case 'taskRun':
      // The credential acts for its identity: pushes by a run show the task's identity.
      return principalName(principal.identity);
    default:
      return principal.name;
  }
}
