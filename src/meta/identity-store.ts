/**
 * The identity part of the metadata store: users, service principals, role assignments, the
 * admin user's passwords, scope maps, tokens, refresh tokens and signing keys (schema in
 * `schema.ts`). It stores hashes, never secrets, and makes no access decision: `src/auth/` does.
 *
 * Every write that changes a credential (a password set or reset, a token's passwords
 * regenerated) revokes the refresh tokens issued on the old one in the same transaction, so the
 * change takes effect on the next token request.
 */
import type { PrincipalKind } from './schema.ts';

export type { PrincipalKind };

export interface UserRecord {
  principalId: string;
  username: string;
  /** argon2id, PHC string format. */
  passwordHash: string;
  owner: boolean;
  createdAt: string;
}

export interface ServicePrincipalRecord {
  principalId: string;
  appId: string;
  displayName: string;
  /** HMAC-SHA-256 of the generated secret. */
  secretHash: string;
  createdAt: string;
}

export interface NewRoleAssignment {
  id: string;
  principalId: string;
  role: string;
  scope: string;
  /** The registry the scope lies in; null for the installation scope `/`. */
  registry: string | null;
}

export interface RoleAssignmentRecord {
  id: string;
  principalId: string;
  /** User name or service principal display name. */
  principalName: string;
  principalType: PrincipalKind;
  role: string;
  scope: string;
  createdAt: string;
}

export interface RoleAssignmentFilter {
  principalId?: string;
  scope?: string;
  role?: string;
}

/** What authorization needs to know of a user or service principal, read fresh each time. */
export interface PrincipalGrants {
  kind: PrincipalKind;
  owner: boolean;
  /** Assignments at `/` and, when a registry was given, within that registry. */
  assignments: { role: string; scope: string }[];
}

export interface SecretSlot {
  hash: string;
  createdAt: string;
}

export interface AdminCredentialRecord {
  enabled: boolean;
  /** Null until first generated. */
  password: SecretSlot | null;
  password2: SecretSlot | null;
}

export interface NewScopeMap {
  registry: string;
  name: string;
  description: string;
  actions: string[];
}

export interface ScopeMapRecord extends NewScopeMap {
  createdAt: string;
}

export type DeleteScopeMapResult = 'deleted' | 'not-found' | 'in-use';

export interface TokenPasswordSlot extends SecretSlot {
  /** ISO-8601, or null for never. */
  expiresAt: string | null;
}

export type TokenStatus = 'enabled' | 'disabled';

export interface NewToken {
  id: string;
  registry: string;
  name: string;
  scopeMap: string;
  status: TokenStatus;
  password1: TokenPasswordSlot | null;
  password2: TokenPasswordSlot | null;
}

export interface TokenRecord extends NewToken {
  createdAt: string;
}

export type RefreshTokenHolder =
  | { kind: 'user' | 'servicePrincipal'; principalId: string }
  | { kind: 'token'; tokenId: string }
  | { kind: 'admin' };

export interface NewRefreshToken {
  /** HMAC of the token's `jti`. */
  idHash: string;
  registry: string;
  holder: RefreshTokenHolder;
  expiresAt: string;
}

export interface RefreshTokenRecord extends NewRefreshToken {
  createdAt: string;
  revoked: boolean;
}

export interface SigningKeyRecord {
  kid: string;
  /** The private JWK, sealed with the installation secret. */
  privateKey: string;
  /** The public JWK as JSON text. */
  publicJwk: string;
  createdAt: string;
  /** Null for the key that signs now. */
  retiredAt: string | null;
  /** A retired key verifies until then. */
  graceUntil: string | null;
}

export type NewSigningKey = Pick<SigningKeyRecord, 'kid' | 'privateKey' | 'publicJwk'>;

export interface IdentityStore {
  /** Throws `AlreadyExistsError` if the user name is taken. */
  createUser(user: { principalId: string; username: string; passwordHash: string; owner: boolean }): Promise<UserRecord>;
  getUser(username: string): Promise<UserRecord | undefined>;
  getUserById(principalId: string): Promise<UserRecord | undefined>;
  /** In user-name order. */
  listUsers(): Promise<UserRecord[]>;
  /** Sets the password hash and revokes the user's refresh tokens; false if there is no such user. */
  setUserPassword(principalId: string, passwordHash: string): Promise<boolean>;
  hasOwner(): Promise<boolean>;

  /** Throws `AlreadyExistsError` if the display name is taken. */
  createServicePrincipal(sp: { principalId: string; appId: string; displayName: string; secretHash: string }): Promise<ServicePrincipalRecord>;
  getServicePrincipal(appId: string): Promise<ServicePrincipalRecord | undefined>;
  getServicePrincipalById(principalId: string): Promise<ServicePrincipalRecord | undefined>;
  /** In display-name order. */
  listServicePrincipals(): Promise<ServicePrincipalRecord[]>;

