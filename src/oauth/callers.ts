/**
 * Who is calling: turns a request's `Authorization` header into a principal. Basic credentials go
 * to the authenticator (which throttles failures); bearer access tokens to the token verifier,
 * which keeps verified tokens until they expire, so a client reusing its token costs a lookup.
 */
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../auth/principal.ts';
import { AuthError, type AccessEntry, type Authenticator } from '../auth/services.ts';
import { parseAuthorization } from './credentials.ts';

export interface Caller {
  principal: Principal;
  /** What a bearer token grants; undefined for Basic and anonymous callers (the principal's own rights apply). */
  access?: AccessEntry[];
}

const ANONYMOUS: Caller = Object.freeze({ principal: Object.freeze({ kind: 'anonymous' as const }) });

export class CallerResolver {
  constructor(private readonly authenticator: Authenticator) {}

  /**
   * The caller of `request` addressing `registry` through the login server `service`. No
   * credentials means anonymous. Throws `AuthError` for bad, expired or throttled credentials.
   */
  async identify(request: FastifyRequest, registry: string, service: string): Promise<Caller> {
    const credentials = parseAuthorization(request.headers.authorization);
    if (!credentials) return ANONYMOUS;
    if (credentials.scheme === 'basic') {
      const principal = await verifyPassword(this.authenticator, request, credentials.username, credentials.password, registry);
      return { principal };
    }
    return this.authenticator.verifyAccessToken(credentials.token, service);
  }
}

/** Verifies a user name and password for `registry`, logging a failure with the user name and address (never the password). */
export async function verifyPassword(authenticator: Authenticator, request: FastifyRequest, username: string, password: string, registry: string): Promise<Principal> {
  try {
    return await authenticator.verifyPassword(username, password, { registry, address: request.ip });
  } catch (error) {
    if (error instanceof AuthError) request.log.info({ user: username.slice(0, 256), address: request.ip, registry, reason: error.reason }, 'sign-in refused');
    throw error;
  }
}
