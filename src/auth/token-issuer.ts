/**
 * Berth's tokens: ES256 JWTs signed with the installation's signing key.
 *
 * - Access token (default 5 min): `iss: "berth"`, `aud` = the login server (service) it was
 *   asked for, `sub`, `iat`, `nbf`, `exp`, `jti`, `access` narrowed by the authorizer to what is
 *   granted of what was requested, plus `principal` and `registry`. Verified tokens are cached
 *   by their exact string until they expire, so an authenticated request costs a map lookup.
 * - Refresh token (default 3 h): the same claims without `access`, `typ: "refresh"`; the HMAC of
 *   its `jti` is stored, so it can be revoked, and each use re-reads the principal (deleted,
 *   disabled, expired, password changed → refused); a run credential's also ends with its run.
 */
import { randomBytes } from 'node:crypto';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import type { MetaStore } from '../meta/meta-store.ts';
import type { RefreshTokenHolder } from '../meta/identity-store.ts';
import { narrowActions, type RoleAuthorizer } from './authorize.ts';
import type { Principal } from './principal.ts';
import { principalName } from './principal.ts';
import { currentPrincipal } from './principal-status.ts';
import type { KeyedHash } from './secrets.ts';
import { AuthError, type AccessEntry, type TokenIssuer } from './services.ts';
import type { SigningKeys } from './signing-keys.ts';

export const issuer = 'berth';

export interface TokenLifetimes {
  accessTokenSeconds: number;
  refreshTokenSeconds: number;
}

interface BerthClaims extends JWTPayload {
  typ: 'access' | 'refresh';
  principal: Principal;
  registry: string;
  access?: AccessEntry[];
}

interface CachedAccessToken {
  /** The whole token: only the very same string is answered from the cache. */
  token: string;
  principal: Principal;
  access: AccessEntry[];
  audience: string;
  kid: string;
  expiresAt: number;
}

/** Tokens longer than this are refused unread. */
const maxTokenLength = 8 * 1024;
const maxCachedTokens = 10_000;
/** Expired refresh-token records are purged at most this often. */
const purgeIntervalMs = 60 * 60_000;

export class JwtTokenIssuer implements TokenIssuer {
  readonly #meta: MetaStore;
  readonly #keys: SigningKeys;
  readonly #authorizer: RoleAuthorizer;
  readonly #hash: KeyedHash;
  readonly #lifetimes: TokenLifetimes;
  readonly #now: () => number;
  readonly #verified = new Map<string, CachedAccessToken>();
  #purgedAt = 0;

  constructor(
    meta: MetaStore,
    keys: SigningKeys,
    authorizer: RoleAuthorizer,
    hash: KeyedHash,
    lifetimes: TokenLifetimes,
    now: () => number = Date.now,
  ) {
    this.#meta = meta;
    this.#keys = keys;
    this.#authorizer = authorizer;
    this.#hash = hash;
    this.#lifetimes = lifetimes;
    this.#now = now;
  }

  async issueAccessToken(
    principal: Principal,
    registry: string,
    service: string,
    requested: AccessEntry[],
  ): Promise<{ token: string; expiresIn: number; issuedAt: string; access: AccessEntry[] }> {
    const access = await this.#narrow(principal, registry, requested);
    const expiresIn = this.#lifetimes.accessTokenSeconds;
    const { token, issuedAt } = await this.#sign({ typ: 'access', principal, registry, access }, service, expiresIn);
    return { token, expiresIn, issuedAt: new Date(issuedAt * 1000).toISOString(), access };
  }

