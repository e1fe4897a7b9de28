/**
 * Identity and access for one Berth process: `createAuth` builds the authenticator, the one
 * authorization function, the token issuer and the identity service on the metadata store.
 */
import type { MetaStore } from '../meta/meta-store.ts';
import { PasswordAuthenticator } from './authenticator.ts';
import { RoleAuthorizer } from './authorize.ts';
import { deriveKey, KeyedHash, loadInstallationSecret } from './secrets.ts';
import { SigningKeys } from './signing-keys.ts';
import { StoredIdentityService } from './stored-identity-service.ts';
import { LoginThrottle, type ThrottleLimits } from './throttle.ts';
import { JwtTokenIssuer } from './token-issuer.ts';

export interface AuthOptions {
  meta: MetaStore;
  /** The installation secret (created on first start, mode 0600); every node needs the same file. */
  secretKeyFile: string;
  /** Access token lifetime; default 300 s. */
  accessTokenSeconds?: number;
  /** Refresh token lifetime; default 10,800 s (3 h). */
  refreshTokenSeconds?: number;
  throttle: ThrottleLimits;
  /** How long a successful argon2 verification is remembered; default 60 s, 0 disables. */
  credentialCacheSeconds?: number;
  /** The clock, for tests; ms since the epoch. */
  now?: () => number;
}

export interface Auth {
  authenticator: PasswordAuthenticator;
  authorizer: RoleAuthorizer;
  tokens: JwtTokenIssuer;
  identity: StoredIdentityService;
}

export async function createAuth(options: AuthOptions): Promise<Auth> {
  const now = options.now ?? Date.now;
  const secret = await loadInstallationSecret(options.secretKeyFile);
  const hash = new KeyedHash(deriveKey(secret, 'credential hashes'));
  const keys = await SigningKeys.open(options.meta, deriveKey(secret, 'signing key seal'), now);
  const authorizer = new RoleAuthorizer(options.meta, now);
  const tokens = new JwtTokenIssuer(
    options.meta,
    keys,
    authorizer,
    hash,
    { accessTokenSeconds: options.accessTokenSeconds ?? 300, refreshTokenSeconds: options.refreshTokenSeconds ?? 3 * 60 * 60 },
    now,
  );
  const authenticator = new PasswordAuthenticator(options.meta, hash, new LoginThrottle(options.throttle, now), tokens, {
    credentialCacheMs: (options.credentialCacheSeconds ?? 60) * 1000,
    now,
  });
  const identity = new StoredIdentityService(options.meta, hash, { now });
  return { authenticator, authorizer, tokens, identity };
}

export { accessAllows, parseAccessScope, formatAccessScope } from './access-scope.ts';
export { narrowActions, type Permissions } from './authorize.ts';
export { isRepositoryAction, repositoryActions, type Action, type RepositoryAction, type RegistryLevelAction } from './actions.ts';
export { roleNames, type IdentityService, type RegistrySettings, type RoleName } from './identity-service.ts';
export { principalName, REFRESH_TOKEN_USERNAME, type Principal } from './principal.ts';
export { issueRunCredential, type RunCredential, type RunCredentialIssuer, type RunCredentialRequest } from './run-credentials.ts';
export { AuthError, IdentityError, type AccessEntry, type Authenticator, type Authorizer, type TokenIssuer } from './services.ts';
export type { ThrottleLimits } from './throttle.ts';
export { PasswordAuthenticator, RoleAuthorizer, JwtTokenIssuer, StoredIdentityService };
