/**
 * The `registryAuth` policy: a registry client's side of the Distribution auth flow. A `401` with
 * a Bearer challenge sends it to the token endpoint (`realm`), with Basic credentials when it has
 * them or anonymously; a Basic challenge is answered with the credentials. The request is then
 * repeated once. Tokens are cached per repository until shortly before they expire, so later
 * requests carry one without another round trip. Decisions live in `registry-challenge.ts`.
 */
import { discardBody, isReplayable, type OutboundRequest, type OutboundResponse, type PipelinePolicy, type SendRequest } from './pipeline.ts';
import { answerChallenge, pullScope, readTokenResponse, repositoryOfPath, tokenRequestUrl, tokenUsableUntil, type RegistryCredentials } from './registry-challenge.ts';
import { parseChallenges } from './www-authenticate.ts';

/** Token endpoint answers are small JSON documents; anything larger is refused. */
const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;

interface CachedAuthorization {
  header: string;
  /** Epoch ms after which it is not sent any more. */
  until: number;
}

export interface RegistryAuthOptions {
  credentials?: RegistryCredentials;
  now?: () => number;
}

export function registryAuthPolicy(options: RegistryAuthOptions = {}): PipelinePolicy {
  const { credentials } = options;
  const now = options.now ?? Date.now;
  /** By `origin` + repository (or origin alone for Basic, which covers the whole host). */
  const cache = new Map<string, CachedAuthorization>();
  const basicHeader = credentials ? `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}` : undefined;

  const cacheKey = (url: URL) => `${url.origin}${repositoryOfPath(url.pathname) ?? ''}`;

  const cached = (url: URL): string | undefined => {
    for (const key of [cacheKey(url), url.origin]) {
      const entry = cache.get(key);
      if (entry && entry.until > now()) return entry.header;
      if (entry) cache.delete(key);
    }
    return undefined;
  };

  async function fetchToken(answer: { realm: string; service: string | undefined; scopes: string[] }, request: OutboundRequest, next: SendRequest): Promise<OutboundResponse | { token: string; expiresInSeconds: number }> {
    const headers = new Headers({ accept: 'application/json' });
    const userAgent = request.headers.get('user-agent');
    if (userAgent) headers.set('user-agent', userAgent);
    if (basicHeader) headers.set('authorization', basicHeader);
    const response = await next({ method: 'GET', url: tokenRequestUrl(answer).toString(), headers, ...(request.signal && { signal: request.signal }) });
    if (response.status !== 200) return response;
    const text = await readBounded(response, MAX_TOKEN_RESPONSE_BYTES);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`the token endpoint ${new URL(answer.realm).origin} answered with something other than JSON`);
    }
    return readTokenResponse(body);
  }

  return {
    name: 'registryAuth',
    async send(request, next) {
      const url = new URL(request.url);
      const known = request.headers.has('authorization') ? undefined : cached(url);
      if (known) request.headers.set('authorization', known);
      const response = await next(request);
      if (response.status !== 401 || !isReplayable(request)) return response;

      const repository = repositoryOfPath(url.pathname);
      const answer = answerChallenge(parseChallenges(response.headers.get('www-authenticate')), credentials, repository ? pullScope(repository) : undefined);
      if (answer.kind === 'refuse') return response;
      let header: string;
      let until: number;
      if (answer.kind === 'basic') {
        if (known === basicHeader) return response;
        header = basicHeader!;
        until = Number.POSITIVE_INFINITY;
      } else {
        const token = await fetchToken(answer, request, next);
        if ('status' in token) {
          await discardBody(response);
          return token;
        }
        header = `Bearer ${token.token}`;
        until = tokenUsableUntil(now(), token.expiresInSeconds);
      }
      await discardBody(response);
      cache.set(answer.kind === 'basic' ? url.origin : cacheKey(url), { header, until });
      const headers = new Headers(request.headers);
      headers.set('authorization', header);
      return next({ ...request, headers });
    },
  };
}

async function readBounded(response: OutboundResponse, limit: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (!response.body) return '';
  for await (const chunk of response.body) {
    total += chunk.length;
    // Leaving the loop by a throw cancels the rest of the body.
    if (total > limit) throw new Error(`the token endpoint's answer is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
