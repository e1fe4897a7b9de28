/**
 * Push events of GitHub, GitLab and Gitea webhooks: who sent one, whether it carries the task's
 * secret, and which branch and commit it announces.
 *
 * - GitHub: `X-GitHub-Event: push` (or `ping`), `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`;
 *   the body is JSON or a form with the JSON in `payload`.
 * - GitLab: `X-Gitlab-Event: Push Hook`, `X-Gitlab-Token: <secret>`.
 * - Gitea (and Forgejo): `X-Gitea-Event: push`, `X-Gitea-Signature: <hex HMAC-SHA256 of the body>`.
 *   Gitea also sends GitHub's headers, so its own are looked at first.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export type GitProvider = 'GitHub' | 'GitLab' | 'Gitea';

export interface GitPush {
  provider: GitProvider;
  branch: string;
  commit: string;
  /** The repository's clone and web URLs as the event gives them. */
  repositoryUrls: string[];
}

export type GitWebhookResult =
  /** Not from a known provider, or without the task's secret: nothing may run. */
  | { outcome: 'unauthorized'; reason: string }
  /** Signed, but not a readable event. */
  | { outcome: 'invalid'; provider: GitProvider; reason: string }
  /** Signed, but nothing to run for: a ping, another event or branch, a deleted branch. */
  | { outcome: 'ignored'; provider: GitProvider; reason: string }
  | { outcome: 'push'; push: GitPush };

export interface GitWebhookRequest {
  headers: IncomingHttpHeaders;
  /** The body exactly as received: signatures are computed over these bytes. */
  body: Buffer;
  /** The task's webhook secret. */
  secret: string;
  /** The branch the task follows; undefined for the repository's default branch. */
  branch: string | undefined;
}

const COMMIT = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const DELETED = /^0+$/;
const SHA256_HEX = /^[0-9a-f]{64}$/i;

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The provider and its event name, from the provider's own event header. */
function eventOf(headers: IncomingHttpHeaders): { provider: GitProvider; event: string } | undefined {
  const gitea = header(headers, 'x-gitea-event');
  if (gitea !== undefined) return { provider: 'Gitea', event: gitea };
  const gitlab = header(headers, 'x-gitlab-event');
  if (gitlab !== undefined) return { provider: 'GitLab', event: gitlab };
  const github = header(headers, 'x-github-event');
  if (github !== undefined) return { provider: 'GitHub', event: github };
  return undefined;
}

/** Whether `givenHex` is the HMAC-SHA256 of `body` under `secret`, compared in constant time. */
function hmacMatches(givenHex: string, body: Buffer, secret: string): boolean {
  if (!SHA256_HEX.test(givenHex)) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(givenHex, 'hex'));
}

/** Compares two secrets in constant time, also as to their lengths (both are hashed first). */
function secretMatches(given: string, secret: string): boolean {
  const digest = (value: string): Buffer => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(secret));
}

/** Why the request does not carry the task's secret, or undefined when it does. */
function signatureProblem(provider: GitProvider, headers: IncomingHttpHeaders, body: Buffer, secret: string): string | undefined {
  switch (provider) {
    case 'GitHub': {
      const signature = header(headers, 'x-hub-signature-256');
      if (signature === undefined) return 'the X-Hub-Signature-256 header is missing';
      return signature.startsWith('sha256=') && hmacMatches(signature.slice('sha256='.length), body, secret) ? undefined : 'the signature does not match';
    }
    case 'Gitea': {
      const signature = header(headers, 'x-gitea-signature');
      if (signature === undefined) return 'the X-Gitea-Signature header is missing';
      return hmacMatches(signature, body, secret) ? undefined : 'the signature does not match';
    }
    case 'GitLab': {
      const token = header(headers, 'x-gitlab-token');
      if (token === undefined) return 'the X-Gitlab-Token header is missing';
      return secretMatches(token, secret) ? undefined : 'the token does not match';
    }
  }
}

function isPushEvent(provider: GitProvider, event: string): boolean {
  return provider === 'GitLab' ? event === 'Push Hook' : event === 'push';
}

type Json = Record<string, unknown>;

