import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryError, type ErrorCode } from '../../src/oci/errors.ts';
import {
  formatImageReference,
  manifestReferenceOf,
  parseImageReference,
  type ImageReference,
} from '../../src/oci/reference.ts';

const digest = `sha256:${'ab'.repeat(32)}`;

function assertCode(value: string, code: ErrorCode): void {
  assert.throws(() => parseImageReference(value), (error: unknown) => {
    assert.ok(error instanceof RegistryError, value);
    assert.equal(error.code, code, value);
    assert.ok(error.message.includes(value), `message names the reference: ${error.message}`);
    return true;
  });
}

describe('parseImageReference', () => {
  const cases: [string, ImageReference][] = [
    ['repo', { host: null, repository: 'repo', tag: null, digest: null }],
    ['repo:1.0', { host: null, repository: 'repo', tag: '1.0', digest: null }],
    ['library/ubuntu:22.04', { host: null, repository: 'library/ubuntu', tag: '22.04', digest: null }],
    ['localhost/app', { host: 'localhost', repository: 'app', tag: null, digest: null }],
    ['localhost:5000/a/b:tag', { host: 'localhost:5000', repository: 'a/b', tag: 'tag', digest: null }],
    [`localhost:5000/a/b:tag@${digest}`, { host: 'localhost:5000', repository: 'a/b', tag: 'tag', digest }],
    [`localhost:5000/a/b@${digest}`, { host: 'localhost:5000', repository: 'a/b', tag: null, digest }],
    ['contoso.localhost:5000/hello:1', { host: 'contoso.localhost:5000', repository: 'hello', tag: '1', digest: null }],
    ['mcr.microsoft.com/dotnet/sdk:8.0', { host: 'mcr.microsoft.com', repository: 'dotnet/sdk', tag: '8.0', digest: null }],
    ['127.0.0.1:5000/x', { host: '127.0.0.1:5000', repository: 'x', tag: null, digest: null }],
    ['[::1]:5000/x:y', { host: '[::1]:5000', repository: 'x', tag: 'y', digest: null }],
    ['Registry.Example.com/x', { host: 'Registry.Example.com', repository: 'x', tag: null, digest: null }],
    ['team/app:v2', { host: null, repository: 'team/app', tag: 'v2', digest: null }],
    ['localhost:5000', { host: null, repository: 'localhost', tag: '5000', digest: null }],
  ];

  for (const [value, expected] of cases) {
    it(`parses ${value} and formats it back`, () => {
      const parsed = parseImageReference(value);
      assert.deepEqual(parsed, expected);
      assert.equal(formatImageReference(parsed), value);
    });
  }

  it('rejects bad repository names with NAME_INVALID', () => {
    for (const value of ['', 'UPPER', 'localhost:5000/', 'localhost:5000/A/b', 'host.io/../etc', 'a//b', 'x/', ':tag']) {
      assertCode(value, 'NAME_INVALID');
    }
  });

  it('rejects bad hosts with NAME_INVALID', () => {
    for (const value of ['bad_host.io/x', 'host.io:port/x', '-host.io/x', 'a..b/x', '[zz]:5000/x']) {
      assertCode(value, 'NAME_INVALID');
    }
  });

  it('rejects bad tags with MANIFEST_INVALID and bad digests with DIGEST_INVALID', () => {
    assertCode('repo:', 'MANIFEST_INVALID');
    assertCode('repo:-x', 'MANIFEST_INVALID');
    assertCode(`repo:${'t'.repeat(129)}`, 'MANIFEST_INVALID');
    assertCode('repo@sha256:abc', 'DIGEST_INVALID');
    assertCode('repo@', 'DIGEST_INVALID');
    assertCode(`repo@${digest}@${digest}`, 'DIGEST_INVALID');
  });
});

describe('manifestReferenceOf', () => {
  it('prefers the digest, then the tag, then latest', () => {
    assert.equal(manifestReferenceOf(parseImageReference(`a:b@${digest}`)), digest);
    assert.equal(manifestReferenceOf(parseImageReference('a:b')), 'b');
    assert.equal(manifestReferenceOf(parseImageReference('a')), 'latest');
  });
});
