/**
 * Access to the management API. Every route declares what it needs in `config.access` (a route
 * without one cannot be registered): an action checked through the one authorization function —
 * on the route's `:registry` when it has one — or `authenticated` when the handler decides per
 * object, or `public`. Callers authenticate with Basic credentials (users, service principals, a
 * registry's admin user for its own registry) or a Berth access token.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Action } from '../auth/actions.ts';
import type { Principal } from '../auth/principal.ts';
import type { Authorizer } from '../auth/services.ts';
import { validRegistryName } from '../oci/names.ts';
import type { CallerResolver } from '../oauth/callers.ts';
import { requestLoginServer } from '../oauth/login-server.ts';
import type { RegistryDirectory } from '../services/registry-directory.ts';
import { authenticationRequired, problemOf, ProblemError } from './problem.ts';

export type RouteAccess = { action: Action } | 'authenticated' | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
}

const principals = new WeakMap<FastifyRequest, Principal>();

/** The authenticated caller of a management route (there is none on public routes). */
export function principalOf(request: FastifyRequest): Principal {
  const principal = principals.get(request);
  if (!principal) throw new Error(`${request.routeOptions.url} has no authenticated caller`);
  return principal;
}

export interface ManagementAccessOptions {
  callers: CallerResolver;
  authorizer: Authorizer;
  directory: RegistryDirectory;
}

/** Installs the access check on every route registered after it in this plugin. */
export function installManagementAccess(app: FastifyInstance, { callers, authorizer, directory }: ManagementAccessOptions): void {
  app.addHook('onRoute', (route) => {
    if (!route.config?.access) throw new Error(`management route ${String(route.method)} ${route.url} declares no access`);
  });

  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access;
    if (access === 'public' || access === undefined) return;
    const registryParam = registryOf(request);
    const principal = await authenticate(request, registryParam ?? directory.defaultRegistry);
    principals.set(request, principal);
    if (access === 'authenticated') return;
    const registry = access.action === 'manage_installation' ? undefined : registryParam;
    if (!(await authorizer.authorize(principal, registry, undefined, access.action))) throw forbidden();
  });

  async function authenticate(request: FastifyRequest, registry: string): Promise<Principal> {
    let principal: Principal;
    try {
      const service = requestLoginServer(request, directory.loginServer(directory.defaultRegistry));
      principal = (await callers.identify(request, registry, service)).principal;
    } catch (error) {
      throw problemOf(error) ?? error;
    }
    if (principal.kind === 'anonymous') throw authenticationRequired();
    return principal;
  }
}

/** The well-formed `:registry` of the route, if it has one. */
function registryOf(request: FastifyRequest): string | undefined {
  const value = (request.params as { registry?: unknown } | undefined)?.registry;
  return typeof value === 'string' && validRegistryName(value) === undefined ? value : undefined;
}

export function forbidden(detail = 'the caller is not allowed to do this'): ProblemError {
  return new ProblemError(403, 'Forbidden', detail);
}

/** For handlers that decide per object: throws 403 unless `principal` may do `action`. */
export async function requireAction(authorizer: Authorizer, principal: Principal, registry: string | undefined, action: Action): Promise<void> {
  if (!(await authorizer.authorize(principal, registry, undefined, action))) throw forbidden();
}
