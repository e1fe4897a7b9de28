/**
 * The door of the data plane (`/v2/` and `/acr/v1/`): identifies the caller, asks the one
 * authorization function, and answers as Distribution clients expect: `401 UNAUTHORIZED` with a
 * Bearer challenge naming the scope to ask for, `403 DENIED` for an authenticated caller who may
 * not (the same whether or not the repository exists), `429 TOOMANYREQUESTS` when throttled.
 */
import type { FastifyRequest } from 'fastify';
import type { Action } from '../auth/actions.ts';
import type { AccessEntry, Authorizer } from '../auth/services.ts';
import { AuthError } from '../auth/services.ts';
import { RegistryError } from '../oci/errors.ts';
import type { Caller, CallerResolver } from './callers.ts';
import { requestLoginServer, tokenRealm } from './login-server.ts';
import { accessCovers, formatScope } from './scopes.ts';

const ANY_REPOSITORY = 'library/any';

/** What a route needs; `none` is `GET /v2/`: any authenticated caller, or anyone where anonymous pull is on. */
export type GateAction = 'none' | Action;

export class DataPlaneGate {
  constructor(
    private readonly callers: CallerResolver,
    private readonly authorizer: Authorizer,
    /** The login server to name when a request has no usable Host header. */
    private readonly defaultLoginServer: (registry: string) => string,
  ) {}

  /**
   * The caller, if it may do `action`; otherwise throws the `RegistryError` to answer with. A
   * challenge also names pull on `alsoReads`, a repository the request reads when it may (a
   * mount's source), so that the token a client fetches for it covers both, as Distribution asks.
   */
  async admit(request: FastifyRequest, registry: string, repository: string | undefined, action: GateAction, alsoReads?: string): Promise<Caller> {
    const service = requestLoginServer(request, this.defaultLoginServer(registry));
    let caller: Caller;
    try {
      caller = await this.callers.identify(request, registry, service);
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      if (error.reason === 'throttled') throw throttled(error);
      throw challenge(request, service, scopesOf(repository, action, alsoReads), presentedBearer(request) ? 'invalid_token' : undefined);
    }
    const { principal } = caller;
    if (action === 'none') {
      if (principal.kind !== 'anonymous') return caller;
      // Anonymous pull is registry-wide, so asking about any one repository asks whether it is on.
      if (await this.authorizer.authorize(principal, registry, ANY_REPOSITORY, 'pull')) return caller;
      throw challenge(request, service, scopesOf(repository, action, alsoReads));
    }
    const granted = tokenGrants(caller, repository, action);
    // A bearer token's access was decided by authorize() when it was issued, minutes ago at most:
    // honouring it without asking again keeps the hot path to one cached verification.
    if (granted && caller.access !== undefined) return caller;
    const allowed = await this.authorizer.authorize(principal, registry, repository, action);
    if (allowed && granted) return caller;
    if (principal.kind === 'anonymous') throw challenge(request, service, scopesOf(repository, action, alsoReads));
    // The principal may, but its token was issued for less: ask the client to fetch a wider token.
    if (allowed) throw challenge(request, service, scopesOf(repository, action, alsoReads), 'insufficient_scope');
    throw new RegistryError('DENIED');
  }

  /**
   * Whether the caller's principal may do `action`, whatever its bearer token was issued for: for
   * rights no client asks a token for, such as pulling quarantined content.
   */
  async principalMay(caller: Caller, registry: string, repository: string | undefined, action: Action): Promise<boolean> {
    return this.authorizer.authorize(caller.principal, registry, repository, action);
  }

  /** Whether an admitted caller may also do `action` on another repository, e.g. the source of a mount. */
  async permits(caller: Caller, registry: string, repository: string | undefined, action: Action): Promise<boolean> {
    if (!tokenGrants(caller, repository, action)) return false;
    return this.authorizer.authorize(caller.principal, registry, repository, action);
  }
}

/** Whether the request presented a bearer token (for the challenge's `error` parameter). */
function presentedBearer(request: FastifyRequest): boolean {
  return /^bearer /i.test(request.headers.authorization ?? '');
}

function tokenGrants(caller: Caller, repository: string | undefined, action: Action): boolean {
  if (caller.access === undefined) return true;
  if (action === 'catalog') return accessCovers(caller.access, 'registry', 'catalog', '*');
  return repository !== undefined && accessCovers(caller.access, 'repository', repository, action);
}

/**
 * The token scopes a route needs, and pull on the repository it also reads; pushes ask for
 * `pull,push` as Distribution clients do.
 */
function scopesOf(repository: string | undefined, action: GateAction, alsoReads: string | undefined): AccessEntry[] {
  if (action === 'none') return [];
  if (action === 'catalog') return [{ type: 'registry', name: 'catalog', actions: ['*'] }];
  if (repository === undefined) return [];
  const scopes: AccessEntry[] = [{ type: 'repository', name: repository, actions: action === 'push' ? ['pull', 'push'] : [action] }];
  if (alsoReads !== undefined && alsoReads !== repository) scopes.push({ type: 'repository', name: alsoReads, actions: ['pull'] });
  return scopes;
}

/** A Bearer challenge; several scopes go space-separated in its one `scope` parameter. */
function challenge(request: FastifyRequest, service: string, scopes: AccessEntry[], error?: 'invalid_token' | 'insufficient_scope'): RegistryError {
  let header = `Bearer realm="${tokenRealm(request, service)}",service="${service}"`;
  if (scopes.length > 0) header += `,scope="${scopes.map(formatScope).join(' ')}"`;
  if (error) header += `,error="${error}"`;
  const detail = scopes.length > 0 ? scopes.flatMap((scope) => scope.actions.map((action) => ({ Type: scope.type, Name: scope.name, Action: action }))) : null;
  return new RegistryError('UNAUTHORIZED', 'authentication required', { detail, headers: { 'WWW-Authenticate': header } });
}

function throttled(error: AuthError): RegistryError {
  const seconds = Math.max(1, Math.ceil(error.retryAfter ?? 60));
  return new RegistryError('TOOMANYREQUESTS', `too many failed logins; retry after ${seconds} seconds`, {
    headers: { 'Retry-After': String(seconds) },
  });
}
