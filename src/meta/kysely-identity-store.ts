/**
 * `IdentityStore` on Kysely, for SQLite and PostgreSQL (schema in `schema.ts`). Rows that must
 * be unique are inserted with `ON CONFLICT DO NOTHING`, so a lost race reads as "already exists"
 * on both databases; dependent rows go with their owner through `ON DELETE CASCADE`.
 */
import type { Kysely, Selectable, Transaction } from 'kysely';
import {
  AlreadyExistsError,
  PrincipalNotFoundError,
  type AdminCredentialRecord,
  type DeleteScopeMapResult,
  type IdentityStore,
  type NewRefreshToken,
  type NewRoleAssignment,
  type NewScopeMap,
  type NewSigningKey,
  type NewToken,
  type PrincipalGrants,
  type RefreshTokenRecord,
  type RoleAssignmentFilter,
  type RoleAssignmentRecord,
  type ScopeMapRecord,
  type SecretSlot,
  type ServicePrincipalRecord,
  type SigningKeyRecord,
  type TokenPasswordSlot,
  type TokenRecord,
  type TokenStatus,
  type UserRecord,
} from './identity-store.ts';
import { RegistryNotFoundError } from './meta-store.ts';
import { PreparedQuery } from './prepared-query.ts';
import type { Database, RefreshTokensTable, ScopeMapsTable, SigningKeysTable, TokensTable } from './schema.ts';
import { runTransaction, timestamp } from './transactions.ts';

type Db = Kysely<Database>;

function slot(hash: string | null, createdAt: string | null): SecretSlot | null {
  return hash === null || createdAt === null ? null : { hash, createdAt };
}

function tokenSlot(hash: string | null, createdAt: string | null, expiresAt: string | null): TokenPasswordSlot | null {
  return hash === null || createdAt === null ? null : { hash, createdAt, expiresAt };
}

function toTokenRecord(row: Selectable<TokensTable>): TokenRecord {
  return {
    id: row.id,
    registry: row.registry,
    name: row.name,
    scopeMap: row.scope_map,
    status: row.status,
    createdAt: row.created_at,
    password1: tokenSlot(row.password1_hash, row.password1_created_at, row.password1_expires_at),
    password2: tokenSlot(row.password2_hash, row.password2_created_at, row.password2_expires_at),
  };
}

function tokenSlotColumns(name: 'password1' | 'password2', value: TokenPasswordSlot | null): Partial<TokensTable> {
  const hash = value?.hash ?? null;
  const createdAt = value?.createdAt ?? null;
  const expiresAt = value?.expiresAt ?? null;
  return name === 'password1'
    ? { password1_hash: hash, password1_created_at: createdAt, password1_expires_at: expiresAt }
    : { password2_hash: hash, password2_created_at: createdAt, password2_expires_at: expiresAt };
}

function toScopeMapRecord(row: Selectable<ScopeMapsTable>): ScopeMapRecord {
  return {
    registry: row.registry,
    name: row.name,
    description: row.description,
    actions: JSON.parse(row.actions) as string[],
    createdAt: row.created_at,
  };
}

function toRefreshTokenRecord(row: Selectable<RefreshTokensTable>): RefreshTokenRecord {
  const holder =
    row.principal_kind === 'admin'
      ? { kind: 'admin' as const }
      : row.principal_kind === 'token'
        ? { kind: 'token' as const, tokenId: row.token_id ?? '' }
        : { kind: row.principal_kind, principalId: row.principal_id ?? '' };
  return {
    idHash: row.id_hash,
    registry: row.registry,
    holder,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revoked: row.revoked === 1,
  };
}

function toSigningKeyRecord(row: Selectable<SigningKeysTable>): SigningKeyRecord {
  return {
    kid: row.kid,
    privateKey: row.private_key,
    publicJwk: row.public_jwk,
    createdAt: row.created_at,
    retiredAt: row.retired_at,
    graceUntil: row.grace_until,
  };
}

const userColumns = ['u.principal_id', 'u.username', 'u.password_hash', 'u.owner', 'p.created_at'] as const;
const servicePrincipalColumns = ['s.principal_id', 's.app_id', 's.display_name', 's.secret_hash', 'p.created_at'] as const;

