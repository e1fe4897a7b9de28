/**
 * `IdentityService` on the metadata store: validates input (400), finds what is named (404),
 * refuses duplicates and objects in use (409), hashes every secret before it is stored and
 * returns generated secrets only in the response that creates them.
 */
import { randomUUID } from 'node:crypto';
import {
  AlreadyExistsError,
  PrincipalNotFoundError,
  type ScopeMapRecord,
  type ServicePrincipalRecord,
  type TokenPasswordSlot,
  type TokenRecord,
  type UserRecord,
} from '../meta/identity-store.ts';
import { RegistryNotFoundError, skus, type MetaStore, type RegistryRecord } from '../meta/meta-store.ts';
import type {
  AdminCredentialView,
  IdentityService,
  PasswordView,
  RegistrySettings,
  RoleAssignmentView,
  RoleName,
  ScopeMapView,
  ServicePrincipalView,
  TokenView,
  UserView,
} from './identity-service.ts';
import { hashPassword } from './passwords.ts';
import type { Principal } from './principal.ts';
import { isRoleName, parseRoleScope } from './roles.ts';
import { parseScopeMapAction, isSystemScopeMap, systemScopeMaps } from './scope-maps.ts';
import { generateSecret, type KeyedHash } from './secrets.ts';
import { IdentityError } from './services.ts';
import {
  childNameProblem,
  descriptionProblem,
  isUuid,
  parseExpiry,
  passwordProblem,
  servicePrincipalNameProblem,
  usernameProblem,
} from './validation.ts';

const maxLabelLength = 90;

function badRequest(problem: string | undefined): void {
  if (problem !== undefined) throw new IdentityError(400, problem);
}

function notFound(message: string): IdentityError {
  return new IdentityError(404, message);
}

/** Translates the store's errors into the service's. */
async function storeCall<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AlreadyExistsError) throw new IdentityError(409, `${describeKind(error.kind)} ${error.key} already exists`);
    if (error instanceof RegistryNotFoundError) throw notFound(`registry ${error.registry} not found`);
    if (error instanceof PrincipalNotFoundError) throw notFound(`principal ${error.principalId} not found`);
    throw error;
  }
}

function describeKind(kind: AlreadyExistsError['kind']): string {
  switch (kind) {
    case 'user':
      return 'user';
    case 'servicePrincipal':
      return 'service principal';
    case 'roleAssignment':
      return 'role assignment';
    case 'scopeMap':
      return 'scope map';
    case 'token':
      return 'token';
  }
}

function userView(user: UserRecord, password?: string): UserView {
  return {
    principalId: user.principalId,
    username: user.username,
    type: 'User',
    owner: user.owner,
    createdAt: user.createdAt,
    ...(password === undefined ? {} : { password }),
  };
}

function servicePrincipalView(sp: ServicePrincipalRecord, password?: string): ServicePrincipalView {
  return {
    appId: sp.appId,
    displayName: sp.displayName,
    ...(password === undefined ? {} : { password }),
    tenant: 'berth',
    principalId: sp.principalId,
    createdAt: sp.createdAt,
  };
}

function scopeMapId(registry: string, name: string): string {
  return `/registries/${registry}/scopeMaps/${name}`;
}

function scopeMapView(record: ScopeMapRecord): ScopeMapView {
  return {
    id: scopeMapId(record.registry, record.name),
    name: record.name,
    description: record.description,
    type: 'UserDefined',
    actions: record.actions,
    creationDate: record.createdAt,
  };
}

function systemScopeMapViews(registry: RegistryRecord): ScopeMapView[] {
  return Object.entries(systemScopeMaps).map(([name, map]) => ({
    id: scopeMapId(registry.name, name),
    name,
    description: map.description,
    type: 'SystemDefined',
    actions: map.actions,
    creationDate: registry.createdAt,
  }));
}

