/**
 * The identity and access services every interface (the `/v2/` API, `/oauth2/`, `/acr/v1/`, the
 * management API) uses. HTTP handlers see only these interfaces; `server.ts` builds them.
 */
import type { Action } from './actions.ts';
import type { Principal } from './principal.ts';

export class AuthError extends Error {
  constructor(
    /** `invalid` = bad or unknown credential; `throttled` = too many failures; `expired`/`disabled` for tokens and principals. */
    readonly reason: 'invalid' | 'throttled' | 'expired' | 'disabled',
    message: string,
    /** Seconds to wait, for `throttled`. */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

/** Not found, conflict, bad input, forbidden: the management API maps these onto problem+json. */
export class IdentityError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409,
    message: string,
  ) {
    super(message);
    this.name = 'IdentityError';
  }
}

export interface Authenticator {
  /**
   * Verifies a user name and password of any kind of principal: user (argon2), service principal
   * (appId + secret), registry admin user (for `registry`), token (for `registry`), or the null
   * GUID with a refresh token. Throttled per (source address, user name). Throws `AuthError`.
   */
  verifyPassword(username: string, password: string, context: { registry: string; address: string }): Promise<Principal>;
  /** Verifies a Berth access token (JWT) issued for `service` (a login server); throws `AuthError`. */
  verifyAccessToken(token: string, service: string): Promise<{ principal: Principal; access: AccessEntry[] }>;
}

export interface AccessEntry {
  type: 'repository' | 'registry';
  name: string;
  actions: string[];
}

export interface Authorizer {
  /** The one decision: may `principal` do `action` on `repository` (or the registry itself) of `registry`? */
  authorize(principal: Principal, registry: string | undefined, repository: string | undefined, action: Action): Promise<boolean>;
}

export interface TokenIssuer {
  /** An access token for `service`, its `access` narrowed to what `principal` may do of `requested`. */
  issueAccessToken(principal: Principal, registry: string, service: string, requested: AccessEntry[]): Promise<{ token: string; expiresIn: number; issuedAt: string; access: AccessEntry[] }>;
  issueRefreshToken(principal: Principal, registry: string, service: string): Promise<{ token: string; expiresIn: number }>;
  /** Verifies a refresh token (signature, expiry, not revoked, principal still valid) for `service`. */
  verifyRefreshToken(token: string, service: string): Promise<Principal>;
  rotateSigningKey(graceSeconds: number): Promise<{ kid: string; previousKid: string | null; graceSeconds: number }>;
}
