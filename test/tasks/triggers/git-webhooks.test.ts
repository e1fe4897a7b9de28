import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, test } from 'node:test';
import { readGitWebhook, type GitWebhookResult } from '../../../src/tasks/triggers/git-webhooks.ts';

const SECRET = 's3cret';
const COMMIT = 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3';
const ZEROS = '0'.repeat(40);

const hmac = (body: Buffer, secret = SECRET): string => createHmac('sha256', secret).update(body).digest('hex');

function githubPush(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ref: 'refs/heads/main',
    before: 'b'.repeat(40),
    after: COMMIT,
    deleted: false,
    repository: { clone_url: 'https://github.com/contoso/app.git', ssh_url: 'git@github.com:contoso/app.git', default_branch: 'main' },
    ...overrides,
  };
}

function gitlabPush(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    object_kind: 'push',
    ref: 'refs/heads/main',
    before: 'b'.repeat(40),
    after: COMMIT,
    checkout_sha: COMMIT,
    project: { git_http_url: 'https://gitlab.example/contoso/app.git', git_ssh_url: 'git@gitlab.example:contoso/app.git', default_branch: 'main' },
    ...overrides,
  };
}

const body = (payload: unknown): Buffer => Buffer.from(JSON.stringify(payload));

/** `branch` null: the task follows the repository's default branch. */
function read(headers: IncomingHttpHeaders, raw: Buffer, branch: string | null = 'main'): GitWebhookResult {
  return readGitWebhook({ headers: { 'content-type': 'application/json', ...headers }, body: raw, secret: SECRET, branch: branch ?? undefined });
}

const github = (raw: Buffer, event = 'push', signature = `sha256=${hmac(raw)}`): IncomingHttpHeaders => ({ 'x-github-event': event, 'x-hub-signature-256': signature });
const gitea = (raw: Buffer, event = 'push', signature = hmac(raw)): IncomingHttpHeaders => ({
  'x-gitea-event': event,
  'x-gitea-signature': signature,
  // Gitea also sends GitHub's headers; its own decide.
  'x-github-event': event,
  'x-hub-signature-256': `sha256=${'0'.repeat(64)}`,
});
const gitlab = (event = 'Push Hook', token = SECRET): IncomingHttpHeaders => ({ 'x-gitlab-event': event, 'x-gitlab-token': token });

describe('git webhooks: GitHub', () => {
  test('a signed push to the followed branch announces its commit', () => {
    const raw = body(githubPush());
    assert.deepEqual(read(github(raw), raw), {
      outcome: 'push',
      push: { provider: 'GitHub', branch: 'main', commit: COMMIT, repositoryUrls: ['https://github.com/contoso/app.git', 'git@github.com:contoso/app.git'] },
    });
  });

  test('a wrong or missing signature is unauthorized', () => {
    const raw = body(githubPush());
    assert.equal(read(github(raw, 'push', `sha256=${hmac(raw, 'other')}`), raw).outcome, 'unauthorized');
    assert.equal(read(github(raw, 'push', hmac(raw)), raw).outcome, 'unauthorized', 'the sha256= prefix is required');
    assert.equal(read(github(raw, 'push', 'sha256=zz'), raw).outcome, 'unauthorized');
    assert.equal(read({ 'x-github-event': 'push' }, raw).outcome, 'unauthorized');
    assert.equal(read({}, raw).outcome, 'unauthorized', 'no provider event header');
  });

  test('a body changed after signing is unauthorized', () => {
    const raw = body(githubPush());
    const tampered = body(githubPush({ after: 'c'.repeat(40) }));
    assert.equal(read(github(raw), tampered).outcome, 'unauthorized');
  });

  test('a ping is acknowledged only when signed', () => {
    const raw = body({ zen: 'Keep it logically awesome.', hook_id: 1 });
    assert.deepEqual(read(github(raw, 'ping'), raw), { outcome: 'ignored', provider: 'GitHub', reason: 'ping' });
    assert.equal(read(github(raw, 'ping', `sha256=${hmac(raw, 'other')}`), raw).outcome, 'unauthorized');
  });

  test('other branches, tags, deletions and other events are ignored', () => {
    const other = body(githubPush({ ref: 'refs/heads/dev' }));
    assert.equal(read(github(other), other).outcome, 'ignored');
    const tag = body(githubPush({ ref: 'refs/tags/v1' }));
    assert.equal(read(github(tag), tag).outcome, 'ignored');
    const deleted = body(githubPush({ after: ZEROS, deleted: true }));
    assert.match((read(github(deleted), deleted) as { reason: string }).reason, /deleted/);
    const issue = body({ action: 'opened' });
    assert.equal(read(github(issue, 'issues'), issue).outcome, 'ignored');
  });

  test('without a branch the task follows the default branch the event names', () => {
    const raw = body(githubPush({ ref: 'refs/heads/trunk', repository: { default_branch: 'trunk' } }));
    assert.equal(read(github(raw), raw, null).outcome, 'push');
    const other = body(githubPush({ ref: 'refs/heads/dev', repository: { default_branch: 'trunk' } }));
    assert.equal(read(github(other), other, null).outcome, 'ignored');
  });

  test('a form-encoded push is read from its payload field, signed over the form', () => {
    const raw = Buffer.from(new URLSearchParams({ payload: JSON.stringify(githubPush()) }).toString());
    const result = read({ ...github(raw), 'content-type': 'application/x-www-form-urlencoded' }, raw);
    assert.equal(result.outcome, 'push');
  });

  test('a signed body that is not a push event is invalid', () => {
    const raw = Buffer.from('not json');
    assert.equal(read(github(raw), raw).outcome, 'invalid');
    const noCommit = body(githubPush({ after: 'abc' }));
    assert.equal(read(github(noCommit), noCommit).outcome, 'invalid');
  });
});

