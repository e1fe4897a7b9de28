import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryError, type ErrorCode } from '../../src/oci/errors.ts';
import {
  assertRepositoryName,
  assertTag,
  isValidRepositoryName,
  isValidTag,
  parseManifestLookup,
  parseManifestReference,
  validRegistryName,
} from '../../src/oci/names.ts';

function assertCode(fn: () => unknown, code: ErrorCode, label: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof RegistryError, label);
    assert.equal(error.code, code, label);
    return true;
  });
}

describe('repository names', () => {
  const valid = [
    'a',
    'hello-world',
    'library/ubuntu',
    'contoso/team/app',
    'a.b',
    'a_b',
    'a__b',
    'a-b',
    'a---b',
    'samples/nginx.v2_x--y',
    '0',
    '9/8/7',
  ];
  const invalid = [
    '',
    'A',
    'Library/ubuntu',
    'a..b',
    '..',
    '.',
    '../x',
    'a/../b',
    'a/./b',
    '%2e%2e',
    '%2e%2e/x',
    'a/%2e%2e/b',
    '/a',
    'a/',
    'a//b',
    '.a',
    '-a',
    '_a',
    'a.',
    'a-',
    'a_',
    'a___b',
    'a.-b',
    'a._b',
    'a b',
    'a:b',
    'a@b',
    'a\\b',
    'a\nb',
    'ünïcode',
  ];

  for (const name of valid) {
    it(`accepts ${JSON.stringify(name)}`, () => {
      assert.equal(isValidRepositoryName(name), true);
      assert.doesNotThrow(() => assertRepositoryName(name));
    });
  }

  for (const name of invalid) {
    it(`rejects ${JSON.stringify(name)} with NAME_INVALID`, () => {
      assert.equal(isValidRepositoryName(name), false);
      assertCode(() => assertRepositoryName(name), 'NAME_INVALID', name);
    });
  }

  it('accepts 255 characters and rejects 256', () => {
    const component = 'a'.repeat(63);
    const name255 = [component, component, component, component].join('/');
    assert.equal(name255.length, 255);
    assert.equal(isValidRepositoryName(name255), true);
    const name256 = `${name255}b`;
    assert.equal(isValidRepositoryName(name256), false);
    assertCode(() => assertRepositoryName(name256), 'NAME_INVALID', '256 chars');
    assert.equal(isValidRepositoryName('a'.repeat(256)), false);
  });

  it('answers quickly for long near-miss names', () => {
    const started = performance.now();
    for (const name of ['a-'.repeat(127), `${'a_'.repeat(120)}_`, `${'a.'.repeat(126)}-`]) {
      assert.equal(isValidRepositoryName(name), false);
    }
    assert.ok(performance.now() - started < 100);
  });
});

describe('tags', () => {
  it('accepts tags of the spec grammar', () => {
    for (const tag of ['latest', 'v1', 'v1.2.3', '1.0-rc.1', '_private', 'A_b-C.d', '0', 'sha256-abc.sig']) {
      assert.equal(isValidTag(tag), true, tag);
      assert.doesNotThrow(() => assertTag(tag));
    }
  });

  it('accepts 128 characters and rejects 129', () => {
    assert.equal(isValidTag('t'.repeat(128)), true);
    assert.equal(isValidTag('t'.repeat(129)), false);
    assertCode(() => assertTag('t'.repeat(129)), 'MANIFEST_INVALID', '129 chars');
  });

  it('rejects malformed tags with MANIFEST_INVALID "invalid tag"', () => {
    for (const tag of ['', '.hidden', '-x', 'a/b', 'a:b', 'a@b', 'a b', '..', 'a+b', 'ü']) {
      assert.equal(isValidTag(tag), false, tag);
      assert.throws(() => assertTag(tag), (error: unknown) => {
        assert.ok(error instanceof RegistryError);
        assert.equal(error.code, 'MANIFEST_INVALID');
        assert.match(error.message, /invalid tag/);
        return true;
      });
    }
  });
});

describe('manifest references in URLs', () => {
  it('tells tags from digests', () => {
    const digest = `sha256:${'c'.repeat(64)}`;
    assert.deepEqual(parseManifestReference('v1.0'), { kind: 'tag', tag: 'v1.0' });
    assert.deepEqual(parseManifestReference(digest), { kind: 'digest', digest });
  });

  it('rejects a bad digest with DIGEST_INVALID and a bad tag with MANIFEST_INVALID', () => {
    assertCode(() => parseManifestReference('sha256:abc'), 'DIGEST_INVALID', 'short digest');
    assertCode(() => parseManifestReference(`sha256:${'C'.repeat(64)}`), 'DIGEST_INVALID', 'upper-case digest');
    assertCode(() => parseManifestReference('..'), 'MANIFEST_INVALID', '..');
    assertCode(() => parseManifestReference('-bad'), 'MANIFEST_INVALID', '-bad');
  });

  it('looks up a reference that cannot be a tag as MANIFEST_UNKNOWN, a bad digest as DIGEST_INVALID', () => {
    const digest = `sha256:${'c'.repeat(64)}`;
    assert.deepEqual(parseManifestLookup('v1.0'), { kind: 'tag', tag: 'v1.0' });
    assert.deepEqual(parseManifestLookup(digest), { kind: 'digest', digest });
    assertCode(() => parseManifestLookup('.INVALID_MANIFEST_NAME'), 'MANIFEST_UNKNOWN', 'leading dot');
    assertCode(() => parseManifestLookup('t'.repeat(129)), 'MANIFEST_UNKNOWN', '129 chars');
    assertCode(() => parseManifestLookup('sha256:abc'), 'DIGEST_INVALID', 'short digest');
  });
});

describe('registry names', () => {
  it('accepts 5 to 50 lower-case alphanumerics', () => {
    for (const name of ['contoso', 'publicregistry', 'baseartifacts', 'abcde', 'a1b2c', 'x'.repeat(50), '12345']) {
      assert.equal(validRegistryName(name), undefined, name);
    }
  });

  it('explains what is wrong with other names', () => {
    for (const name of ['', 'abcd', 'x'.repeat(51), 'Contoso', 'con-toso', 'con.toso', 'con_toso', 'contoso ', 'cöntoso']) {
      const message = validRegistryName(name);
      assert.equal(typeof message, 'string', name);
      assert.match(message as string, /5 to 50 lower-case letters and digits/);
    }
  });
});