/** The lookups behind every authentication and authorization, compiled once. */
function prepareIdentityQueries(db: Db) {
  return {
    userByName: new PreparedQuery((p: { username: string }) =>
      db
        .selectFrom('users as u')
        .innerJoin('principals as p', 'p.id', 'u.principal_id')
        .select(userColumns)
        .where('u.username', '=', p.username),
    ),

    servicePrincipalByAppId: new PreparedQuery((p: { appId: string }) =>
      db
        .selectFrom('service_principals as s')
        .innerJoin('principals as p', 'p.id', 's.principal_id')
        .select(servicePrincipalColumns)
        .where('s.app_id', '=', p.appId),
    ),

    /** `registry` '' matches no registry: only installation-scope assignments. */
    principalGrants: new PreparedQuery((p: { principalId: string; registry: string }) =>
      db
        .selectFrom('principals as p')
        .leftJoin('users as u', 'u.principal_id', 'p.id')
        .leftJoin('role_assignments as ra', (join) =>
          join
            .onRef('ra.principal_id', '=', 'p.id')
            .on((eb) => eb.or([eb('ra.registry', 'is', null), eb('ra.registry', '=', p.registry)])),
        )
        .select(['p.kind', 'u.owner', 'ra.role', 'ra.scope'])
        .where('p.id', '=', p.principalId),
    ),

    tokenByName: new PreparedQuery((p: { registry: string; name: string }) =>
      db.selectFrom('tokens').selectAll().where('registry', '=', p.registry).where('name', '=', p.name),
    ),

    tokenById: new PreparedQuery((p: { id: string }) => db.selectFrom('tokens').selectAll().where('id', '=', p.id)),

    scopeMap: new PreparedQuery((p: { registry: string; name: string }) =>
      db.selectFrom('scope_maps').selectAll().where('registry', '=', p.registry).where('name', '=', p.name),
    ),

    adminCredential: new PreparedQuery((p: { registry: string }) =>
      db
        .selectFrom('registries')
        .select([
          'admin_enabled',
          'admin_password1_hash',
          'admin_password1_created_at',
          'admin_password2_hash',
          'admin_password2_created_at',
        ])
        .where('name', '=', p.registry),
    ),

    refreshToken: new PreparedQuery((p: { idHash: string }) =>
      db.selectFrom('refresh_tokens').selectAll().where('id_hash', '=', p.idHash),
    ),
  };
}

export class KyselyIdentityStore implements IdentityStore {
  readonly #db: Db;
  readonly #queries: ReturnType<typeof prepareIdentityQueries>;

  constructor(db: Db) {
    this.#db = db;
    this.#queries = prepareIdentityQueries(db);
  }

