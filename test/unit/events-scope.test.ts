import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scopeMatches, scopeProblem } from '../../src/events/scope.ts';

describe('webhook scopes (az acr webhook create --scope)', () => {
  it("'' matches every repository and tag, and events without a tag", () => {
    assert.equal(scopeMatches('', 'hello-world', 'v1'), true);
    assert.equal(scopeMatches('', 'a/b/c', undefined), true);
  });

  it("'foo:bar' matches that tag only", () => {
    assert.equal(scopeMatches('foo:bar', 'foo', 'bar'), true);
    assert.equal(scopeMatches('foo:bar', 'foo', 'baz'), false);
    assert.equal(scopeMatches('foo:bar', 'foobar', 'bar'), false);
    assert.equal(scopeMatches('foo:bar', 'foo', undefined), false);
  });

  it("'foo' is 'foo:latest'", () => {
    assert.equal(scopeMatches('foo', 'foo', 'latest'), true);
    assert.equal(scopeMatches('foo', 'foo', 'v1'), false);
  });

  it("'foo:*' matches every tag of foo, and foo's events without a tag", () => {
    assert.equal(scopeMatches('foo:*', 'foo', 'v1'), true);
    assert.equal(scopeMatches('foo:*', 'foo', undefined), true);
    assert.equal(scopeMatches('foo:*', 'foo/bar', 'v1'), false);
  });

  it('takes * as a wildcard in either part, and every other character literally', () => {
    assert.equal(scopeMatches('samples/*:v*', 'samples/web/api', 'v2.1'), true);
    assert.equal(scopeMatches('samples/*:v*', 'samples/web', 'latest'), false);
    assert.equal(scopeMatches('*:*', 'anything', 'at-all'), true);
    assert.equal(scopeMatches('a.b:v1.0', 'axb', 'v1.0'), false);
    assert.equal(scopeMatches('a.b:v1.0', 'a.b', 'v1x0'), false);
  });

  it('explains invalid scopes', () => {
    for (const scope of ['', 'foo', 'foo:bar', 'a/b:*', '*', 'samples/*:v*']) assert.equal(scopeProblem(scope), undefined, scope);
    assert.match(scopeProblem('a:b:c') ?? '', /more than one ":"/);
    assert.match(scopeProblem('Foo:bar') ?? '', /not a repository name/);
    assert.match(scopeProblem('foo//bar') ?? '', /not a repository name/);
    assert.match(scopeProblem('foo:b/r') ?? '', /not a tag/);
    assert.match(scopeProblem('foo:') ?? '', /not a tag/);
  });
});
