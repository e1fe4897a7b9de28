/**
 * Whether a principal may still act, read fresh from the metadata store: deleted principals,
 * disabled or expired tokens and disabled admin users may not, nor the credential of a run that
 * has finished (or of one whose identity may no longer act).
 */
import type { MetaStore } from '../meta/meta-store.ts';
import type { TokenPasswordSlot, TokenRecord } from '../meta/identity-store.ts';
import { finishedRunStatuses } from '../meta/task-store.ts';
import type { Principal } from './principal.ts';

export function passwordIsLive(slot: TokenPasswordSlot | null, now: number): slot is TokenPasswordSlot {
  return slot !== null && (slot.expiresAt === null || Date.parse(slot.expiresAt) > now);
}

/** Enabled, with at least one password that has not expired. */
export function tokenIsActive(token: TokenRecord, now: number): boolean {
  return token.status === 'enabled' && (passwordIsLive(token.password1, now) || passwordIsLive(token.password2, now));
}

/** The principal as it is now (a user's owner flag re-read), or undefined if it may no longer act. */
export async function currentPrincipal(meta: MetaStore, principal: Principal, now: number): Promise<Principal | undefined> {
  switch (principal.kind) {
    case 'anonymous':
      return principal;
    case 'user': {
      const user = await meta.getUserById(principal.id);
      return user && { kind: 'user', id: user.principalId, name: user.username, owner: user.owner };
    }
    case 'servicePrincipal': {
      const sp = await meta.getServicePrincipalById(principal.id);
      return sp && { kind: 'servicePrincipal', id: sp.principalId, name: sp.displayName, appId: sp.appId };
    }
    case 'admin': {
      const credential = await meta.getAdminCredential(principal.registry);
      return credential?.enabled ? principal : undefined;
    }
    case 'token': {
      const token = await meta.getTokenById(principal.id);
      return token && token.registry === principal.registry && tokenIsActive(token, now)
        ? { kind: 'token', id: token.id, registry: token.registry, name: token.name }
        : undefined;
    }
    case 'taskRun': {
      const run = await meta.tasks.getRun(principal.registry, principal.runId);
      if (!run || finishedRunStatuses.includes(run.status)) return undefined;
      const identity = await currentPrincipal(meta, principal.identity, now);
      return identity && { ...principal, identity };
    }
  }
}