  /** `lifetimeSeconds` overrides the configured lifetime (a run credential lives as long as its run may). */
  async issueRefreshToken(
    principal: Principal,
    registry: string,
    service: string,
    lifetimeSeconds?: number,
  ): Promise<{ token: string; expiresIn: number }> {
    const expiresIn = lifetimeSeconds ?? this.#lifetimes.refreshTokenSeconds;
    const jti = randomBytes(32).toString('base64url');
    await this.#meta.createRefreshToken({
      idHash: this.#hash.hash(jti),
      registry,
      holder: refreshTokenHolder(principal),
      expiresAt: new Date(this.#now() + expiresIn * 1000).toISOString(),
    });
    const { token } = await this.#sign({ typ: 'refresh', principal, registry }, service, expiresIn, jti);
    this.#purgeExpiredRefreshTokens();
    return { token, expiresIn };
  }

  async verifyRefreshToken(token: string, service: string): Promise<Principal> {
    return await this.verifyRefreshTokenFor(token, { service });
  }

  /**
   * A refresh token presented for `service` (its audience must match) or, as the password of
   * Basic credentials, for `registry` (the registry it was issued for must match).
   */
  async verifyRefreshTokenFor(token: string, target: { service: string } | { registry: string }): Promise<Principal> {
    const claims = await this.#verify(token, 'service' in target ? target.service : undefined);
    if (claims.typ !== 'refresh' || typeof claims.jti !== 'string') throw invalid();
    if ('registry' in target && claims.registry !== target.registry) throw invalid();
    const record = await this.#meta.getRefreshToken(this.#hash.hash(claims.jti));
    if (!record || record.revoked || record.registry !== claims.registry) throw new AuthError('invalid', 'the refresh token was revoked');
    if (Date.parse(record.expiresAt) <= this.#now()) throw new AuthError('expired', 'the refresh token has expired');
    const principal = await currentPrincipal(this.#meta, claims.principal, this.#now());
    if (!principal) throw new AuthError('disabled', 'the principal of the refresh token can no longer sign in');
    return principal;
  }

  /** Revokes a refresh token (for `berth ... revoke`); false if it is not one of ours or already unknown. */
  async revokeRefreshToken(token: string): Promise<boolean> {
    let claims: BerthClaims;
    try {
      claims = await this.#verify(token, undefined, { ignoreExpiry: true });
    } catch {
      return false;
    }
    if (claims.typ !== 'refresh' || typeof claims.jti !== 'string') return false;
    return await this.#meta.revokeRefreshToken(this.#hash.hash(claims.jti));
  }

  async verifyAccessToken(token: string, service: string): Promise<{ principal: Principal; access: AccessEntry[] }> {
    const key = cacheKey(token);
    const cached = this.#verified.get(key);
    if (cached?.token === token) {
      if (cached.expiresAt <= this.#now()) {
        this.#verified.delete(key);
        throw expired();
      }
      if (cached.audience !== service || !this.#keys.isUsable(cached.kid)) throw invalid();
      return { principal: cached.principal, access: cached.access };
    }
    const claims = await this.#verify(token, service);
    if (claims.typ !== 'access' || typeof claims.exp !== 'number') throw invalid();
    const entry: CachedAccessToken = {
      token,
      principal: claims.principal,
      access: claims.access ?? [],
      audience: service,
      kid: decodeProtectedHeader(token).kid ?? '',
      expiresAt: claims.exp * 1000,
    };
    if (this.#verified.size >= maxCachedTokens) this.#evictFromCache();
    this.#verified.set(key, entry);
    return { principal: entry.principal, access: entry.access };
  }

  async rotateSigningKey(graceSeconds: number): Promise<{ kid: string; previousKid: string | null; graceSeconds: number }> {
    return await this.#keys.rotate(graceSeconds);
  }

  async #narrow(principal: Principal, registry: string, requested: AccessEntry[]): Promise<AccessEntry[]> {
    const permissions = await this.#authorizer.permissions(principal, registry);
    const granted: AccessEntry[] = [];
    for (const entry of requested) {
      if (entry.type === 'registry') {
        if (entry.name === 'catalog' && entry.actions.includes('*') && permissions.allows(undefined, 'catalog')) {
          granted.push({ type: 'registry', name: 'catalog', actions: ['*'] });
        }
        continue;
      }
      const actions = narrowActions(permissions, entry.name, entry.actions);
      if (actions.length > 0) granted.push({ type: 'repository', name: entry.name, actions });
    }
    return granted;
  }

  async #sign(claims: BerthClaims, audience: string, expiresIn: number, jti = randomBytes(16).toString('base64url')) {
    const key = await this.#keys.signingKey();
    const issuedAt = Math.floor(this.#now() / 1000);
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject(principalName(claims.principal))
      .setIssuedAt(issuedAt)
      .setNotBefore(issuedAt)
      .setExpirationTime(issuedAt + expiresIn)
      .setJti(jti)
      .sign(key.privateKey);
    return { token, issuedAt };
  }

  /** Signature, issuer, audience (when given), time claims, and the key still being usable. */
  async #verify(token: string, audience: string | undefined, options: { ignoreExpiry?: boolean } = {}): Promise<BerthClaims> {
    if (token.length > maxTokenLength) throw invalid();
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      throw invalid();
    }
    const key = kid === undefined ? undefined : await this.#keys.verificationKey(kid);
    if (!key) throw invalid();
    try {
      const { payload } = await jwtVerify<BerthClaims>(token, key, {
        algorithms: ['ES256'],
        issuer,
        ...(audience === undefined ? {} : { audience }),
        currentDate: new Date(this.#now()),
        // Revoking needs only the signature: an expired token is revoked as well.
        ...(options.ignoreExpiry ? { clockTolerance: Number.MAX_SAFE_INTEGER } : {}),
        requiredClaims: ['exp', 'iat', 'sub', 'jti'],
      });
      if (!isPrincipal(payload.principal) || typeof payload.registry !== 'string') throw invalid();
      return payload;
    } catch (error) {
      if (error instanceof AuthError) throw error;
      if (error instanceof joseErrors.JWTExpired) throw expired();
      throw invalid();
    }
  }

  #evictFromCache(): void {
    const now = this.#now();
    for (const [key, entry] of this.#verified) {
      if (entry.expiresAt <= now) this.#verified.delete(key);
    }
    if (this.#verified.size >= maxCachedTokens) {
      const oldest = this.#verified.keys().next();
      if (!oldest.done) this.#verified.delete(oldest.value);
    }
  }

  #purgeExpiredRefreshTokens(): void {
    const now = this.#now();
    if (now - this.#purgedAt < purgeIntervalMs) return;
    this.#purgedAt = now;
    // Best effort: a failed purge is retried after the next interval.
    this.#meta.deleteExpiredRefreshTokens(new Date(now).toISOString()).catch(() => {});
  }
}

