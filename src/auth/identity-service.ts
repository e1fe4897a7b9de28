/**
 * Management of principals and permissions, as the management API and the CLI see them. Views
 * use ACR's JSON shapes; secret values appear only in the responses that create them.
 */
import type { Principal } from './principal.ts';

export const roleNames = [
  'Owner',
  'Contributor',
  'Reader',
  'AcrPush',
  'AcrPull',
  'AcrDelete',
  'AcrImageSigner',
  'AcrQuarantineReader',
  'AcrQuarantineWriter',
] as const;
export type RoleName = (typeof roleNames)[number];

export interface UserView {
  principalId: string;
  username: string;
  type: 'User';
  owner: boolean;
  createdAt: string;
  /** Only when the service generated the password (create or reset without one). */
  password?: string;
}

export interface ServicePrincipalView {
  appId: string;
  displayName: string;
  principalId: string;
  tenant: 'berth';
  createdAt: string;
  /** Only at creation. */
  password?: string;
}

export interface RoleAssignmentView {
  id: string;
  principalId: string;
  principalName: string;
  principalType: 'User' | 'ServicePrincipal';
  roleDefinitionName: RoleName;
  /** `/`, `/registries/<r>` or `/registries/<r>/repositories/<repo>` (repo may end in `/*`). */
  scope: string;
  createdAt: string;
}

export interface ScopeMapView {
  id: string;
  name: string;
  description: string;
  type: 'UserDefined' | 'SystemDefined';
  /** `repositories/<repo>/<content|metadata>/<read|write|delete>`. */
  actions: string[];
  creationDate: string;
}

export interface PasswordView {
  name: 'password1' | 'password2';
  creationTime: string;
  /** ISO-8601, or null for never. */
  expiry: string | null;
  value?: string;
}

export interface TokenView {
  id: string;
  name: string;
  scopeMapId: string;
  status: 'enabled' | 'disabled';
  creationDate: string;
  credentials: { username: string; passwords: PasswordView[] };
}

export interface AdminCredentialView {
  username: string;
  passwords: { name: 'password' | 'password2'; creationTime: string; value?: string }[];
}

export interface RegistrySettings {
  sku: 'Basic' | 'Standard' | 'Premium';
  adminUserEnabled: boolean;
  anonymousPullEnabled: boolean;
  resourceGroup: string | null;
  location: string | null;
}

export interface IdentityService {
  /** Creates the installation owner on first start; returns its generated password once, if one was generated. */
  bootstrapOwner(username: string, password: string | undefined): Promise<{ created: boolean; generatedPassword?: string }>;

  createUser(username: string, password?: string): Promise<UserView>;
  listUsers(): Promise<UserView[]>;
  getUser(username: string): Promise<UserView>;
  deleteUser(username: string): Promise<void>;
  resetUserPassword(username: string, password?: string): Promise<UserView>;

  createServicePrincipal(name: string): Promise<ServicePrincipalView>;
  listServicePrincipals(): Promise<ServicePrincipalView[]>;
  getServicePrincipal(appId: string): Promise<ServicePrincipalView>;
  deleteServicePrincipal(appId: string): Promise<void>;

  /** `assignee`: a principalId, user name or appId. */
  createRoleAssignment(assignee: string, role: RoleName, scope: string): Promise<RoleAssignmentView>;
  listRoleAssignments(filter: { assignee?: string; scope?: string; role?: string }): Promise<RoleAssignmentView[]>;
  getRoleAssignment(id: string): Promise<RoleAssignmentView>;
  deleteRoleAssignment(id: string): Promise<void>;

  getRegistrySettings(registry: string): Promise<RegistrySettings>;
  updateRegistrySettings(registry: string, changes: Partial<RegistrySettings>): Promise<RegistrySettings>;
  showAdminCredential(registry: string): Promise<AdminCredentialView>;
  renewAdminPassword(registry: string, name: 'password' | 'password2'): Promise<AdminCredentialView>;

  createScopeMap(registry: string, name: string, actions: string[], description?: string): Promise<ScopeMapView>;
  listScopeMaps(registry: string): Promise<ScopeMapView[]>;
  getScopeMap(registry: string, name: string): Promise<ScopeMapView>;
  updateScopeMap(registry: string, name: string, changes: { addActions?: string[]; removeActions?: string[]; description?: string }): Promise<ScopeMapView>;
  deleteScopeMap(registry: string, name: string): Promise<void>;

  createToken(
    registry: string,
    name: string,
    options: { scopeMapName?: string; actions?: string[]; status?: 'enabled' | 'disabled'; noPasswords?: boolean; expiry?: string | null },
  ): Promise<TokenView>;
  listTokens(registry: string): Promise<TokenView[]>;
  getToken(registry: string, name: string): Promise<TokenView>;
  updateToken(registry: string, name: string, changes: { scopeMapName?: string; status?: 'enabled' | 'disabled' }): Promise<TokenView>;
  deleteToken(registry: string, name: string): Promise<void>;
  generateTokenPasswords(registry: string, name: string, options: { password1?: boolean; password2?: boolean; expiry?: string | null }): Promise<TokenView>;

  /** The principal behind a management API caller, for audit and `show` of the caller. */
  describe(principal: Principal): string;
}
