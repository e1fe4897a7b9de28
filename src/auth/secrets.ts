/**
 * The installation secret and what is derived from it: the key of the HMAC that stores
 * generated secrets (admin and token passwords, service principal secrets, refresh token ids)
 * and the key that seals signing keys in the database. The secret lives in a file outside the
 * database, so a copy of the database alone reveals neither; every node of an installation
 * needs the same file.
 */
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

const secretBytes = 32;

/** A generated secret: 32 random bytes, base64url (43 characters). */
export function generateSecret(): string {
  return randomBytes(secretBytes).toString('base64url');
}

/**
 * Reads the installation secret, creating the file (mode 0600) with a new random secret on
 * first start. When several processes start at once, the first to create the file wins and the
 * others read it.
 */
export async function loadInstallationSecret(file: string): Promise<Buffer> {
  try {
    return parseSecret(await readFile(file, 'utf8'), file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dirname(file), { recursive: true });
  try {
    await writeFile(file, `${generateSecret()}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return parseSecret(await readFile(file, 'utf8'), file);
}

function parseSecret(text: string, file: string): Buffer {
  const secret = Buffer.from(text.trim(), 'base64url');
  if (secret.length < secretBytes) {
    throw new Error(`the installation secret in ${file} is shorter than ${secretBytes} bytes`);
  }
  return secret;
}

/** A key for one purpose, so no two uses share key material. */
export function deriveKey(secret: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `berth ${purpose}`, 32));
}

/** HMAC-SHA-256 with the installation key: fast, for high-entropy generated secrets only. */
export class KeyedHash {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    this.#key = key;
  }

  hash(value: string): string {
    return createHmac('sha256', this.#key).update(value, 'utf8').digest('base64url');
  }

  /** Timing-safe comparison of `value`'s hash with a stored one. */
  matches(value: string, storedHash: string): boolean {
    const actual = Buffer.from(this.hash(value), 'base64url');
    const expected = Buffer.from(storedHash, 'base64url');
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }
}