function objectAt(value: unknown, key: string): Json | undefined {
  const child = typeof value === 'object' && value !== null ? (value as Json)[key] : undefined;
  return typeof child === 'object' && child !== null && !Array.isArray(child) ? (child as Json) : undefined;
}

function stringAt(value: Json | undefined, key: string): string | undefined {
  const child = value?.[key];
  return typeof child === 'string' && child !== '' ? child : undefined;
}

/** The event's JSON: the body itself, or GitHub's form encoding with the JSON in `payload`. */
function payloadOf(headers: IncomingHttpHeaders, body: Buffer): Json | undefined {
  let text = body.toString('utf8');
  if (/^application\/x-www-form-urlencoded\b/i.test(header(headers, 'content-type') ?? '')) {
    text = new URLSearchParams(text).get('payload') ?? '';
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Json) : undefined;
  } catch {
    return undefined;
  }
}

/** GitHub and Gitea describe the repository in `repository`, GitLab in `project` (and the older `repository`). */
function repositoryOf(provider: GitProvider, payload: Json): { urls: string[]; defaultBranch: string | undefined } {
  const keys =
    provider === 'GitLab'
      ? { objects: ['project', 'repository'], urls: ['git_http_url', 'git_ssh_url', 'web_url', 'homepage'] }
      : { objects: ['repository'], urls: ['clone_url', 'ssh_url', 'git_url', 'html_url'] };
  const urls = new Set<string>();
  let defaultBranch: string | undefined;
  for (const objectKey of keys.objects) {
    const described = objectAt(payload, objectKey);
    for (const urlKey of keys.urls) {
      const url = stringAt(described, urlKey);
      if (url !== undefined) urls.add(url);
    }
    defaultBranch ??= stringAt(described, 'default_branch');
  }
  return { urls: [...urls], defaultBranch };
}

/**
 * Authenticates a webhook request with the task's secret and reads the push it announces. Only a
 * push of a new commit to the task's branch comes back as `push`.
 */
export function readGitWebhook({ headers, body, secret, branch }: GitWebhookRequest): GitWebhookResult {
  const event = eventOf(headers);
  if (!event) return { outcome: 'unauthorized', reason: 'not a GitHub, GitLab or Gitea webhook (no event header)' };
  const { provider } = event;
  const problem = signatureProblem(provider, headers, body, secret);
  if (problem !== undefined) return { outcome: 'unauthorized', reason: `${provider} webhook: ${problem}` };

  if (provider === 'GitHub' && event.event === 'ping') return { outcome: 'ignored', provider, reason: 'ping' };
  if (!isPushEvent(provider, event.event)) return { outcome: 'ignored', provider, reason: `${event.event} events do not trigger runs` };

  const payload = payloadOf(headers, body);
  if (!payload) return { outcome: 'invalid', provider, reason: 'the body is not a JSON object' };
  const ref = stringAt(payload, 'ref');
  if (ref === undefined) return { outcome: 'invalid', provider, reason: 'the push event names no ref' };
  if (!ref.startsWith('refs/heads/')) return { outcome: 'ignored', provider, reason: `${ref} is not a branch` };
  const pushed = ref.slice('refs/heads/'.length);

  const after = provider === 'GitLab' ? (stringAt(payload, 'checkout_sha') ?? stringAt(payload, 'after')) : stringAt(payload, 'after');
  if (payload.deleted === true || (after !== undefined && DELETED.test(after))) {
    return { outcome: 'ignored', provider, reason: `branch ${pushed} was deleted` };
  }
  const commit = after?.toLowerCase();
  if (commit === undefined || !COMMIT.test(commit)) return { outcome: 'invalid', provider, reason: 'the push event names no commit' };

  const repository = repositoryOf(provider, payload);
  const followed = branch ?? repository.defaultBranch;
  if (followed === undefined) return { outcome: 'ignored', provider, reason: 'the event does not name the default branch the task follows' };
  if (pushed !== followed) return { outcome: 'ignored', provider, reason: `the task follows ${followed}, not ${pushed}` };
  return { outcome: 'push', push: { provider, branch: pushed, commit, repositoryUrls: repository.urls } };
}
