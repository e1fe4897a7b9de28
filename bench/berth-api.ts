/**
 * Berth's own interfaces beyond the Distribution API, for workloads only Berth can run: the
 * management API (`/mgmt/v1/`, as the installation owner) to create principals and change
 * registry settings, and the token server (`/oauth2/`) as docker and `berth login` call it.
 */
import http from 'node:http';
import https from 'node:https';
import type { RunStatus } from '../src/meta/task-store.ts';
import { basicAuthorization } from './auth.ts';
import { expectStatus, header, HttpClient, type HttpResponse } from './http.ts';
import type { Credentials } from './options.ts';

/** Whether `url` serves Berth's management API (its OpenAPI document needs no credentials). */
export async function servesBerthApi(url: string): Promise<boolean> {
  const http = new HttpClient(url, 1);
  try {
    const res = await http.request('GET', '/mgmt/v1/openapi.json', { read: 'buffer', idleTimeoutMs: 10_000 });
    return res.status === 200;
  } catch {
    return false;
  } finally {
    http.close();
  }
}

/** A purge sends nothing until it is done, and a large one takes minutes. */
const purgeIdleTimeoutMs = 30 * 60_000;

export class ManagementApi {
  private readonly http: HttpClient;
  private readonly authorization: string;

  constructor(url: string, owner: Credentials) {
    this.http = new HttpClient(url, 4);
    this.authorization = basicAuthorization(owner);
  }

  createUser(username: string, password: string): Promise<unknown> {
    return this.call('POST', '/users', { username, password }, [201]);
  }

  deleteUser(username: string): Promise<unknown> {
    return this.call('DELETE', `/users/${encodeURIComponent(username)}`, undefined, [204]);
  }

  assignRole(assignee: string, role: string, scope: string): Promise<unknown> {
    return this.call('POST', '/role-assignments', { assignee, role, scope }, [201]);
  }

  createScopeMap(registry: string, name: string, actions: string[]): Promise<unknown> {
    return this.call('POST', `/registries/${registry}/scope-maps`, { name, actions }, [201]);
  }

  deleteScopeMap(registry: string, name: string): Promise<unknown> {
    return this.call('DELETE', `/registries/${registry}/scope-maps/${name}`, undefined, [204]);
  }

  /** Creates a token bound to `scopeMapName`; returns its first generated password. */
  async createToken(registry: string, name: string, scopeMapName: string): Promise<string> {
    const token = (await this.call('POST', `/registries/${registry}/tokens`, { name, scopeMapName }, [201])) as {
      credentials?: { passwords?: { name: string; value?: string }[] };
    };
    const password = token.credentials?.passwords?.find((p) => p.value)?.value;
    if (!password) throw new Error(`token ${name}: no password in the answer`);
    return password;
  }

  deleteToken(registry: string, name: string): Promise<unknown> {
    return this.call('DELETE', `/registries/${registry}/tokens/${name}`, undefined, [204]);
  }

  /** Turns anonymous pull on or off; returns the previous setting. */
  async setAnonymousPull(registry: string, enabled: boolean): Promise<boolean> {
    const before = (await this.call('GET', `/registries/${registry}`, undefined, [200])) as { anonymousPullEnabled: boolean };
    await this.call('PATCH', `/registries/${registry}`, { anonymousPullEnabled: enabled }, [200]);
    return before.anonymousPullEnabled;
  }

  /** `POST /mgmt/v1/gc/runs`: a garbage collection now (or, with `dryRun`, what it would reclaim). */
  async runGc(dryRun: boolean): Promise<GcRunReport> {
    return (await this.call('POST', '/gc/runs', { dryRun }, [200])) as GcRunReport;
  }

  /** `POST /mgmt/v1/registries/{registry}/purge`; the server answers once everything is deleted. */
  async purge(registry: string, body: PurgeRequestBody): Promise<PurgeReport> {
    return (await this.call('POST', `/registries/${registry}/purge`, body, [200], purgeIdleTimeoutMs)) as PurgeReport;
  }

  /** The host (and port) images of a registry are named with, e.g. in a Dockerfile's `FROM`. */
  async loginServer(registry: string): Promise<string> {
    return ((await this.call('GET', `/registries/${registry}`, undefined, [200])) as { loginServer: string }).loginServer;
  }

  /** `POST /mgmt/v1/registries/{registry}/tasks` (`berth task create`). */
  createTask(registry: string, body: TaskBody): Promise<unknown> {
    return this.call('POST', `/registries/${registry}/tasks`, body, [201]);
  }

  deleteTask(registry: string, name: string): Promise<unknown> {
    return this.call('DELETE', `/registries/${registry}/tasks/${name}`, undefined, [204]);
  }