  async createUser(user: { principalId: string; username: string; passwordHash: string; owner: boolean }): Promise<UserRecord> {
    const createdAt = timestamp();
    await runTransaction(this.#db, async (trx) => {
      await trx.insertInto('principals').values({ id: user.principalId, kind: 'user', created_at: createdAt }).execute();
      const inserted = await trx
        .insertInto('users')
        .values({
          principal_id: user.principalId,
          username: user.username,
          password_hash: user.passwordHash,
          owner: user.owner ? 1 : 0,
        })
        .onConflict((oc) => oc.doNothing())
        .returning('principal_id')
        .executeTakeFirst();
      if (!inserted) throw new AlreadyExistsError('user', user.username);
    });
    return { ...user, createdAt };
  }

  async getUser(username: string): Promise<UserRecord | undefined> {
    const { rows } = await this.#queries.userByName.execute(this.#db, { username });
    return rows[0] && toUserRecord(rows[0]);
  }

  async getUserById(principalId: string): Promise<UserRecord | undefined> {
    const row = await this.#db
      .selectFrom('users as u')
      .innerJoin('principals as p', 'p.id', 'u.principal_id')
      .select(userColumns)
      .where('u.principal_id', '=', principalId)
      .executeTakeFirst();
    return row && toUserRecord(row);
  }

  async listUsers(): Promise<UserRecord[]> {
    const rows = await this.#db
      .selectFrom('users as u')
      .innerJoin('principals as p', 'p.id', 'u.principal_id')
      .select(userColumns)
      .orderBy('u.username')
      .execute();
    return rows.map(toUserRecord);
  }

  async setUserPassword(principalId: string, passwordHash: string): Promise<boolean> {
    return await runTransaction(this.#db, async (trx) => {
      const result = await trx
        .updateTable('users')
        .set({ password_hash: passwordHash })
        .where('principal_id', '=', principalId)
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) return false;
      await trx.updateTable('refresh_tokens').set({ revoked: 1 }).where('principal_id', '=', principalId).execute();
      return true;
    });
  }

  async hasOwner(): Promise<boolean> {
    const row = await this.#db.selectFrom('users').select('principal_id').where('owner', '=', 1).limit(1).executeTakeFirst();
    return row !== undefined;
  }

  async createServicePrincipal(sp: {
    principalId: string;
    appId: string;
    displayName: string;
    secretHash: string;
  }): Promise<ServicePrincipalRecord> {
    const createdAt = timestamp();
    await runTransaction(this.#db, async (trx) => {
      await trx
        .insertInto('principals')
        .values({ id: sp.principalId, kind: 'servicePrincipal', created_at: createdAt })
        .execute();
      const inserted = await trx
        .insertInto('service_principals')
        .values({ principal_id: sp.principalId, app_id: sp.appId, display_name: sp.displayName, secret_hash: sp.secretHash })
        .onConflict((oc) => oc.doNothing())
        .returning('principal_id')
        .executeTakeFirst();
      if (!inserted) throw new AlreadyExistsError('servicePrincipal', sp.displayName);
    });
    return { ...sp, createdAt };
  }

  async getServicePrincipal(appId: string): Promise<ServicePrincipalRecord | undefined> {
    const { rows } = await this.#queries.servicePrincipalByAppId.execute(this.#db, { appId });
    return rows[0] && toServicePrincipalRecord(rows[0]);
  }

  async getServicePrincipalById(principalId: string): Promise<ServicePrincipalRecord | undefined> {
    const row = await this.#db
      .selectFrom('service_principals as s')
      .innerJoin('principals as p', 'p.id', 's.principal_id')
      .select(servicePrincipalColumns)
      .where('s.principal_id', '=', principalId)
      .executeTakeFirst();
    return row && toServicePrincipalRecord(row);
  }

  async listServicePrincipals(): Promise<ServicePrincipalRecord[]> {
    const rows = await this.#db
      .selectFrom('service_principals as s')
      .innerJoin('principals as p', 'p.id', 's.principal_id')
      .select(servicePrincipalColumns)
      .orderBy('s.display_name')
      .execute();
    return rows.map(toServicePrincipalRecord);
  }

  async deletePrincipal(principalId: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('principals').where('id', '=', principalId).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async createRoleAssignment(assignment: NewRoleAssignment): Promise<RoleAssignmentRecord> {
    const createdAt = timestamp();
    return await runTransaction(this.#db, async (trx) => {
      const principal = await this.#principalName(trx, assignment.principalId);
      if (!principal) throw new PrincipalNotFoundError(assignment.principalId);
      if (assignment.registry !== null) await requireRegistry(trx, assignment.registry);
      const inserted = await trx
        .insertInto('role_assignments')
        .values({
          id: assignment.id,
          principal_id: assignment.principalId,
          role: assignment.role,
          scope: assignment.scope,
          registry: assignment.registry,
          created_at: createdAt,
        })
        .onConflict((oc) => oc.doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!inserted) throw new AlreadyExistsError('roleAssignment', `${assignment.role} at ${assignment.scope}`);
      return {
        id: assignment.id,
        principalId: assignment.principalId,
        principalName: principal.name,
        principalType: principal.kind,
        role: assignment.role,
        scope: assignment.scope,
        createdAt,
      };
    });
  }

  async getRoleAssignment(id: string): Promise<RoleAssignmentRecord | undefined> {
    return (await this.#roleAssignments({ id }))[0];
  }

  async listRoleAssignments(filter: RoleAssignmentFilter): Promise<RoleAssignmentRecord[]> {
    return await this.#roleAssignments(filter);
  }

  async deleteRoleAssignment(id: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('role_assignments').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async getPrincipalGrants(principalId: string, registry: string | undefined): Promise<PrincipalGrants | undefined> {
    const { rows } = await this.#queries.principalGrants.execute(this.#db, { principalId, registry: registry ?? '' });
    const first = rows[0];
    if (!first) return undefined;
    const assignments: { role: string; scope: string }[] = [];
    for (const row of rows) {
      if (row.role !== null && row.scope !== null) assignments.push({ role: row.role, scope: row.scope });
    }
    return { kind: first.kind, owner: first.owner === 1, assignments };
  }

  async getAdminCredential(registry: string): Promise<AdminCredentialRecord | undefined> {
    const { rows } = await this.#queries.adminCredential.execute(this.#db, { registry });
    const row = rows[0];
    return (
      row && {
        enabled: row.admin_enabled === 1,
        password: slot(row.admin_password1_hash, row.admin_password1_created_at),
        password2: slot(row.admin_password2_hash, row.admin_password2_created_at),
      }
    );
  }

  async setAdminPassword(registry: string, which: 'password' | 'password2', hash: string): Promise<SecretSlot | undefined> {
    const createdAt = timestamp();
    const columns =
      which === 'password'
        ? { admin_password1_hash: hash, admin_password1_created_at: createdAt }
        : { admin_password2_hash: hash, admin_password2_created_at: createdAt };
    return await runTransaction(this.#db, async (trx) => {
      const result = await trx.updateTable('registries').set(columns).where('name', '=', registry).executeTakeFirst();
      if (result.numUpdatedRows === 0n) return undefined;
      await trx
        .updateTable('refresh_tokens')
        .set({ revoked: 1 })
        .where('registry', '=', registry)
        .where('principal_kind', '=', 'admin')
        .execute();
      return { hash, createdAt };
    });
  }

  async createScopeMap(scopeMap: NewScopeMap): Promise<ScopeMapRecord> {
    return await runTransaction(this.#db, (trx) => insertScopeMap(trx, scopeMap, timestamp()));
  }

  async getScopeMap(registry: string, name: string): Promise<ScopeMapRecord | undefined> {
    const { rows } = await this.#queries.scopeMap.execute(this.#db, { registry, name });
    return rows[0] && toScopeMapRecord(rows[0]);
  }

  async listScopeMaps(registry: string): Promise<ScopeMapRecord[]> {
    const rows = await this.#db.selectFrom('scope_maps').selectAll().where('registry', '=', registry).orderBy('name').execute();
    return rows.map(toScopeMapRecord);
  }

  async updateScopeMap(
    registry: string,
    name: string,
    changes: { actions?: string[]; description?: string },
  ): Promise<ScopeMapRecord | undefined> {
    const set: Partial<ScopeMapsTable> = {};
    if (changes.actions !== undefined) set.actions = JSON.stringify(changes.actions);
    if (changes.description !== undefined) set.description = changes.description;
    if (Object.keys(set).length === 0) return await this.getScopeMap(registry, name);
    const row = await this.#db
      .updateTable('scope_maps')
      .set(set)
      .where('registry', '=', registry)
      .where('name', '=', name)
      .returningAll()
      .executeTakeFirst();
    return row && toScopeMapRecord(row);
  }

  async deleteScopeMap(registry: string, name: string): Promise<DeleteScopeMapResult> {
    return await runTransaction(this.#db, async (trx) => {
      const user = await trx
        .selectFrom('tokens')
        .select('id')
        .where('registry', '=', registry)
        .where('scope_map', '=', name)
        .limit(1)
        .executeTakeFirst();
      if (user) return 'in-use';
      const result = await trx
        .deleteFrom('scope_maps')
        .where('registry', '=', registry)
        .where('name', '=', name)
        .executeTakeFirst();
      return result.numDeletedRows > 0n ? 'deleted' : 'not-found';
    });
  }

  async createToken(token: NewToken, scopeMap?: NewScopeMap): Promise<TokenRecord> {
    const createdAt = timestamp();
    return await runTransaction(this.#db, async (trx) => {
      await requireRegistry(trx, token.registry);
      if (scopeMap) await insertScopeMap(trx, scopeMap, createdAt);
      const inserted = await trx
        .insertInto('tokens')
        .values({
          id: token.id,
          registry: token.registry,
          name: token.name,
          scope_map: token.scopeMap,
          status: token.status,
          created_at: createdAt,
          ...tokenSlotColumns('password1', token.password1),
          ...tokenSlotColumns('password2', token.password2),
        })
        .onConflict((oc) => oc.doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!inserted) throw new AlreadyExistsError('token', token.name);
      return { ...token, createdAt };
    });
  }

  async getToken(registry: string, name: string): Promise<TokenRecord | undefined> {
    const { rows } = await this.#queries.tokenByName.execute(this.#db, { registry, name });
    return rows[0] && toTokenRecord(rows[0]);
  }

  async getTokenById(id: string): Promise<TokenRecord | undefined> {
    const { rows } = await this.#queries.tokenById.execute(this.#db, { id });
    return rows[0] && toTokenRecord(rows[0]);
  }

  async listTokens(registry: string): Promise<TokenRecord[]> {
    const rows = await this.#db.selectFrom('tokens').selectAll().where('registry', '=', registry).orderBy('name').execute();
    return rows.map(toTokenRecord);
  }

  async updateToken(
    registry: string,
    name: string,
    changes: { scopeMap?: string; status?: TokenStatus },
  ): Promise<TokenRecord | undefined> {
    const set: Partial<TokensTable> = {};
    if (changes.scopeMap !== undefined) set.scope_map = changes.scopeMap;
    if (changes.status !== undefined) set.status = changes.status;
    if (Object.keys(set).length === 0) return await this.getToken(registry, name);
    const row = await this.#db
      .updateTable('tokens')
      .set(set)
      .where('registry', '=', registry)
      .where('name', '=', name)
      .returningAll()
      .executeTakeFirst();
    return row && toTokenRecord(row);
  }

  async setTokenPasswords(
    registry: string,
    name: string,
    slots: { password1?: TokenPasswordSlot | null; password2?: TokenPasswordSlot | null },
  ): Promise<TokenRecord | undefined> {
    const set: Partial<TokensTable> = {
      ...(slots.password1 !== undefined ? tokenSlotColumns('password1', slots.password1) : {}),
      ...(slots.password2 !== undefined ? tokenSlotColumns('password2', slots.password2) : {}),
    };
    if (Object.keys(set).length === 0) return await this.getToken(registry, name);
    return await runTransaction(this.#db, async (trx) => {
      const row = await trx
        .updateTable('tokens')
        .set(set)
        .where('registry', '=', registry)
        .where('name', '=', name)
        .returningAll()
        .executeTakeFirst();
      if (!row) return undefined;
      await trx.updateTable('refresh_tokens').set({ revoked: 1 }).where('token_id', '=', row.id).execute();
      return toTokenRecord(row);
    });
  }

  async deleteToken(registry: string, name: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('tokens')
      .where('registry', '=', registry)
      .where('name', '=', name)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async createRefreshToken(token: NewRefreshToken): Promise<void> {
    const { holder } = token;
    await runTransaction(this.#db, async (trx) => {
      await requireRegistry(trx, token.registry);
      await trx
        .insertInto('refresh_tokens')
        .values({
          id_hash: token.idHash,
          registry: token.registry,
          principal_kind: holder.kind,
          principal_id: holder.kind === 'user' || holder.kind === 'servicePrincipal' ? holder.principalId : null,
          token_id: holder.kind === 'token' ? holder.tokenId : null,
          created_at: timestamp(),
          expires_at: token.expiresAt,
          revoked: 0,
        })
        .execute();
    });
  }

  async getRefreshToken(idHash: string): Promise<RefreshTokenRecord | undefined> {
    const { rows } = await this.#queries.refreshToken.execute(this.#db, { idHash });
    return rows[0] && toRefreshTokenRecord(rows[0]);
  }

  async revokeRefreshToken(idHash: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('refresh_tokens')
      .set({ revoked: 1 })
      .where('id_hash', '=', idHash)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async deleteExpiredRefreshTokens(cutoff: string): Promise<number> {
    const result = await this.#db.deleteFrom('refresh_tokens').where('expires_at', '<', cutoff).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    const rows = await this.#db.selectFrom('signing_keys').selectAll().execute();
    const signingFirst = (row: Selectable<SigningKeysTable>) => (row.signing === 1 ? 0 : 1);
    rows.sort((a, b) => signingFirst(a) - signingFirst(b) || (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));
    return rows.map(toSigningKeyRecord);
  }

  async createFirstSigningKey(key: NewSigningKey): Promise<SigningKeyRecord> {
    return await runTransaction(this.#db, async (trx) => {
      await trx
        .insertInto('signing_keys')
        .values({ kid: key.kid, private_key: key.privateKey, public_jwk: key.publicJwk, created_at: timestamp(), signing: 1 })
        .onConflict((oc) => oc.doNothing())
        .execute();
      const row = await trx.selectFrom('signing_keys').selectAll().where('signing', '=', 1).executeTakeFirstOrThrow();
      return toSigningKeyRecord(row);
    });
  }

  async rotateSigningKey(key: NewSigningKey, graceUntil: string, now: string): Promise<{ previousKid: string | null }> {
    return await runTransaction(this.#db, async (trx) => {
      const previous = await trx
        .updateTable('signing_keys')
        .set({ signing: null, retired_at: now, grace_until: graceUntil })
        .where('signing', '=', 1)
        .returning('kid')
        .executeTakeFirst();
      await trx.deleteFrom('signing_keys').where('signing', 'is', null).where('grace_until', '<', now).execute();
      await trx
        .insertInto('signing_keys')
        .values({ kid: key.kid, private_key: key.privateKey, public_jwk: key.publicJwk, created_at: now, signing: 1 })
        .execute();
      return { previousKid: previous?.kid ?? null };
    });
  }

  async #principalName(
    trx: Transaction<Database>,
    principalId: string,
  ): Promise<{ kind: 'user' | 'servicePrincipal'; name: string } | undefined> {
    const row = await trx
      .selectFrom('principals as p')
      .leftJoin('users as u', 'u.principal_id', 'p.id')
      .leftJoin('service_principals as s', 's.principal_id', 'p.id')
      .select(['p.kind', 'u.username', 's.display_name'])
      .where('p.id', '=', principalId)
      .executeTakeFirst();
    return row && { kind: row.kind, name: row.username ?? row.display_name ?? '' };
  }

  async #roleAssignments(filter: RoleAssignmentFilter & { id?: string }): Promise<RoleAssignmentRecord[]> {
    const rows = await this.#db
      .selectFrom('role_assignments as ra')
      .innerJoin('principals as p', 'p.id', 'ra.principal_id')
      .leftJoin('users as u', 'u.principal_id', 'p.id')
      .leftJoin('service_principals as s', 's.principal_id', 'p.id')
      .select(['ra.id', 'ra.principal_id', 'p.kind', 'u.username', 's.display_name', 'ra.role', 'ra.scope', 'ra.created_at'])
      .$if(filter.id !== undefined, (qb) => qb.where('ra.id', '=', filter.id as string))
      .$if(filter.principalId !== undefined, (qb) => qb.where('ra.principal_id', '=', filter.principalId as string))
      .$if(filter.scope !== undefined, (qb) => qb.where('ra.scope', '=', filter.scope as string))
      .$if(filter.role !== undefined, (qb) => qb.where('ra.role', '=', filter.role as string))
      .orderBy('ra.created_at')
      .orderBy('ra.id')
      .execute();
    return rows.map((row) => ({
      id: row.id,
      principalId: row.principal_id,
      principalName: row.username ?? row.display_name ?? '',
      principalType: row.kind,
      role: row.role,
      scope: row.scope,
      createdAt: row.created_at,
    }));
  }
}