/**
 * Where a verified token is kept: its signature, a tenth of the token, since a lookup hashes the
 * whole key. The entry holds the whole token, which must be equal for a hit.
 */
function cacheKey(token: string): string {
  return token.slice(token.lastIndexOf('.') + 1);
}

function refreshTokenHolder(principal: Principal): RefreshTokenHolder {
  switch (principal.kind) {
    case 'user':
    case 'servicePrincipal':
      return { kind: principal.kind, principalId: principal.id };
    case 'token':
      return { kind: 'token', tokenId: principal.id };
    case 'admin':
      return { kind: 'admin' };
    case 'anonymous':
      throw new AuthError('invalid', 'anonymous callers get no refresh token');
    case 'taskRun':
      // Held by the run's identity: deleting it, or changing its password, revokes the token too.
      return refreshTokenHolder(principal.identity);
  }
}

function isPrincipal(value: unknown): value is Principal {
  const kind = (value as { kind?: unknown } | null)?.kind;
  return typeof kind === 'string' && ['anonymous', 'user', 'servicePrincipal', 'admin', 'token', 'taskRun'].includes(kind);
}

function invalid(): AuthError {
  return new AuthError('invalid', 'invalid token');
}

function expired(): AuthError {
  return new AuthError('expired', 'the token has expired');
}
