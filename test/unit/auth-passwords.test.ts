/** Password hashing, generated secrets and their keyed hash, the installation secret file, and throttling. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { hashPassword, verifyPassword } from '../../src/auth/passwords.ts';
import { deriveKey, generateSecret, KeyedHash, loadInstallationSecret } from '../../src/auth/secrets.ts';
import { LoginThrottle } from '../../src/auth/throttle.ts';

describe('human passwords', () => {
  it('hash with argon2id and a fresh salt each time', async () => {
    const first = await hashPassword('correct horse battery staple');
    const second = await hashPassword('correct horse battery staple');
    assert.match(first, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.notEqual(first, second);
    assert.equal(await verifyPassword(first, 'correct horse battery staple'), true);
    assert.equal(await verifyPassword(second, 'correct horse battery staple'), true);
    assert.equal(await verifyPassword(first, 'correct horse battery stapler'), false);
    assert.equal(await verifyPassword(first, ''), false);
  });

  it('treat an unreadable stored hash as a mismatch', async () => {
    assert.equal(await verifyPassword('not a hash', 'anything'), false);
  });
});

describe('generated secrets', () => {
  it('are 32 random bytes in base64url', () => {
    const secrets = new Set(Array.from({ length: 100 }, generateSecret));
    assert.equal(secrets.size, 100);
    for (const secret of secrets) {
      assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(Buffer.from(secret, 'base64url').length, 32);
    }
  });

  it('are stored as a keyed HMAC-SHA-256 that depends on the installation key', () => {
    const key = deriveKey(Buffer.alloc(32, 1), 'credential hashes');
    const hash = new KeyedHash(key);
    const secret = generateSecret();
    const stored = hash.hash(secret);
    assert.equal(Buffer.from(stored, 'base64url').length, 32);
    assert.ok(!stored.includes(secret));
    assert.equal(hash.matches(secret, stored), true);
    assert.equal(hash.matches(`${secret}x`, stored), false);
    assert.equal(hash.matches(secret, 'short'), false);
    const otherInstallation = new KeyedHash(deriveKey(Buffer.alloc(32, 2), 'credential hashes'));
    assert.equal(otherInstallation.matches(secret, stored), false);
    const otherPurpose = deriveKey(Buffer.alloc(32, 1), 'signing key seal');
    assert.notDeepEqual(otherPurpose, key);
  });
});

describe('the installation secret file', () => {
  it('is created once with mode 0600 and read back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-secret-'));
    try {
      const file = join(dir, 'nested', 'secret.key');
      const [first, second] = await Promise.all([loadInstallationSecret(file), loadInstallationSecret(file)]);
      assert.deepEqual(first, second);
      assert.equal(first.length, 32);
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      assert.deepEqual(await loadInstallationSecret(file), first);
      assert.equal((await readFile(file, 'utf8')).trim(), first.toString('base64url'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('must hold at least 32 bytes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-secret-'));
    try {
      const file = join(dir, 'secret.key');
      await writeFile(file, 'c2hvcnQ\n');
      await assert.rejects(loadInstallationSecret(file), /shorter than 32 bytes/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('failed-login throttling', () => {
  const limits = { maxFailures: 3, windowSeconds: 60, lockoutSeconds: 30 };

  it('locks a (address, user name) pair out after too many failures within the window', () => {
    let now = 1_000_000;
    const throttle = new LoginThrottle(limits, () => now);
    throttle.recordFailure('10.0.0.1', 'alice');
    throttle.recordFailure('10.0.0.1', 'alice');
    assert.equal(throttle.retryAfter('10.0.0.1', 'alice'), 0);
    throttle.recordFailure('10.0.0.1', 'alice');
    assert.equal(throttle.retryAfter('10.0.0.1', 'alice'), 30);
    // Other pairs are not affected.
    assert.equal(throttle.retryAfter('10.0.0.2', 'alice'), 0);
    assert.equal(throttle.retryAfter('10.0.0.1', 'bob'), 0);
    now += 10_500;
    assert.equal(throttle.retryAfter('10.0.0.1', 'alice'), 20);
    now += 20_000;
    assert.equal(throttle.retryAfter('10.0.0.1', 'alice'), 0);
  });

  it('forgets failures older than the window', () => {
    let now = 0;
    const throttle = new LoginThrottle(limits, () => now);
    throttle.recordFailure('a', 'u');
    throttle.recordFailure('a', 'u');
    now += 61_000;
    throttle.recordFailure('a', 'u');
    assert.equal(throttle.retryAfter('a', 'u'), 0);
    throttle.recordFailure('a', 'u');
    throttle.recordFailure('a', 'u');
    assert.equal(throttle.retryAfter('a', 'u'), 30);
  });

  it('clears the count on success', () => {
    const throttle = new LoginThrottle(limits, () => 0);
    throttle.recordFailure('a', 'u');
    throttle.recordFailure('a', 'u');
    throttle.recordSuccess('a', 'u');
    throttle.recordFailure('a', 'u');
    throttle.recordFailure('a', 'u');
    assert.equal(throttle.retryAfter('a', 'u'), 0);
  });

  it('stays bounded under many distinct pairs', () => {
    const throttle = new LoginThrottle(limits, () => 0);
    for (let i = 0; i < 100_500; i++) throttle.recordFailure(`addr-${i}`, 'u');
    assert.equal(throttle.retryAfter('addr-100499', 'u'), 0);
  });
});
