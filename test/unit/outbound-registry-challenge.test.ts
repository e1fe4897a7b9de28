import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { answerChallenge, pullScope, readTokenResponse, repositoryOfPath, tokenRequestUrl, tokenUsableUntil } from '../../src/outbound/registry-challenge.ts';
import { parseChallenges } from '../../src/outbound/www-authenticate.ts';

const credentials = { username: 'u', password: 'p' };

describe('parseChallenges (WWW-Authenticate)', () => {
  it('reads a Distribution Bearer challenge with a quoted scope containing commas', () => {
    assert.deepEqual(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull,push"'), [
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/ubuntu:pull,push' } },
    ]);
  });

  it('reads Basic, several challenges in one value, spaces and escapes', () => {
    assert.deepEqual(parseChallenges('Basic realm="Registry Realm"'), [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
    assert.deepEqual(parseChallenges('Basic realm="a", Bearer realm="https://t/token" , service = "s"'), [
      { scheme: 'basic', params: { realm: 'a' } },
      { scheme: 'bearer', params: { realm: 'https://t/token', service: 's' } },
    ]);
    assert.deepEqual(parseChallenges('Bearer realm="say \\"hi\\""'), [{ scheme: 'bearer', params: { realm: 'say "hi"' } }]);
    assert.deepEqual(parseChallenges(['Basic realm=x', 'Bearer realm=y']), [
      { scheme: 'basic', params: { realm: 'x' } },
      { scheme: 'bearer', params: { realm: 'y' } },
    ]);
  });

  it('never throws on garbage', () => {
    assert.deepEqual(parseChallenges(undefined), []);
    assert.deepEqual(parseChallenges(''), []);
    assert.deepEqual(parseChallenges('"""'), []);
    assert.deepEqual(parseChallenges('Bearer realm="unterminated'), [{ scheme: 'bearer', params: { realm: 'unterminated' } }]);
    assert.doesNotThrow(() => parseChallenges('=,,=;;@@ Bearer'));
  });
});

describe('answerChallenge: what a registry client does with a 401', () => {
  it('Bearer: asks the realm for the challenge scope, with or without credentials', () => {
    const challenges = parseChallenges('Bearer realm="http://127.0.0.1:5000/oauth2/token",service="127.0.0.1:5000",scope="repository:app:pull"');
    const expected = { kind: 'bearer', realm: 'http://127.0.0.1:5000/oauth2/token', service: '127.0.0.1:5000', scopes: ['repository:app:pull'] };
    assert.deepEqual(answerChallenge(challenges, credentials), expected);
    assert.deepEqual(answerChallenge(challenges, undefined), expected, 'anonymous token requests are allowed');
  });

  it('Bearer without a scope uses the scope the client wants; several scopes are kept', () => {
    assert.deepEqual(answerChallenge(parseChallenges('Bearer realm="https://t/token"'), undefined, pullScope('a/b')), {
      kind: 'bearer',
      realm: 'https://t/token',
      service: undefined,
      scopes: ['repository:a/b:pull'],
    });
    const two = answerChallenge(parseChallenges('Bearer realm="https://t/token",scope="repository:a:pull repository:b:pull"'), undefined);
    assert.deepEqual(two.kind === 'bearer' && two.scopes, ['repository:a:pull', 'repository:b:pull']);
  });

  it('prefers Bearer over Basic when both are offered', () => {
    assert.equal(answerChallenge(parseChallenges('Basic realm="x", Bearer realm="https://t/token"'), credentials).kind, 'bearer');
  });

  it('Basic: answers with the credentials, refuses without them', () => {
    assert.deepEqual(answerChallenge(parseChallenges('Basic realm="r"'), credentials), { kind: 'basic' });
    assert.deepEqual(answerChallenge(parseChallenges('Basic realm="r"'), undefined), { kind: 'refuse', reason: 'the source registry requires a user name and password' });
  });

  it('refuses what it cannot answer, saying why', () => {
    const reason = (header: string | undefined) => {
      const answer = answerChallenge(parseChallenges(header), credentials);
      return answer.kind === 'refuse' ? answer.reason : answer.kind;
    };
    assert.match(reason(undefined), /without a WWW-Authenticate challenge/);
    assert.match(reason('Negotiate abc'), /unsupported authentication scheme "negotiate"/);
    assert.match(reason('Bearer service="s"'), /names no token endpoint/);
    assert.match(reason('Bearer realm="file:///etc/passwd"'), /not an http\(s\) URL/);
    assert.match(reason('Bearer realm="not a url"'), /not an http\(s\) URL/);
  });
});

describe('token requests and responses', () => {
  it('builds realm?service=&scope=&scope=, keeping the realm query', () => {
    const url = tokenRequestUrl({ realm: 'https://auth.example/token?client=x', service: 'reg', scopes: ['repository:a:pull', 'repository:b:pull'] });
    assert.equal(url.toString(), 'https://auth.example/token?client=x&service=reg&scope=repository%3Aa%3Apull&scope=repository%3Ab%3Apull');
    assert.equal(tokenRequestUrl({ realm: 'http://h/t', service: undefined, scopes: [] }).toString(), 'http://h/t');
  });

  it('takes token or access_token, with expires_in or the default 60 s', () => {
    assert.deepEqual(readTokenResponse({ token: 't1', expires_in: 300 }), { token: 't1', expiresInSeconds: 300 });
    assert.deepEqual(readTokenResponse({ access_token: 't2' }), { token: 't2', expiresInSeconds: 60 });
    assert.deepEqual(readTokenResponse({ token: '', access_token: 't3', expires_in: -5 }), { token: 't3', expiresInSeconds: 60 });
    assert.throws(() => readTokenResponse({}), /without a token/);
    assert.throws(() => readTokenResponse('nope'), /without a token/);
  });

  it('uses a token until shortly before it expires', () => {
    assert.equal(tokenUsableUntil(1_000, 300), 1_000 + 290_000);
    assert.equal(tokenUsableUntil(0, 60), 54_000);
    assert.equal(tokenUsableUntil(0, 5), 4_500);
  });

  it('knows the repository of a /v2/ path', () => {
    assert.equal(repositoryOfPath('/v2/library/ubuntu/manifests/22.04'), 'library/ubuntu');
    assert.equal(repositoryOfPath('/v2/a/blobs/sha256:00'), 'a');
    assert.equal(repositoryOfPath('/v2/'), undefined);
  });
});