  /** Removes a user or service principal with its role assignments and refresh tokens. */
  deletePrincipal(principalId: string): Promise<boolean>;

  /**
   * Throws `AlreadyExistsError` for the same principal, role and scope twice,
   * `PrincipalNotFoundError` or `RegistryNotFoundError` when what it names is gone.
   */
  createRoleAssignment(assignment: NewRoleAssignment): Promise<RoleAssignmentRecord>;
  getRoleAssignment(id: string): Promise<RoleAssignmentRecord | undefined>;
  /** In creation order. */
  listRoleAssignments(filter: RoleAssignmentFilter): Promise<RoleAssignmentRecord[]>;
  deleteRoleAssignment(id: string): Promise<boolean>;
  /** The principal's owner flag and its assignments that can matter in `registry`; undefined if it is gone. */
  getPrincipalGrants(principalId: string, registry: string | undefined): Promise<PrincipalGrants | undefined>;

  getAdminCredential(registry: string): Promise<AdminCredentialRecord | undefined>;
  /** Sets one admin password slot and revokes the admin user's refresh tokens; undefined if there is no such registry. */
  setAdminPassword(registry: string, slot: 'password' | 'password2', hash: string): Promise<SecretSlot | undefined>;

  /** Throws `AlreadyExistsError` or `RegistryNotFoundError`. */
  createScopeMap(scopeMap: NewScopeMap): Promise<ScopeMapRecord>;
  getScopeMap(registry: string, name: string): Promise<ScopeMapRecord | undefined>;
  /** In name order. */
  listScopeMaps(registry: string): Promise<ScopeMapRecord[]>;
  updateScopeMap(registry: string, name: string, changes: { actions?: string[]; description?: string }): Promise<ScopeMapRecord | undefined>;
  /** Refused (`in-use`) while a token uses the scope map. */
  deleteScopeMap(registry: string, name: string): Promise<DeleteScopeMapResult>;

  /**
   * Creates a token, and with `scopeMap` the scope map it is bound to, in one transaction.
   * Throws `AlreadyExistsError` (token or scope map) or `RegistryNotFoundError`.
   */
  createToken(token: NewToken, scopeMap?: NewScopeMap): Promise<TokenRecord>;
  getToken(registry: string, name: string): Promise<TokenRecord | undefined>;
  getTokenById(id: string): Promise<TokenRecord | undefined>;
  /** In name order. */
  listTokens(registry: string): Promise<TokenRecord[]>;
  updateToken(registry: string, name: string, changes: { scopeMap?: string; status?: TokenStatus }): Promise<TokenRecord | undefined>;
  /** Replaces the given password slots and revokes the token's refresh tokens. */
  setTokenPasswords(
    registry: string,
    name: string,
    slots: { password1?: TokenPasswordSlot | null; password2?: TokenPasswordSlot | null },
  ): Promise<TokenRecord | undefined>;
  deleteToken(registry: string, name: string): Promise<boolean>;

  /** Throws `RegistryNotFoundError` if the registry is gone. */
  createRefreshToken(token: NewRefreshToken): Promise<void>;
  getRefreshToken(idHash: string): Promise<RefreshTokenRecord | undefined>;
  revokeRefreshToken(idHash: string): Promise<boolean>;
  /** Forgets refresh tokens that expired before `cutoff` (ISO-8601); returns how many. */
  deleteExpiredRefreshTokens(cutoff: string): Promise<number>;

  /** Every signing key, the signing one first, then retired ones newest first. */
  listSigningKeys(): Promise<SigningKeyRecord[]>;
  /**
   * Stores `key` as the signing key unless one exists already (another process won the race);
   * returns the signing key either way.
   */
  createFirstSigningKey(key: NewSigningKey): Promise<SigningKeyRecord>;
  /**
   * Retires the signing key (it verifies until `graceUntil`), makes `key` the signing key and
   * forgets keys whose grace ended before `now`. Returns the retired key's id.
   */
  rotateSigningKey(key: NewSigningKey, graceUntil: string, now: string): Promise<{ previousKid: string | null }>;
}

/** A name that must be unique is taken. */
export class AlreadyExistsError extends Error {
  constructor(
    readonly kind: 'user' | 'servicePrincipal' | 'roleAssignment' | 'scopeMap' | 'token',
    readonly key: string,
  ) {
    super(`${kind} ${key} already exists`);
    this.name = 'AlreadyExistsError';
  }
}

export class PrincipalNotFoundError extends Error {
  constructor(readonly principalId: string) {
    super(`principal ${principalId} does not exist`);
    this.name = 'PrincipalNotFoundError';
  }
}