  /** Queues a run of a task (`berth task run`). */
  async runTask(registry: string, name: string): Promise<RunInfo> {
    return (await this.call('POST', `/registries/${registry}/tasks/${name}/runs`, {}, [202])) as RunInfo;
  }

  /** Queues a quick run of a task file's text without a source context (`berth run -f file /dev/null`). */
  async quickRun(registry: string, taskFileContent: string): Promise<RunInfo> {
    return (await this.call('POST', `/registries/${registry}/runs`, { type: 'QuickRun', sourceLocation: null, taskFileContent }, [202])) as RunInfo;
  }

  async getRun(registry: string, runId: string): Promise<RunInfo> {
    return (await this.call('GET', `/registries/${registry}/runs/${runId}`, undefined, [200])) as RunInfo;
  }

  /** `GET …/tasks/{name}/webhook` (`berth task show-webhook`): where a git host sends push events, and the secret it signs them with. */
  async taskWebhook(registry: string, name: string): Promise<{ url: string; secret: string }> {
    return (await this.call('GET', `/registries/${registry}/tasks/${name}/webhook`, undefined, [200])) as { url: string; secret: string };
  }

  /** A registry's runs, newest first: of one task, or with `task` undefined of every task; at most `top`. */
  async listRuns(registry: string, task: string | undefined, top = 1000): Promise<RunInfo[]> {
    const query = new URLSearchParams({ top: String(top) });
    if (task !== undefined) query.set('task', task);
    return ((await this.call('GET', `/registries/${registry}/runs?${query}`, undefined, [200])) as { value: RunInfo[] }).value;
  }

