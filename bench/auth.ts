/**
 * Authorization for the registry under test, found from the `/v2/` challenge: none, Basic, or
 * Bearer tokens from the token server (one per repository, renewed before they expire). Tokens
 * are fetched before a request is sent, so streamed bodies never need a retry; workloads fetch
 * them before their clock starts, since a token request may cost a password hash.
 */
import { expectStatus, header, type HttpClient } from './http.ts';
import type { Credentials } from './options.ts';

interface CachedToken {
  authorization: Promise<string>;
  renewAt: number;
}

type Scheme = { kind: 'none' } | { kind: 'basic' } | { kind: 'bearer'; realm: string; service: string | undefined };

export class Authenticator {
  private scheme: Scheme = { kind: 'none' };
  private readonly tokens = new Map<string, CachedToken>();

  constructor(
    private readonly http: HttpClient,
    private readonly credentials: Credentials | undefined,
  ) {}

  /** How the registry wants callers to authenticate, as found by `init`. */
  get schemeName(): Scheme['kind'] {
    return this.scheme.kind;
  }

  async init(): Promise<void> {
    const res = await this.http.request('GET', '/v2/', { read: 'buffer' });
    if (res.status === 200) return;
    expectStatus(res, [401], 'GET /v2/');
    const challenge = header(res, 'www-authenticate') ?? '';
    const params = parseChallengeParams(challenge);
    if (/^basic\b/i.test(challenge)) {
      this.requireCredentials('Basic');
      this.scheme = { kind: 'basic' };
    } else if (/^bearer\b/i.test(challenge) && params.realm) {
      this.scheme = { kind: 'bearer', realm: params.realm, service: params.service };
    } else {
      throw new Error(`GET /v2/: unsupported challenge "${challenge}"`);
    }
  }

  /** Headers that authorize pull, push and delete on `repository`. */
  async headers(repository: string): Promise<Record<string, string>> {
    switch (this.scheme.kind) {
      case 'none':
        return {};
      case 'basic':
        return { Authorization: basicAuthorization(this.credentials!) };
      case 'bearer':
        return { Authorization: await this.bearer(repository, this.scheme.realm, this.scheme.service) };
    }
  }

  private bearer(repository: string, realm: string, service: string | undefined): Promise<string> {
    const cached = this.tokens.get(repository);
    if (cached && Date.now() < cached.renewAt) return cached.authorization;
    // Concurrent callers share one token request.
    const request = this.fetchToken(repository, realm, service);
    const entry: CachedToken = { authorization: request.then((t) => t.authorization), renewAt: Infinity };
    this.tokens.set(repository, entry);
    request.then(
      // The spec's default lifetime is 60 s; renew at half of it to stay clear of the edge.
      (t) => (entry.renewAt = Date.now() + t.lifetimeSeconds * 500),
      () => this.tokens.get(repository) === entry && this.tokens.delete(repository),
    );
    return entry.authorization;
  }

  private async fetchToken(
    repository: string,
    realm: string,
    service: string | undefined,
  ): Promise<{ authorization: string; lifetimeSeconds: number }> {
    const url = new URL(realm);
    if (service) url.searchParams.set('service', service);
    url.searchParams.set('scope', `repository:${repository}:pull,push,delete`);
    const headers: Record<string, string> = this.credentials ? { Authorization: basicAuthorization(this.credentials) } : {};
    const res = await this.http.request('GET', url, { headers, read: 'buffer' });
    expectStatus(res, [200], `token for ${repository}`);
    const body = JSON.parse(res.body.toString('utf8')) as { token?: string; access_token?: string; expires_in?: number };
    const token = body.token ?? body.access_token;
    if (!token) throw new Error(`token for ${repository}: no token in the answer`);
    return { authorization: `Bearer ${token}`, lifetimeSeconds: body.expires_in ?? 60 };
  }

  private requireCredentials(scheme: string): void {
    if (!this.credentials) throw new Error(`the registry asks for ${scheme} authentication; pass a user name and password`);
  }
}

export function basicAuthorization(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

/** `Bearer realm="https://x/token",service="x"` → `{ realm, service }`. */
function parseChallengeParams(challenge: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const match of challenge.matchAll(/(\w+)="([^"]*)"/g)) params[match[1]!.toLowerCase()] = match[2]!;
  return params;
}