function tokenView(token: TokenRecord, values: { password1?: string; password2?: string } = {}): TokenView {
  const passwords: PasswordView[] = [];
  for (const name of ['password1', 'password2'] as const) {
    const slot = token[name];
    if (!slot) continue;
    const value = values[name];
    passwords.push({ name, creationTime: slot.createdAt, expiry: slot.expiresAt, ...(value === undefined ? {} : { value }) });
  }
  return {
    id: `/registries/${token.registry}/tokens/${token.name}`,
    name: token.name,
    scopeMapId: scopeMapId(token.registry, token.scopeMap),
    status: token.status,
    creationDate: token.createdAt,
    credentials: { username: token.name, passwords },
  };
}

function settingsOf(record: RegistryRecord): RegistrySettings {
  return {
    sku: record.sku,
    adminUserEnabled: record.adminUserEnabled,
    anonymousPullEnabled: record.anonymousPullEnabled,
    resourceGroup: record.resourceGroup,
    location: record.location,
  };
}

/** Checks and normalises scope-map actions: at least one, each well formed, without repeats. */
function validActions(actions: string[]): string[] {
  if (actions.length === 0) throw new IdentityError(400, 'a scope map needs at least one action');
  for (const action of actions) {
    if (!parseScopeMapAction(action)) {
      throw new IdentityError(
        400,
        `invalid scope map action "${action}": use repositories/<repository>/<content/read|content/write|content/delete|metadata/read|metadata/write>, where <repository> may be * or end in /*`,
      );
    }
  }
  return [...new Set(actions)];
}

/** `/`, `/registries/<r>` or `/registries/<r>/repositories/<repo>`, without a trailing slash. */
function normaliseScope(scope: string): string {
  return scope.length > 1 && scope.endsWith('/') ? scope.slice(0, -1) : scope;
}

export interface IdentityServiceOptions {
  now?: () => number;
}

export class StoredIdentityService implements IdentityService {
  readonly #meta: MetaStore;
  readonly #hash: KeyedHash;
  readonly #now: () => number;

  constructor(meta: MetaStore, hash: KeyedHash, options: IdentityServiceOptions = {}) {
    this.#meta = meta;
    this.#hash = hash;
    this.#now = options.now ?? Date.now;
  }