  /**
   * `GET …/runs/{runId}/log?follow=true`: hands every chunk to `onText` as it arrives and resolves
   * with the whole log once the server ends it (the run finished). On its own connection, so the
   * other calls are not held up behind it.
   */
  followLog(registry: string, runId: string, onText: (text: string) => void, idleTimeoutMs: number): Promise<string> {
    const url = new URL(`/mgmt/v1/registries/${registry}/runs/${runId}/log?follow=true`, this.http.base);
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = transport.get(url, { headers: { Authorization: this.authorization }, agent: false }, (res) => {
        res.setEncoding('utf8');
        let text = '';
        res.on('data', (chunk: string) => {
          text += chunk;
          if (res.statusCode === 200) onText(chunk);
        });
        res.on('end', () => {
          if (res.statusCode === 200) resolve(text);
          else reject(new Error(`GET ${url.pathname}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
        });
        res.on('error', reject);
      });
      req.setTimeout(idleTimeoutMs, () => req.destroy(new Error(`GET ${url.pathname}: no log output for ${idleTimeoutMs} ms`)));
      req.on('error', reject);
    });
  }

  close(): void {
    this.http.close();
  }

  private async call(method: string, path: string, body: unknown, expected: number[], idleTimeoutMs?: number): Promise<unknown> {
    const headers: Record<string, string> = { Authorization: this.authorization };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await this.http.request(method, `/mgmt/v1${path}`, {
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      read: 'buffer',
      idleTimeoutMs,
    });
    expectStatus(res, expected, `${method} /mgmt/v1${path}`);
    return res.body.length > 0 ? JSON.parse(res.body.toString('utf8')) : undefined;
  }
}

export interface GcRunReport {
  gracePeriodSeconds: number;
  unlinkedBlobs: unknown[];
  deletedBlobs: { digest: string; size: number }[];
  reclaimedBytes: number;
}

export interface PurgeRequestBody {
  filters: string[];
  ago: string;
  untagged?: boolean;
  untaggedOnly?: boolean;
  keep?: number;
  dryRun?: boolean;
}

export interface PurgeReport {
  dryRun: boolean;
  /** Deleted, or with a dry run, to be deleted. */
  tags: { repository: string; tag: string; digest: string }[];
  manifests: { repository: string; digest: string; reason: string }[];
  failed: { repository: string; tag?: string; digest?: string; error: string }[];
}

/**
 * The fields of a task the bench creates: a `cmd` task (`berth task create --cmd … -c /dev/null`),
 * or a Dockerfile or task file in a source context, with its trigger settings.
 */
export interface TaskBody {
  name: string;
  contextPath: string | null;
  cmd?: string;
  file?: string;
  commitTriggerEnabled?: boolean;
  gitPollIntervalSeconds?: number;
  baseImageTriggerEnabled?: boolean;
}

/** A run as `GET /mgmt/v1/registries/{registry}/runs/{runId}` shows it (the fields the bench reads). */
export interface RunInfo {
  runId: string;
  task: string | null;
  status: RunStatus;
  /** `Manual`, `Commit`, `Image Update` or `Timer`. */
  trigger: string;
  createTime: string;
  startTime: string | null;
  finishTime: string | null;
  runErrorMessage: string | null;
}

/** The registry a request to `url` reaches, as named in the tokens its token server issues for `repository`. */
export async function reachedRegistry(url: string, owner: Credentials, repository: string): Promise<string> {
  const tokenServer = await TokenServer.discover(url, `/v2/${repository}/tags/list`);
  try {
    const registry = (await tokenServer.basicToken(owner, `repository:${repository}:pull`)).claims['registry'];
    if (typeof registry !== 'string') throw new Error('the access token names no registry');
    return registry;
  } finally {
    tokenServer.close();
  }
}

export interface IssuedToken {
  token: string;
  expiresIn: number;
  /** The JWT's payload, read without verification. */
  claims: Record<string, unknown>;
}

/** The token server a repository's `401` challenge names, with the `service` to ask it for. */
export class TokenServer {
  private constructor(
    private readonly http: HttpClient,
    readonly realm: URL,
    readonly service: string,
  ) {}

  /** Follows the challenge of an anonymous `GET` of `path` (which must be refused). */
  static async discover(url: string, path: string): Promise<TokenServer> {
    const http = new HttpClient(url, 8);
    try {
      const res = await http.request('GET', path, { read: 'buffer' });
      expectStatus(res, [401], `anonymous GET ${path}`);
      const challenge = header(res, 'www-authenticate') ?? '';
      const realm = /realm="([^"]+)"/.exec(challenge)?.[1];
      const service = /service="([^"]+)"/.exec(challenge)?.[1];
      if (!/^bearer /i.test(challenge) || !realm || !service) throw new Error(`GET ${path}: not a Bearer challenge with realm and service: "${challenge}"`);
      return new TokenServer(http, new URL(realm), service);
    } catch (error) {
      http.close();
      throw error;
    }
  }

  /** `GET <realm>?service=&scope=` as docker asks before a pull. */
  tokenUrl(scope: string): string {
    const url = new URL(this.realm);
    url.searchParams.set('service', this.service);
    url.searchParams.set('scope', scope);
    return url.toString();
  }

  /** What `docker login` asks: no scope, a refresh token wanted (`offline_token=true`). */
  loginUrl(username: string): string {
    const url = new URL(this.realm);
    url.searchParams.set('account', username);
    url.searchParams.set('client_id', 'docker');
    url.searchParams.set('offline_token', 'true');
    url.searchParams.set('service', this.service);
    return url.toString();
  }

  /** The form of a `grant_type=refresh_token` POST, as docker sends it with a stored refresh token. */
  refreshForm(refreshToken: string, scope: string): string {
    return new URLSearchParams({ grant_type: 'refresh_token', service: this.service, client_id: 'docker', scope, refresh_token: refreshToken }).toString();
  }

  async basicToken(credentials: Credentials, scope: string): Promise<IssuedToken> {
    const res = await this.http.request('GET', this.tokenUrl(scope), { headers: { Authorization: basicAuthorization(credentials) }, read: 'buffer' });
    return issued(res, `token for ${credentials.username}`);
  }

  async refreshGrant(refreshToken: string, scope: string): Promise<IssuedToken> {
    const res = await this.http.request('POST', this.realm, {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: this.refreshForm(refreshToken, scope),
      read: 'buffer',
    });
    return issued(res, 'refresh_token grant');
  }

  /** A registry refresh token for a user's password, as `berth login` gets it. */
  async exchange(credentials: Credentials): Promise<string> {
    const form = new URLSearchParams({ grant_type: 'password', service: this.service, username: credentials.username, password: credentials.password });
    const res = await this.http.request('POST', new URL('/oauth2/exchange', this.realm), {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
      read: 'buffer',
    });
    expectStatus(res, [200], `exchange for ${credentials.username}`);
    const body = JSON.parse(res.body.toString('utf8')) as { refresh_token?: string };
    if (!body.refresh_token) throw new Error(`exchange for ${credentials.username}: no refresh_token in the answer`);
    return body.refresh_token;
  }

  /** One `docker login`-shaped token request; returns its status. */
  async login(http: HttpClient, credentials: Credentials): Promise<number> {
    const res = await http.request('GET', this.loginUrl(credentials.username), { headers: { Authorization: basicAuthorization(credentials) } });
    return res.status;
  }

  close(): void {
    this.http.close();
  }
}

function issued(res: HttpResponse, what: string): IssuedToken {
  expectStatus(res, [200], what);
  const body = JSON.parse(res.body.toString('utf8')) as { token?: string; access_token?: string; expires_in?: number };
  const token = body.access_token ?? body.token;
  if (!token) throw new Error(`${what}: no token in the answer`);
  const payload = token.split('.')[1];
  const claims = payload ? (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>) : {};
  return { token, expiresIn: body.expires_in ?? 60, claims };
}
