import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  createDigester,
  digestOf,
  finishDigest,
  isDigestAlgorithm,
  looksLikeDigest,
  parseDigest,
} from '../../src/oci/digest.ts';
import { RegistryError } from '../../src/oci/errors.ts';

const sha256 = `sha256:${'a'.repeat(64)}`;
const sha512 = `sha512:${'0123456789abcdef'.repeat(8)}`;

function assertDigestInvalid(value: string): void {
  assert.throws(() => parseDigest(value), (error: unknown) => {
    assert.ok(error instanceof RegistryError, `not a RegistryError for ${value}`);
    assert.equal(error.code, 'DIGEST_INVALID', value);
    return true;
  });
}

describe('parseDigest', () => {
  it('accepts sha256 and sha512 digests', () => {
    assert.deepEqual(parseDigest(sha256), { algorithm: 'sha256', encoded: 'a'.repeat(64), digest: sha256 });
    assert.deepEqual(parseDigest(sha512), { algorithm: 'sha512', encoded: '0123456789abcdef'.repeat(8), digest: sha512 });
  });

  it('rejects upper-case hex', () => {
    assertDigestInvalid(`sha256:${'A'.repeat(64)}`);
    assertDigestInvalid(`sha512:${'0123456789ABCDEF'.repeat(8)}`);
  });

  it('rejects the wrong length for the algorithm', () => {
    assertDigestInvalid(`sha256:${'a'.repeat(63)}`);
    assertDigestInvalid(`sha256:${'a'.repeat(65)}`);
    assertDigestInvalid(`sha256:${'a'.repeat(128)}`);
    assertDigestInvalid(`sha512:${'a'.repeat(64)}`);
  });

  it('rejects non-hex, malformed and unknown-algorithm digests', () => {
    for (const value of [
      '',
      'sha256',
      'sha256:',
      `:${'a'.repeat(64)}`,
      `sha256:${'g'.repeat(64)}`,
      `SHA256:${'a'.repeat(64)}`,
      `sha256:${'a'.repeat(63)} `,
      `sha256:../${'a'.repeat(61)}`,
      `md5:${'a'.repeat(32)}`,
      `sha384:${'a'.repeat(96)}`,
      `blake3:${'a'.repeat(64)}`,
    ]) {
      assertDigestInvalid(value);
    }
  });
});

describe('digest helpers', () => {
  it('computes digests of bytes and strings with either algorithm', () => {
    assert.equal(digestOf(''), 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    assert.equal(digestOf(Buffer.from('{}')), 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
    assert.equal(digestOf('abc', 'sha512'), `sha512:${createHash('sha512').update('abc').digest('hex')}`);
    assert.doesNotThrow(() => parseDigest(digestOf('x', 'sha512')));
  });

  it('hashes incrementally to the same digest', () => {
    const hash = createDigester('sha512');
    hash.update('hello ');
    hash.update('world');
    assert.equal(finishDigest(hash, 'sha512'), digestOf('hello world', 'sha512'));
  });

  it('tells digests from tags and known algorithms from others', () => {
    assert.equal(looksLikeDigest(sha256), true);
    assert.equal(looksLikeDigest('v1.2.3'), false);
    assert.equal(isDigestAlgorithm('sha256'), true);
    assert.equal(isDigestAlgorithm('sha512'), true);
    assert.equal(isDigestAlgorithm('md5'), false);
  });
});