  async bootstrapOwner(username: string, password: string | undefined): Promise<{ created: boolean; generatedPassword?: string }> {
    if (await this.#meta.hasOwner()) return { created: false };
    let user: UserView;
    try {
      user = await this.#createUser(username, password, true);
    } catch (error) {
      // Another node starting at the same moment created the owner first.
      if (error instanceof IdentityError && error.status === 409 && (await this.#meta.hasOwner())) return { created: false };
      throw error;
    }
    return { created: true, ...(user.password === undefined ? {} : { generatedPassword: user.password }) };
  }

  async createUser(username: string, password?: string): Promise<UserView> {
    return await this.#createUser(username, password, false);
  }

  async listUsers(): Promise<UserView[]> {
    return (await this.#meta.listUsers()).map((user) => userView(user));
  }

  async getUser(username: string): Promise<UserView> {
    return userView(await this.#user(username));
  }

  async deleteUser(username: string): Promise<void> {
    const user = await this.#user(username);
    if (user.owner) throw new IdentityError(409, `${username} is the installation owner and cannot be deleted`);
    if (!(await this.#meta.deletePrincipal(user.principalId))) throw notFound(`user ${username} not found`);
  }

  async resetUserPassword(username: string, password?: string): Promise<UserView> {
    if (password !== undefined) badRequest(passwordProblem(password));
    const user = await this.#user(username);
    const value = password ?? generateSecret();
    if (!(await this.#meta.setUserPassword(user.principalId, await hashPassword(value)))) throw notFound(`user ${username} not found`);
    return userView(user, password === undefined ? value : undefined);
  }

  async createServicePrincipal(name: string): Promise<ServicePrincipalView> {
    badRequest(servicePrincipalNameProblem(name));
    const secret = generateSecret();
    const record = await storeCall(() =>
      this.#meta.createServicePrincipal({
        principalId: randomUUID(),
        appId: randomUUID(),
        displayName: name,
        secretHash: this.#hash.hash(secret),
      }),
    );
    return servicePrincipalView(record, secret);
  }

  async listServicePrincipals(): Promise<ServicePrincipalView[]> {
    return (await this.#meta.listServicePrincipals()).map((sp) => servicePrincipalView(sp));
  }

  async getServicePrincipal(appId: string): Promise<ServicePrincipalView> {
    return servicePrincipalView(await this.#servicePrincipal(appId));
  }

  async deleteServicePrincipal(appId: string): Promise<void> {
    const sp = await this.#servicePrincipal(appId);
    if (!(await this.#meta.deletePrincipal(sp.principalId))) throw notFound(`service principal ${appId} not found`);
  }

  async createRoleAssignment(assignee: string, role: RoleName, scope: string): Promise<RoleAssignmentView> {
    if (!isRoleName(role)) throw new IdentityError(400, `unknown role "${role}"`);
    const normalised = normaliseScope(scope);
    const parsed = parseRoleScope(normalised);
    if (!parsed) {
      throw new IdentityError(
        400,
        `invalid scope "${scope}": use /, /registries/<registry> or /registries/<registry>/repositories/<repository> (the repository may be * or end in /*)`,
      );
    }
    const registry = parsed.level === 'installation' ? null : parsed.registry;
    if (registry !== null) await this.#registry(registry);
    const principalId = await this.#resolveAssignee(assignee);
    const record = await storeCall(() =>
      this.#meta.createRoleAssignment({ id: randomUUID(), principalId, role, scope: normalised, registry }),
    );
    return roleAssignmentView(record);
  }

  async listRoleAssignments(filter: { assignee?: string; scope?: string; role?: string }): Promise<RoleAssignmentView[]> {
    const principalId = filter.assignee === undefined ? undefined : await this.#resolveAssignee(filter.assignee);
    const records = await this.#meta.listRoleAssignments({
      ...(principalId === undefined ? {} : { principalId }),
      ...(filter.scope === undefined ? {} : { scope: normaliseScope(filter.scope) }),
      ...(filter.role === undefined ? {} : { role: filter.role }),
    });
    return records.map(roleAssignmentView);
  }

  async getRoleAssignment(id: string): Promise<RoleAssignmentView> {
    const record = await this.#meta.getRoleAssignment(id);
    if (!record) throw notFound(`role assignment ${id} not found`);
    return roleAssignmentView(record);
  }

  async deleteRoleAssignment(id: string): Promise<void> {
    if (!(await this.#meta.deleteRoleAssignment(id))) throw notFound(`role assignment ${id} not found`);
  }

  async getRegistrySettings(registry: string): Promise<RegistrySettings> {
    return settingsOf(await this.#registry(registry));
  }

  async updateRegistrySettings(registry: string, changes: Partial<RegistrySettings>): Promise<RegistrySettings> {
    if (changes.sku !== undefined && !skus.includes(changes.sku)) {
      throw new IdentityError(400, `invalid SKU "${changes.sku}": use ${skus.join(', ')}`);
    }
    for (const label of ['resourceGroup', 'location'] as const) {
      const value = changes[label];
      if (typeof value === 'string' && (value.length === 0 || value.length > maxLabelLength)) {
        throw new IdentityError(400, `${label} must have 1 to ${maxLabelLength} characters`);
      }
    }
    const record = await this.#meta.updateRegistry(registry, changes);
    if (!record) throw notFound(`registry ${registry} not found`);
    return settingsOf(record);
  }

  async showAdminCredential(registry: string): Promise<AdminCredentialView> {
    return await this.#adminCredentialView(registry, {});
  }

  async renewAdminPassword(registry: string, name: 'password' | 'password2'): Promise<AdminCredentialView> {
    if (name !== 'password' && name !== 'password2') throw new IdentityError(400, `invalid password name "${String(name)}": use password or password2`);
    await this.#enabledAdmin(registry);
    const value = generateSecret();
    if (!(await this.#meta.setAdminPassword(registry, name, this.#hash.hash(value)))) throw notFound(`registry ${registry} not found`);
    return await this.#adminCredentialView(registry, { [name]: value });
  }

  async createScopeMap(registry: string, name: string, actions: string[], description = ''): Promise<ScopeMapView> {
    badRequest(childNameProblem('scope map', name));
    badRequest(descriptionProblem(description));
    const valid = validActions(actions);
    await this.#registry(registry);
    if (isSystemScopeMap(name)) throw new IdentityError(409, `scope map ${name} already exists`);
    const record = await storeCall(() => this.#meta.createScopeMap({ registry, name, description, actions: valid }));
    return scopeMapView(record);
  }

  async listScopeMaps(registry: string): Promise<ScopeMapView[]> {
    const record = await this.#registry(registry);
    const stored = await this.#meta.listScopeMaps(registry);
    return [...systemScopeMapViews(record), ...stored.map(scopeMapView)];
  }

  async getScopeMap(registry: string, name: string): Promise<ScopeMapView> {
    const record = await this.#registry(registry);
    const system = systemScopeMapViews(record).find((view) => view.name === name);
    if (system) return system;
    const stored = await this.#meta.getScopeMap(registry, name);
    if (!stored) throw notFound(`scope map ${name} not found in registry ${registry}`);
    return scopeMapView(stored);
  }

  async updateScopeMap(
    registry: string,
    name: string,
    changes: { addActions?: string[]; removeActions?: string[]; description?: string },
  ): Promise<ScopeMapView> {
    if (changes.description !== undefined) badRequest(descriptionProblem(changes.description));
    const added = changes.addActions && changes.addActions.length > 0 ? validActions(changes.addActions) : [];
    const current = await this.getScopeMap(registry, name);
    if (current.type === 'SystemDefined') throw new IdentityError(400, `the system scope map ${name} cannot be changed`);
    const removed = new Set(changes.removeActions ?? []);
    const actions = [...new Set([...current.actions, ...added])].filter((action) => !removed.has(action));
    if (actions.length === 0) throw new IdentityError(400, 'a scope map needs at least one action');
    const record = await this.#meta.updateScopeMap(registry, name, {
      actions,
      ...(changes.description === undefined ? {} : { description: changes.description }),
    });
    if (!record) throw notFound(`scope map ${name} not found in registry ${registry}`);
    return scopeMapView(record);
  }

  async deleteScopeMap(registry: string, name: string): Promise<void> {
    await this.#registry(registry);
    if (isSystemScopeMap(name)) throw new IdentityError(400, `the system scope map ${name} cannot be deleted`);
    const result = await this.#meta.deleteScopeMap(registry, name);
    if (result === 'not-found') throw notFound(`scope map ${name} not found in registry ${registry}`);
    if (result === 'in-use') throw new IdentityError(409, `scope map ${name} is used by a token; delete the token or bind it to another scope map first`);
  }

  async createToken(
    registry: string,
    name: string,
    options: { scopeMapName?: string; actions?: string[]; status?: 'enabled' | 'disabled'; noPasswords?: boolean; expiry?: string | null },
  ): Promise<TokenView> {
    badRequest(childNameProblem('token', name));
    const status = options.status ?? 'enabled';
    this.#checkStatus(status);
    const expiry = this.#expiry(options.expiry);
    const hasActions = options.actions !== undefined && options.actions.length > 0;
    if ((options.scopeMapName === undefined) === !hasActions) {
      throw new IdentityError(400, 'give the token either a scope map or repository actions, exactly one of the two');
    }
    const actions = hasActions ? validActions(options.actions ?? []) : undefined;
    await this.#registry(registry);
    const scopeMap = options.scopeMapName ?? `${name}-scope-map`;
    if (options.scopeMapName !== undefined) await this.#requireScopeMap(registry, options.scopeMapName);

    const values: { password1?: string; password2?: string } = options.noPasswords
      ? {}
      : { password1: generateSecret(), password2: generateSecret() };
    const record = await storeCall(() =>
      this.#meta.createToken(
        {
          id: randomUUID(),
          registry,
          name,
          scopeMap,
          status,
          password1: this.#slot(values.password1, expiry),
          password2: this.#slot(values.password2, expiry),
        },
        actions && { registry, name: scopeMap, description: `Scope map of token ${name}`, actions },
      ),
    );
    return tokenView(record, values);
  }

  async listTokens(registry: string): Promise<TokenView[]> {
    await this.#registry(registry);
    return (await this.#meta.listTokens(registry)).map((token) => tokenView(token));
  }

  async getToken(registry: string, name: string): Promise<TokenView> {
    return tokenView(await this.#token(registry, name));
  }

  async updateToken(registry: string, name: string, changes: { scopeMapName?: string; status?: 'enabled' | 'disabled' }): Promise<TokenView> {
    if (changes.status !== undefined) this.#checkStatus(changes.status);
    await this.#token(registry, name);
    if (changes.scopeMapName !== undefined) await this.#requireScopeMap(registry, changes.scopeMapName);
    const record = await this.#meta.updateToken(registry, name, {
      ...(changes.scopeMapName === undefined ? {} : { scopeMap: changes.scopeMapName }),
      ...(changes.status === undefined ? {} : { status: changes.status }),
    });
    if (!record) throw notFound(`token ${name} not found in registry ${registry}`);
    return tokenView(record);
  }

  async deleteToken(registry: string, name: string): Promise<void> {
    await this.#registry(registry);
    if (!(await this.#meta.deleteToken(registry, name))) throw notFound(`token ${name} not found in registry ${registry}`);
  }

  async generateTokenPasswords(
    registry: string,
    name: string,
    options: { password1?: boolean; password2?: boolean; expiry?: string | null },
  ): Promise<TokenView> {
    const expiry = this.#expiry(options.expiry);
    await this.#token(registry, name);
    const both = !options.password1 && !options.password2;
    const values: { password1?: string; password2?: string } = {};
    if (both || options.password1) values.password1 = generateSecret();
    if (both || options.password2) values.password2 = generateSecret();
    const record = await this.#meta.setTokenPasswords(registry, name, {
      ...(values.password1 === undefined ? {} : { password1: this.#slot(values.password1, expiry) }),
      ...(values.password2 === undefined ? {} : { password2: this.#slot(values.password2, expiry) }),
    });
    if (!record) throw notFound(`token ${name} not found in registry ${registry}`);
    return tokenView(record, values);
  }

  describe(principal: Principal): string {
    switch (principal.kind) {
      case 'anonymous':
        return 'anonymous';
      case 'user':
        return principal.owner ? `user ${principal.name} (installation owner)` : `user ${principal.name}`;
      case 'servicePrincipal':
        return `service principal ${principal.name} (${principal.appId})`;
      case 'admin':
        return `admin user of registry ${principal.registry}`;
      case 'token':
        return `token ${principal.name} of registry ${principal.registry}`;
      case 'taskRun':
        return `run ${principal.runId} of registry ${principal.registry}, as ${this.describe(principal.identity)}`;
    }
  }

  async #createUser(username: string, password: string | undefined, owner: boolean): Promise<UserView> {
    badRequest(usernameProblem(username));
    if (password !== undefined) badRequest(passwordProblem(password));
    const value = password ?? generateSecret();
    const record = await storeCall(async () =>
      this.#meta.createUser({ principalId: randomUUID(), username, passwordHash: await hashPassword(value), owner }),
    );
    return userView(record, password === undefined ? value : undefined);
  }

  async #user(username: string): Promise<UserRecord> {
    const user = await this.#meta.getUser(username);
    if (!user) throw notFound(`user ${username} not found`);
    return user;
  }

  async #servicePrincipal(appId: string): Promise<ServicePrincipalRecord> {
    const sp = isUuid(appId) ? await this.#meta.getServicePrincipal(appId.toLowerCase()) : undefined;
    if (!sp) throw notFound(`service principal ${appId} not found`);
    return sp;
  }

  /** A principalId, appId or user name → the principalId. */
  async #resolveAssignee(assignee: string): Promise<string> {
    if (isUuid(assignee)) {
      const id = assignee.toLowerCase();
      const found =
        (await this.#meta.getUserById(id)) ?? (await this.#meta.getServicePrincipalById(id)) ?? (await this.#meta.getServicePrincipal(id));
      if (found) return found.principalId;
    } else {
      const user = await this.#meta.getUser(assignee);
      if (user) return user.principalId;
    }
    throw notFound(`no user or service principal "${assignee}"`);
  }

  async #registry(registry: string): Promise<RegistryRecord> {
    const record = await this.#meta.getRegistry(registry);
    if (!record) throw notFound(`registry ${registry} not found`);
    return record;
  }

  async #enabledAdmin(registry: string): Promise<void> {
    const credential = await this.#meta.getAdminCredential(registry);
    if (!credential) throw notFound(`registry ${registry} not found`);
    if (!credential.enabled) {
      throw new IdentityError(409, `the admin user of registry ${registry} is disabled; enable it with: berth update -n ${registry} --admin-enabled true`);
    }
  }

  async #adminCredentialView(registry: string, values: { password?: string; password2?: string }): Promise<AdminCredentialView> {
    await this.#enabledAdmin(registry);
    const credential = await this.#meta.getAdminCredential(registry);
    if (!credential) throw notFound(`registry ${registry} not found`);
    const passwords: AdminCredentialView['passwords'] = [];
    for (const name of ['password', 'password2'] as const) {
      const slot = credential[name];
      if (!slot) continue;
      const value = values[name];
      passwords.push({ name, creationTime: slot.createdAt, ...(value === undefined ? {} : { value }) });
    }
    return { username: registry, passwords };
  }

  async #token(registry: string, name: string): Promise<TokenRecord> {
    await this.#registry(registry);
    const token = await this.#meta.getToken(registry, name);
    if (!token) throw notFound(`token ${name} not found in registry ${registry}`);
    return token;
  }

  async #requireScopeMap(registry: string, name: string): Promise<void> {
    if (isSystemScopeMap(name)) return;
    if (!(await this.#meta.getScopeMap(registry, name))) throw notFound(`scope map ${name} not found in registry ${registry}`);
  }

  #checkStatus(status: string): void {
    if (status !== 'enabled' && status !== 'disabled') throw new IdentityError(400, `invalid status "${status}": use enabled or disabled`);
  }

  #expiry(value: string | null | undefined): string | null {
    if (value === undefined || value === null) return null;
    const parsed = parseExpiry(value, this.#now());
    if ('problem' in parsed) throw new IdentityError(400, parsed.problem);
    return parsed.expiry;
  }

  #slot(value: string | undefined, expiresAt: string | null): TokenPasswordSlot | null {
    return value === undefined ? null : { hash: this.#hash.hash(value), createdAt: new Date(this.#now()).toISOString(), expiresAt };
  }
}

function roleAssignmentView(record: {
  id: string;
  principalId: string;
  principalName: string;
  principalType: 'user' | 'servicePrincipal';
  role: string;
  scope: string;
  createdAt: string;
}): RoleAssignmentView {
  return {
    id: record.id,
    principalId: record.principalId,
    principalName: record.principalName,
    principalType: record.principalType === 'user' ? 'User' : 'ServicePrincipal',
    roleDefinitionName: record.role as RoleName,
    scope: record.scope,
    createdAt: record.createdAt,
  };
}
