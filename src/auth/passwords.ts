/**
 * Human-chosen passwords: argon2id (OWASP's minimum parameters: 19 MiB, 2 passes, 1 lane),
 * computed off the event loop by `@node-rs/argon2`.
 */
import { hash, verify, type Algorithm, type Options } from '@node-rs/argon2';

/** `Algorithm.Argon2id`; the enum is type-only in the package's declarations. */
const argon2id = 2 as Algorithm;

const options: Options = { algorithm: argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export const minPasswordLength = 8;
export const maxPasswordLength = 256;

export async function hashPassword(password: string): Promise<string> {
  return await hash(password, options);
}

/** False for a wrong password and for a stored hash that cannot be read. */
export async function verifyPassword(storedHash: string, password: string): Promise<boolean> {
  try {
    return await verify(storedHash, password);
  } catch {
    return false;
  }
}

let decoy: Promise<string> | undefined;

/**
 * Spends the time of one verification on a password that cannot match, so that an unknown
 * user name answers no faster than a wrong password.
 */
export async function verifyDecoy(password: string): Promise<void> {
  decoy ??= hash('berth decoy password', options);
  await verifyPassword(await decoy, password);
}
