/**
 * The CLI's one way to the server: the management API (`/mgmt/v1`), the ACR data plane
 * (`/acr/v1`), `/v2/` and `/oauth2/exchange`, with Basic auth on every call. Requests for a
 * registry's data go to the Berth server's address with the registry's login server as `Host`.
 * Errors (problem+json or OCI error JSON) become `CliError`s with the server's message.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import tls from 'node:tls';
import { CliError } from './errors.ts';
import { HttpConnectError, httpRequest, httpStream, type HttpResponse } from './http.ts';
import type { Settings } from './settings.ts';

/** How many pages a listing follows at most; a server that keeps answering `next` is cut off. */
const MAX_PAGES = 100_000;
const PAGE_SIZE = 100;
/** JSON answers and error documents of streamed requests are small; more is not read. */
const MAX_STREAMED_ANSWER_BYTES = 1024 * 1024;

interface RegistryView {
  id: string;
  name: string;
  loginServer: string;
  [field: string]: unknown;
}

export class BerthClient {
  private readonly loginServers = new Map<string, string>();

  private constructor(
    private readonly server: URL,
    private readonly username: string | undefined,
    private readonly password: string | undefined,
    private readonly ca: string[] | undefined,
  ) {}

  static fromSettings(settings: Settings, env: NodeJS.ProcessEnv = process.env): BerthClient {
    let server: URL;
    try {
      server = new URL(settings.server);
    } catch {
      throw new CliError(`the server address ${settings.server} is not a URL such as https://berth.example.com`);
    }
    if (server.protocol !== 'http:' && server.protocol !== 'https:') throw new CliError(`the server address ${settings.server} must start with http:// or https://`);
    return new BerthClient(server, settings.username, settings.password, settings.caFile ? trustedCertificates(settings.caFile, env) : undefined);
  }

  get serverUrl(): string {
    return this.server.toString().replace(/\/+$/, '');
  }

  /** The caller's credential, for `/oauth2/exchange`. */
  private credential(): { username: string; password: string } {
    const authorization = this.basicCredential();
    if (!authorization) {
      throw new CliError("no Berth credential: pass --username/--password, set BERTH_USERNAME/BERTH_PASSWORD or run 'berth configure --username <name>'");
    }
    return authorization;
  }

