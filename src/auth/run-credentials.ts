/**
 * A task run's credential, as ACR's run token: a refresh token of a `taskRun` principal, used
 * with the null-GUID user name. It may pull, push and delete in the run's own registry, and do
 * whatever the run's identity (the task's identity, or a quick run's caller) may do through its
 * role assignments. It lives as long as the run may (the caller passes the run's timeout plus a
 * margin), ends when the run finishes (see `currentPrincipal`), and is revoked by the engine
 * once the run is over.
 */
import { REFRESH_TOKEN_USERNAME, type Principal } from './principal.ts';
import type { JwtTokenIssuer } from './token-issuer.ts';

export type RunCredentialIssuer = Pick<JwtTokenIssuer, 'issueRefreshToken' | 'revokeRefreshToken'>;

export interface RunCredentialRequest {
  /** The run's registry: the credential may pull, push and delete there. */
  registry: string;
  runId: string;
  /** The task's identity, or a quick run's caller. */
  identity: Principal;
  /** The login server the credential signs in to. */
  loginServer: string;
  /**
   * The registry `loginServer` belongs to, when it is not the run's own (a task credential with
   * `useIdentity`): there the credential may do only what the identity may.
   */
  loginRegistry?: string;
  lifetimeSeconds: number;
}

export interface RunCredential {
  loginServer: string;
  /** The null GUID: the password is a refresh token. */
  username: string;
  password: string;
  /** Idempotent; the credential is refused from then on. */
  revoke(): Promise<void>;
}

export async function issueRunCredential(tokens: RunCredentialIssuer, request: RunCredentialRequest): Promise<RunCredential> {
  if (!Number.isInteger(request.lifetimeSeconds) || request.lifetimeSeconds <= 0) {
    throw new Error(`a run credential needs a positive lifetime in whole seconds, not ${request.lifetimeSeconds}`);
  }
  // A run started with another run's credential acts for that run's identity: the other run's
  // rights on its own registry end with it and are not passed on.
  let identity = request.identity;
  while (identity.kind === 'taskRun') identity = identity.identity;
  const principal: Principal = { kind: 'taskRun', registry: request.registry, runId: request.runId, identity };
  const { token } = await tokens.issueRefreshToken(principal, request.loginRegistry ?? request.registry, request.loginServer, request.lifetimeSeconds);
  return {
    loginServer: request.loginServer,
    username: REFRESH_TOKEN_USERNAME,
    password: token,
    async revoke() {
      await tokens.revokeRefreshToken(token);
    },
  };
}
