/**
 * The token server clients are sent to by the `/v2/` challenge:
 * - `GET /oauth2/token?service=&scope=` with Basic credentials (or none, for anonymous pull);
 * - `POST /oauth2/token` form with `grant_type=password` or `grant_type=refresh_token` (docker login);
 * - `POST /oauth2/exchange` turning a user's or service principal's credential, or a refresh
 *   token, into a registry refresh token (what `berth login` uses, like `az acr login`).
 * Every access token is narrowed to what the principal may do of what was asked.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal } from '../auth/principal.ts';
import { AuthError, type AccessEntry, type Authenticator, type TokenIssuer } from '../auth/services.ts';
import type { RegistryDirectory } from '../services/registry-directory.ts';
import { verifyPassword } from './callers.ts';
import { parseAuthorization } from './credentials.ts';
import { fromAuthError, invalidRequest, sendTokenError, TokenError } from './errors.ts';
import { isPlainHost, requestLoginServer } from './login-server.ts';
import { parseScopes, ScopeError } from './scopes.ts';
import { tokenSchemas } from './token-schemas.ts';

export interface TokenApiOptions {
  directory: RegistryDirectory;
  authenticator: Authenticator;
  tokens: TokenIssuer;
}

/** Form bodies are small; anything bigger is not a token request. */
const FORM_BODY_LIMIT = 64 * 1024;
const REALM = 'berth';

type Form = Record<string, string | string[] | undefined>;

interface TokenQuery {
  service?: string;
  scope?: string[];
  offline_token?: string;
}

interface TokenForm {
  grant_type: string;
  service?: string;
  scope?: string[];
  access_type?: string;
  client_id?: string;
  username?: string;
  password?: string;
  refresh_token?: string;
}

interface Addressed {
  registry: string;
  service: string;
}

export async function tokenApi(app: FastifyInstance, options: TokenApiOptions): Promise<void> {
  const { directory, authenticator, tokens } = options;

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT }, (_request, body, done) => {
    const form: Form = {};
    for (const [name, value] of new URLSearchParams(body as string)) {
      const existing = form[name];
      form[name] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
    }
    done(null, form);
  });

  app.setErrorHandler((error: Error & { validation?: unknown; statusCode?: number }, request, reply) => {
    if (error instanceof TokenError) return sendTokenError(reply, error);
    if (error instanceof AuthError) return sendTokenError(reply, fromAuthError(error, REALM));
    if (error.validation || error instanceof ScopeError) return sendTokenError(reply, invalidRequest(error.message));
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return sendTokenError(reply, invalidRequest(error.message));
    }
    request.log.error({ err: error, url: request.routeOptions.url }, 'token request failed');
    reply.code(500).header('content-type', 'application/json').send(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'internal server error', detail: null }] }));
  });

  /** The registry a `service` names: an existing registry's login server, or the Host this request used. */
  async function addressed(request: FastifyRequest, service: string | undefined): Promise<Addressed> {
    const requestHost = requestLoginServer(request, directory.loginServer(directory.defaultRegistry));
    const chosen = (service ?? requestHost).toLowerCase();
    if (!isPlainHost(chosen)) throw invalidRequest('invalid service');
    const host = chosen.replace(/:\d+$/, '');
    const suffix = `.${directory.domain}`;
    if (host.endsWith(suffix) && !host.slice(0, -suffix.length).includes('.')) {
      try {
        return { registry: await directory.resolveHost(chosen), service: chosen };
      } catch {
        throw invalidRequest(`unknown service ${chosen}`);
      }
    }
    if (chosen === requestHost || host === directory.domain) return { registry: directory.defaultRegistry, service: chosen };
    throw invalidRequest(`unknown service ${chosen}`);
  }

  const verify = (request: FastifyRequest, target: Addressed, username: string, password: string): Promise<Principal> =>
    verifyPassword(authenticator, request, username, password, target.registry);

  async function accessResponse(principal: Principal, target: Addressed, requested: AccessEntry[], withRefresh: boolean) {
    const issued = await tokens.issueAccessToken(principal, target.registry, target.service, requested);
    if (principal.kind === 'anonymous' && issued.access.length === 0) {
      throw new TokenError(401, 'UNAUTHORIZED', 'authentication required', { 'WWW-Authenticate': `Basic realm="${REALM}"` });
    }
    const refresh = withRefresh && principal.kind !== 'anonymous' ? await tokens.issueRefreshToken(principal, target.registry, target.service) : undefined;
    return {
      token: issued.token,
      access_token: issued.token,
      expires_in: issued.expiresIn,
      issued_at: issued.issuedAt,
      ...(refresh ? { refresh_token: refresh.token } : {}),
    };
  }

  app.get<{ Querystring: TokenQuery }>('/oauth2/token', { schema: tokenSchemas.getToken }, async (request) => {
    const target = await addressed(request, request.query.service);
    const requested = parseScopes(request.query.scope ?? []);
    const credentials = parseAuthorization(request.headers.authorization);
    if (credentials?.scheme === 'bearer') throw invalidRequest('use Basic credentials or a refresh token to obtain a token');
    const principal: Principal = credentials ? await verify(request, target, credentials.username, credentials.password) : { kind: 'anonymous' };
    return accessResponse(principal, target, requested, request.query.offline_token === 'true');
  });

  app.post<{ Body: TokenForm }>('/oauth2/token', { schema: tokenSchemas.postToken }, async (request) => {
    const form = request.body;
    const target = await addressed(request, form.service);
    const requested = parseScopes(form.scope ?? []);
    const principal = await grantPrincipal(request, target, form);
    const offline = form.access_type === 'offline' && form.grant_type === 'password';
    return accessResponse(principal, target, requested, offline);
  });

  app.post<{ Body: TokenForm }>('/oauth2/exchange', { schema: tokenSchemas.exchange }, async (request) => {
    const form = request.body;
    const target = await addressed(request, form.service);
    const principal = await grantPrincipal(request, target, form);
    if (principal.kind !== 'user' && principal.kind !== 'servicePrincipal') {
      throw new TokenError(401, 'UNAUTHORIZED', 'only users and service principals can exchange credentials', { 'WWW-Authenticate': `Basic realm="${REALM}"` });
    }
    const refresh = await tokens.issueRefreshToken(principal, target.registry, target.service);
    return { refresh_token: refresh.token };
  });

  /** The principal behind a `password` or `refresh_token` grant. */
  async function grantPrincipal(request: FastifyRequest, target: Addressed, form: TokenForm): Promise<Principal> {
    if (form.grant_type === 'password') {
      if (!form.username || !form.password) throw invalidRequest('grant_type=password needs username and password');
      return verify(request, target, form.username, form.password);
    }
    if (form.grant_type === 'refresh_token') {
      if (!form.refresh_token) throw invalidRequest('grant_type=refresh_token needs refresh_token');
      return tokens.verifyRefreshToken(form.refresh_token, target.service);
    }
    throw invalidRequest(`unsupported grant_type ${form.grant_type}`);
  }
}
