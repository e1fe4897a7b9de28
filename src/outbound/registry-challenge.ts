/**
 * How a registry client answers a `401`: the decisions of the Distribution token-auth flow as pure
 * functions (tested without a network). A Bearer challenge sends the client to the token endpoint
 * named by `realm` (with Basic credentials when it has them, anonymously otherwise); a Basic
 * challenge is answered with the credentials themselves; anything else is a refusal to report.
 */
import type { Challenge } from './www-authenticate.ts';

export interface RegistryCredentials {
  username: string;
  password: string;
}

export type ChallengeAnswer =
  /** Ask `realm` for a token for `service` and `scopes`, then repeat the request with it. */
  | { kind: 'bearer'; realm: string; service: string | undefined; scopes: string[] }
  /** Repeat the request with `Authorization: Basic`. */
  | { kind: 'basic' }
  /** Give up; `reason` says why in words for the user. */
  | { kind: 'refuse'; reason: string };

/**
 * The answer to the challenges of a 401. Bearer is preferred when both are offered (it is what
 * Distribution clients do). `wantedScope` is used when the challenge names no scope.
 */
export function answerChallenge(challenges: Challenge[], credentials: RegistryCredentials | undefined, wantedScope?: string): ChallengeAnswer {
  const bearer = challenges.find((challenge) => challenge.scheme === 'bearer');
  if (bearer) {
    const realm = bearer.params.realm;
    if (!realm) return { kind: 'refuse', reason: 'the Bearer challenge names no token endpoint (realm)' };
    if (!isHttpUrl(realm)) return { kind: 'refuse', reason: `the token endpoint "${realm}" is not an http(s) URL` };
    const scopes = bearer.params.scope ? bearer.params.scope.split(' ').filter((scope) => scope !== '') : [];
    if (scopes.length === 0 && wantedScope) scopes.push(wantedScope);
    return { kind: 'bearer', realm, service: bearer.params.service, scopes };
  }
  if (challenges.some((challenge) => challenge.scheme === 'basic')) {
    return credentials ? { kind: 'basic' } : { kind: 'refuse', reason: 'the source registry requires a user name and password' };
  }
  if (challenges.length === 0) return { kind: 'refuse', reason: 'the source registry answered 401 without a WWW-Authenticate challenge' };
  return { kind: 'refuse', reason: `unsupported authentication scheme "${challenges[0]!.scheme}"` };
}

/** The token request URL: `realm?service=...&scope=...&scope=...`, keeping the realm's own query. */
export function tokenRequestUrl(answer: { realm: string; service: string | undefined; scopes: string[] }): URL {
  const url = new URL(answer.realm);
  if (answer.service !== undefined) url.searchParams.set('service', answer.service);
  for (const scope of answer.scopes) url.searchParams.append('scope', scope);
  return url;
}

/** A token endpoint's answer: `token` or `access_token`, and its lifetime (the spec's default is 60 s). */
export function readTokenResponse(body: unknown): { token: string; expiresInSeconds: number } {
  const document = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const token = typeof document.token === 'string' && document.token !== '' ? document.token : document.access_token;
  if (typeof token !== 'string' || token === '') throw new Error('the token endpoint answered without a token');
  const expiresIn = document.expires_in;
  const expiresInSeconds = typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 60;
  return { token, expiresInSeconds };
}

/** The scope a client asks for to read a repository. */
export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

/** The repository a `/v2/<name>/(manifests|blobs|tags)/...` path is about, if any. */
export function repositoryOfPath(pathname: string): string | undefined {
  const match = /^\/v2\/(.+)\/(?:manifests|blobs|tags)\//.exec(pathname);
  return match?.[1];
}

/**
 * When a cached token is used no longer: a little before it expires (10 s, or a tenth of a short
 * lifetime), so a request never goes out with a token about to lapse.
 */
export function tokenUsableUntil(receivedAtMs: number, expiresInSeconds: number): number {
  const margin = Math.min(10, expiresInSeconds / 10);
  return receivedAtMs + (expiresInSeconds - margin) * 1000;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