describe('git webhooks: GitLab', () => {
  test('a push with the right token announces checkout_sha', () => {
    const raw = body(gitlabPush());
    assert.deepEqual(read(gitlab(), raw), {
      outcome: 'push',
      push: { provider: 'GitLab', branch: 'main', commit: COMMIT, repositoryUrls: ['https://gitlab.example/contoso/app.git', 'git@gitlab.example:contoso/app.git'] },
    });
  });

  test('a wrong, empty or missing token is unauthorized', () => {
    const raw = body(gitlabPush());
    assert.equal(read(gitlab('Push Hook', 'wrong'), raw).outcome, 'unauthorized');
    assert.equal(read(gitlab('Push Hook', ''), raw).outcome, 'unauthorized');
    assert.equal(read({ 'x-gitlab-event': 'Push Hook' }, raw).outcome, 'unauthorized');
  });

  test('other branches, deletions and other hooks are ignored', () => {
    const other = body(gitlabPush({ ref: 'refs/heads/feature' }));
    assert.equal(read(gitlab(), other).outcome, 'ignored');
    const deleted = body(gitlabPush({ after: ZEROS, checkout_sha: null }));
    assert.match((read(gitlab(), deleted) as { reason: string }).reason, /deleted/);
    const tag = body(gitlabPush({ ref: 'refs/tags/v1' }));
    assert.equal(read(gitlab('Tag Push Hook'), tag).outcome, 'ignored');
  });
});

describe('git webhooks: Gitea', () => {
  test("a push signed with Gitea's header announces its commit", () => {
    const raw = body(githubPush({ repository: { clone_url: 'http://gitea.local/contoso/app.git', default_branch: 'main' } }));
    assert.deepEqual(read(gitea(raw), raw), { outcome: 'push', push: { provider: 'Gitea', branch: 'main', commit: COMMIT, repositoryUrls: ['http://gitea.local/contoso/app.git'] } });
  });

  test('a wrong or missing signature is unauthorized', () => {
    const raw = body(githubPush());
    assert.equal(read(gitea(raw, 'push', hmac(raw, 'other')), raw).outcome, 'unauthorized');
    assert.equal(read({ 'x-gitea-event': 'push' }, raw).outcome, 'unauthorized');
  });

  test('other branches and deletions are ignored', () => {
    const other = body(githubPush({ ref: 'refs/heads/dev' }));
    assert.equal(read(gitea(other), other).outcome, 'ignored');
    const deleted = body(githubPush({ after: ZEROS }));
    assert.equal(read(gitea(deleted), deleted).outcome, 'ignored');
  });
});