  async mgmt<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.send({
      method,
      path: `/mgmt/v1${path}`,
      headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return parseJson<T>(response, `${method} /mgmt/v1${path}`);
  }

  /** Streams `body` (a context archive) to a management route; answers its JSON. */
  async mgmtUpload<T>(path: string, body: NodeJS.ReadableStream, contentType: string): Promise<T> {
    const response = await this.stream({ method: 'POST', path: `/mgmt/v1${path}`, headers: { accept: 'application/json', 'content-type': contentType }, body });
    return parseJson<T>(await answerOf(response), `POST /mgmt/v1${path}`);
  }

  /** A management route's text answer as it arrives (a run's log, followed while the run goes on). */
  async mgmtTextStream(path: string): Promise<AsyncIterable<string>> {
    const response = await this.stream({ method: 'GET', path: `/mgmt/v1${path}`, headers: { accept: 'text/plain' } });
    response.setEncoding('utf8');
    return response as AsyncIterable<string>;
  }

  private async registry(name: string): Promise<RegistryView> {
    const registry = await this.mgmt<RegistryView>('GET', `/registries/${encodeURIComponent(name)}`);
    this.loginServers.set(name, registry.loginServer);
    return registry;
  }

  /**
   * `contoso` → `contoso.<domain>[:port]`, as the server names it. As `az acr` does, a name with a
   * dot is taken to be a login server already; and a caller who may not read the registry's
   * management view (a token, say) gets `<name>.<server host>[:port]` (`localhost` for a loopback
   * address), the server's default naming.
   */
  async loginServer(registry: string): Promise<string> {
    if (registry.includes('.')) return registry;
    const known = this.loginServers.get(registry);
    if (known) return known;
    try {
      return (await this.registry(registry)).loginServer;
    } catch (error) {
      if (!(error instanceof ServerError) || (error.status !== 401 && error.status !== 403)) throw error;
      const guessed = `${registry}.${defaultDomain(this.server.hostname)}${this.server.port ? `:${this.server.port}` : ''}`;
      this.loginServers.set(registry, guessed);
      return guessed;
    }
  }

  /** A request to one registry's data plane (`/v2/...`, `/acr/v1/...`); throws on error statuses. */
  async dataPlane(registry: string, method: string, path: string, headers: Record<string, string> = {}): Promise<HttpResponse> {
    return this.send({ method, path, host: await this.loginServer(registry), headers });
  }

  async acr<T>(registry: string, path: string): Promise<T> {
    return parseJson<T>(await this.dataPlane(registry, 'GET', path, { accept: 'application/json' }), `GET ${path}`);
  }

  /** `PATCH /acr/v1/...` with a JSON body (lock changes, quarantine decisions). */
  async acrPatch<T>(registry: string, path: string, body: unknown): Promise<T> {
    const response = await this.send({
      method: 'PATCH',
      path,
      host: await this.loginServer(registry),
      headers: { accept: 'application/json', 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return parseJson<T>(response, `PATCH ${path}`);
  }

  /**
   * Every item of a paged `/acr/v1` listing (following `Link: <...>; rel="next"`), or the first
   * `limit` of them.
   */
  async acrList<T>(registry: string, path: string, params: Record<string, string | undefined>, field: string, limit?: number): Promise<T[]> {
    const items: T[] = [];
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) if (value !== undefined) query.set(key, value);
    query.set('n', String(Math.min(limit ?? PAGE_SIZE, PAGE_SIZE)));
    let next: string | undefined = `${path}?${query}`;
    for (let page = 0; next !== undefined && page < MAX_PAGES; page++) {
      const response = await this.dataPlane(registry, 'GET', next, { accept: 'application/json' });
      const body = parseJson<Record<string, unknown>>(response, `GET ${path}`);
      const pageItems = body[field];
      if (pageItems !== undefined && pageItems !== null && !Array.isArray(pageItems)) throw new CliError(`GET ${path}: "${field}" is not a list`);
      items.push(...((pageItems ?? []) as T[]));
      if (limit !== undefined && items.length >= limit) return items.slice(0, limit);
      const following = nextLink(response.headers.link);
      next = following === next || (pageItems ?? []).length === 0 ? undefined : following;
    }
    return items;
  }

  /** A registry refresh token for the caller (`POST /oauth2/exchange`), as `az acr login` gets one. */
  async exchangeRefreshToken(registry: string): Promise<{ loginServer: string; refreshToken: string }> {
    const loginServer = await this.loginServer(registry);
    const { username, password } = this.credential();
    const form = new URLSearchParams({ service: loginServer });
    if (username === REFRESH_TOKEN_USERNAME) {
      form.set('grant_type', 'refresh_token');
      form.set('refresh_token', password);
    } else {
      form.set('grant_type', 'password');
      form.set('username', username);
      form.set('password', password);
    }
    const response = await this.send({
      method: 'POST',
      path: '/oauth2/exchange',
      host: loginServer,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
      caller: username,
    });
    const body = parseJson<{ refresh_token?: unknown }>(response, 'POST /oauth2/exchange');
    if (typeof body.refresh_token !== 'string' || body.refresh_token === '') throw new CliError('the server answered /oauth2/exchange without a refresh_token');
    return { loginServer, refreshToken: body.refresh_token };
  }

  private basicCredential(): { username: string; password: string } | undefined {
    if (this.username === undefined) return undefined;
    if (this.password === undefined) {
      throw new CliError(`no password for ${this.username}: pass --password, set BERTH_PASSWORD or run 'berth configure --username ${this.username}'`);
    }
    return { username: this.username, password: this.password };
  }

  /** `caller`: a request that carries its credential in the body (no Authorization header) names it here. */
  private async send(request: { method: string; path: string; host?: string; headers: Record<string, string>; body?: string; caller?: string }): Promise<HttpResponse> {
    const headers = { ...request.headers };
    const credential = request.caller === undefined ? this.basicCredential() : undefined;
    if (credential) headers.authorization = `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`;
    const url = new URL(`${this.server.pathname.replace(/\/+$/, '')}${request.path}`, this.server);
    let response: HttpResponse;
    try {
      response = await httpRequest({ method: request.method, url, host: request.host, headers, body: request.body, ca: this.ca });
    } catch (error) {
      if (error instanceof HttpConnectError) throw new CliError(`cannot reach the Berth server at ${this.serverUrl}: ${error.message}`);
      throw new CliError(`${request.method} ${request.path}: ${(error as Error).message}`);
    }
    if (response.status >= 400) throw new ServerError(response.status, errorMessage(response, credential?.username ?? request.caller));
    return response;
  }

  /** A request with a streamed body whose response is handed over unread (errors excepted). */
  private async stream(request: { method: string; path: string; headers: Record<string, string>; body?: NodeJS.ReadableStream }): Promise<IncomingMessage> {
    const headers = { ...request.headers };
    const credential = this.basicCredential();
    if (credential) headers.authorization = `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`;
    const url = new URL(`${this.server.pathname.replace(/\/+$/, '')}${request.path}`, this.server);
    let response: IncomingMessage;
    try {
      response = await httpStream({ method: request.method, url, headers, body: request.body, ca: this.ca });
    } catch (error) {
      if (error instanceof HttpConnectError) throw new CliError(`cannot reach the Berth server at ${this.serverUrl}: ${error.message}`);
      throw new CliError(`${request.method} ${request.path}: ${(error as Error).message}`);
    }
    const status = response.statusCode ?? 0;
    if (status >= 400) throw new ServerError(status, errorMessage(await answerOf(response), credential?.username));
    return response;
  }
}

/** A streamed response read whole (it is small: JSON or an error document). */
async function answerOf(response: IncomingMessage): Promise<HttpResponse> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response) {
    size += (chunk as Buffer).length;
    if (size > MAX_STREAMED_ANSWER_BYTES) {
      response.destroy();
      throw new CliError(`the answer of the server is larger than ${MAX_STREAMED_ANSWER_BYTES} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return { status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') };
}

/** The server refused a request; `status` is its HTTP status. */
export class ServerError extends CliError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function defaultDomain(serverHost: string): string {
  const host = serverHost.replace(/^\[(.*)\]$/, '$1');
  return host === 'localhost' || /^[\d.]+$/.test(host) || host.includes(':') ? 'localhost' : host;
}

export const REFRESH_TOKEN_USERNAME = '00000000-0000-0000-0000-000000000000';

/**
 * The server's own words for a failed request (problem `detail`/`title`, or OCI
 * `errors[].message`), with a hint about credentials for 401s. `caller` is the user name sent.
 */
export function errorMessage(response: HttpResponse, caller: string | undefined): string {
  let message = `${response.status} ${statusText(response.status)}`;
  try {
    const body = JSON.parse(response.text) as { title?: unknown; detail?: unknown; errors?: { code?: unknown; message?: unknown }[] };
    if (Array.isArray(body.errors) && body.errors.length > 0) {
      message = body.errors.map((error) => String(error.message ?? error.code ?? 'error')).join('; ');
    } else if (typeof body.detail === 'string' || typeof body.title === 'string') {
      message = String(body.detail ?? body.title);
    }
  } catch {
    const text = response.text.trim();
    if (text && text.length <= 200 && !text.startsWith('<')) message = `${message}: ${text}`;
  }
  if (response.status === 401) {
    message +=
      caller === undefined
        ? " (no Berth credential: pass --username/--password, set BERTH_USERNAME/BERTH_PASSWORD or run 'berth configure')"
        : ` (the server did not accept the credential of ${caller})`;
  }
  const retryAfter = response.headers['retry-after'];
  if (response.status === 429 && retryAfter !== undefined && !/retry/i.test(message)) message += ` (retry after ${String(retryAfter)} s)`;
  return message;
}

function statusText(status: number): string {
  return (
    { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable' }[status] ?? 'Error'
  );
}

function parseJson<T>(response: HttpResponse, what: string): T {
  if (response.status === 204 || response.text === '') return undefined as T;
  try {
    return JSON.parse(response.text) as T;
  } catch {
    throw new CliError(`${what}: the server's answer is not JSON`);
  }
}

/** The `rel="next"` target of a `Link` header, as a path with its query. */
export function nextLink(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header.join(', ') : header;
  if (!value) return undefined;
  for (const part of value.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (!match || !/\brel\s*=\s*"?next"?/i.test(match[2]!)) continue;
    const target = new URL(match[1]!, 'http://placeholder');
    return `${target.pathname}${target.search}`;
  }
  return undefined;
}

/**
 * The certificates to trust with `--ca-file`: Node's bundled roots, `NODE_EXTRA_CA_CERTS` (which
 * an explicit CA list would otherwise drop) and the file itself.
 */
function trustedCertificates(caFile: string, env: NodeJS.ProcessEnv): string[] {
  const read = (file: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      throw new CliError(`cannot read the CA file ${file}: ${(error as Error).message}`);
    }
  };
  return [...tls.rootCertificates, ...(env.NODE_EXTRA_CA_CERTS ? [read(env.NODE_EXTRA_CA_CERTS)] : []), read(caFile)];
}