function toUserRecord(row: { principal_id: string; username: string; password_hash: string; owner: number; created_at: string }): UserRecord {
  return {
    principalId: row.principal_id,
    username: row.username,
    passwordHash: row.password_hash,
    owner: row.owner === 1,
    createdAt: row.created_at,
  };
}

function toServicePrincipalRecord(row: {
  principal_id: string;
  app_id: string;
  display_name: string;
  secret_hash: string;
  created_at: string;
}): ServicePrincipalRecord {
  return {
    principalId: row.principal_id,
    appId: row.app_id,
    displayName: row.display_name,
    secretHash: row.secret_hash,
    createdAt: row.created_at,
  };
}

async function requireRegistry(trx: Transaction<Database>, registry: string): Promise<void> {
  const row = await trx.selectFrom('registries').select('name').where('name', '=', registry).executeTakeFirst();
  if (!row) throw new RegistryNotFoundError(registry);
}

async function insertScopeMap(trx: Transaction<Database>, scopeMap: NewScopeMap, createdAt: string): Promise<ScopeMapRecord> {
  await requireRegistry(trx, scopeMap.registry);
  const inserted = await trx
    .insertInto('scope_maps')
    .values({
      registry: scopeMap.registry,
      name: scopeMap.name,
      description: scopeMap.description,
      actions: JSON.stringify(scopeMap.actions),
      created_at: createdAt,
    })
    .onConflict((oc) => oc.doNothing())
    .returning('name')
    .executeTakeFirst();
  if (!inserted) throw new AlreadyExistsError('scopeMap', scopeMap.name);
  return { ...scopeMap, createdAt };
}
