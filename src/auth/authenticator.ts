/**
 * Who is calling, from a user name and password or an access token.
 *
 * A user name and password are tried, in this order, as: the null GUID with a refresh token;
 * the registry's admin user (user name = registry name, while enabled); a token of the
 * registry; a service principal (user name = appId); a user (argon2id). Generated secrets
 * compare by keyed hash, timing-safe. A failed sign-in where no user of that name exists still
 * costs one argon2 verification, so it answers no faster than a wrong user password.
 *
 * A successful argon2 verification is remembered until it has gone unused for `credentialCacheMs`,
 * keyed by a hash of user name and password, together with the stored hash it matched: a hit
 * still reads the user and must find the same stored hash, so a reset password or deleted user
 * applies at once. Kept while in use, a client that signs in again and again (every docker
 * command fetches a token) pays for one verification, 19 MiB of memory and tens of ms, not one
 * per sign-in.
 *
 * Failures count per (address, user name) in the throttle; while locked out, nothing is checked.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { MetaStore } from '../meta/meta-store.ts';
import { maxPasswordLength, verifyDecoy, verifyPassword } from './passwords.ts';
import { REFRESH_TOKEN_USERNAME, type Principal } from './principal.ts';
import { passwordIsLive } from './principal-status.ts';
import type { KeyedHash } from './secrets.ts';
import { AuthError, type AccessEntry, type Authenticator } from './services.ts';
import type { LoginThrottle } from './throttle.ts';
import type { JwtTokenIssuer } from './token-issuer.ts';
import { isUuid, isValidChildName } from './validation.ts';

const maxUsernameLength = 256;
/** Refresh tokens are longer than any password. */
const maxSecretLength = 8 * 1024;
const maxCachedCredentials = 10_000;

interface CachedCredential {
  passwordHash: string;
  expiresAt: number;
}

export interface AuthenticatorOptions {
  /** How long a successful argon2 verification is remembered after its last use; 0 disables the cache. */
  credentialCacheMs: number;
  now?: () => number;
}

export class PasswordAuthenticator implements Authenticator {
  readonly #meta: MetaStore;
  readonly #hash: KeyedHash;
  readonly #throttle: LoginThrottle;
  readonly #tokens: JwtTokenIssuer;
  readonly #cacheMs: number;
  readonly #now: () => number;
  readonly #credentials = new Map<string, CachedCredential>();
  /** Keys the credential cache; per process, never stored. */
  readonly #cacheKey = randomBytes(32);

  constructor(meta: MetaStore, hash: KeyedHash, throttle: LoginThrottle, tokens: JwtTokenIssuer, options: AuthenticatorOptions) {
    this.#meta = meta;
    this.#hash = hash;
    this.#throttle = throttle;
    this.#tokens = tokens;
    this.#cacheMs = options.credentialCacheMs;
    this.#now = options.now ?? Date.now;
  }

  async verifyPassword(username: string, password: string, context: { registry: string; address: string }): Promise<Principal> {
    const retryAfter = this.#throttle.retryAfter(context.address, username);
    if (retryAfter > 0) throw new AuthError('throttled', 'too many failed sign-ins; try again later', retryAfter);
    let principal: Principal | undefined;
    try {
      principal = await this.#identify(username, password, context.registry);
    } catch (error) {
      // A right secret of a disabled or expired token is no guess: it does not count.
      if (!(error instanceof AuthError) || error.reason === 'invalid') this.#throttle.recordFailure(context.address, username);
      throw error;
    }
    if (!principal) {
      this.#throttle.recordFailure(context.address, username);
      throw new AuthError('invalid', 'invalid user name or password');
    }
    this.#throttle.recordSuccess(context.address, username);
    return principal;
  }

  async verifyAccessToken(token: string, service: string): Promise<{ principal: Principal; access: AccessEntry[] }> {
    return await this.#tokens.verifyAccessToken(token, service);
  }

  async #identify(username: string, password: string, registry: string): Promise<Principal | undefined> {
    if (username.length === 0 || username.length > maxUsernameLength || password.length > maxSecretLength) return undefined;

    if (username === REFRESH_TOKEN_USERNAME) {
      try {
        return await this.#tokens.verifyRefreshTokenFor(password, { registry });
      } catch (error) {
        if (error instanceof AuthError && error.reason === 'invalid') return undefined;
        throw error;
      }
    }

    if (username === registry) {
      const admin = await this.#meta.getAdminCredential(registry);
      const slots = admin?.enabled ? [admin.password, admin.password2] : [];
      if (slots.some((slot) => slot !== null && this.#hash.matches(password, slot.hash))) return { kind: 'admin', registry };
    }

    const token = isValidChildName(username) ? await this.#meta.getToken(registry, username) : undefined;
    if (token) {
      const now = this.#now();
      const matched = [token.password1, token.password2].filter(
        (slot) => slot !== null && this.#hash.matches(password, slot.hash),
      );
      if (matched.length > 0) {
        if (token.status !== 'enabled') throw new AuthError('disabled', `token ${token.name} is disabled`);
        if (!matched.some((slot) => passwordIsLive(slot, now))) throw new AuthError('expired', `the password of token ${token.name} has expired`);
        return { kind: 'token', id: token.id, registry: token.registry, name: token.name };
      }
    }

    if (isUuid(username)) {
      const sp = await this.#meta.getServicePrincipal(username.toLowerCase());
      if (sp && this.#hash.matches(password, sp.secretHash)) {
        return { kind: 'servicePrincipal', id: sp.principalId, name: sp.displayName, appId: sp.appId };
      }
    }

    if (password.length > maxPasswordLength) return undefined;
    const user = await this.#meta.getUser(username);
    if (!user) {
      await verifyDecoy(password);
      return undefined;
    }
    if (!(await this.#userPasswordMatches(username, password, user.passwordHash))) return undefined;
    return { kind: 'user', id: user.principalId, name: user.username, owner: user.owner };
  }

  async #userPasswordMatches(username: string, password: string, storedHash: string): Promise<boolean> {
    if (this.#cacheMs <= 0) return await verifyPassword(storedHash, password);
    const key = createHmac('sha256', this.#cacheKey).update(`${username}\0${password}`).digest('base64url');
    const cached = this.#credentials.get(key);
    const now = this.#now();
    if (cached) this.#credentials.delete(key);
    if (cached && cached.expiresAt > now && cached.passwordHash === storedHash) {
      // Moved to the end of the map, so eviction takes the least recently used first.
      this.#credentials.set(key, { passwordHash: storedHash, expiresAt: now + this.#cacheMs });
      return true;
    }
    if (!(await verifyPassword(storedHash, password))) return false;
    if (this.#credentials.size >= maxCachedCredentials) this.#evict(now);
    this.#credentials.set(key, { passwordHash: storedHash, expiresAt: now + this.#cacheMs });
    return true;
  }

  #evict(now: number): void {
    for (const [key, entry] of this.#credentials) {
      if (entry.expiresAt <= now) this.#credentials.delete(key);
    }
    if (this.#credentials.size >= maxCachedCredentials) {
      const oldest = this.#credentials.keys().next();
      if (!oldest.done) this.#credentials.delete(oldest.value);
    }
  }
}
