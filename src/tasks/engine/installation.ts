/** What the run engine needs to know about this Berth installation's registries and server. */
import type { RegistryEndpoint } from '../executor/executor.ts';
import type { Principal } from '../../auth/principal.ts';

export interface Installation {
  /** A registry's login server as clients use it, port included (`contoso.localhost:5000`). */
  loginServer(registry: string): string;
  /** Every registry of the installation, as steps reach them. */
  endpoints(): Promise<RegistryEndpoint[]>;
  /** The registry a login server names, if it is one of this installation's. */
  registryOf(loginServer: string): Promise<string | undefined>;
  /** The server's base URL for Berth's CLI in host steps. */
  serverUrl(): string;
  /** CA bundle the CLI needs to trust the server (self-signed TLS). */
  caFile: string | undefined;
}

export interface RunCredential {
  username: string;
  password: string;
  revoke(): Promise<void> | void;
}

/**
 * Issues a short-lived credential of `identity` for the run of `registry`, signing in to
 * `loginServer` — the run's own registry, or `loginRegistry` (another registry of the
 * installation, where only the identity's own rights apply).
 */
export type RunCredentialIssuer = (request: {
  registry: string;
  runId: string;
  identity: Principal;
  loginServer: string;
  loginRegistry?: string;
  lifetimeSeconds: number;
}) => Promise<RunCredential> | RunCredential;
