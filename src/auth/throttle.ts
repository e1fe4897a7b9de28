/**
 * Failed-login throttling per (source address, user name): `maxFailures` failures within
 * `windowSeconds` lock that pair out for `lockoutSeconds`. Keyed by both, so one client's
 * guessing neither locks the user out everywhere nor lets it try every user. In memory, per
 * process, bounded in size.
 */

export interface ThrottleLimits {
  maxFailures: number;
  windowSeconds: number;
  lockoutSeconds: number;
}

interface Entry {
  /** Times of recent failures (ms), oldest first. */
  failures: number[];
  lockedUntil: number;
}

const maxEntries = 100_000;
/** Longer user names are cut for the key; they cannot be real names anyway. */
const maxKeyUsernameLength = 256;

export class LoginThrottle {
  readonly #entries = new Map<string, Entry>();
  readonly #limits: ThrottleLimits;
  readonly #now: () => number;

  constructor(limits: ThrottleLimits, now: () => number = Date.now) {
    this.#limits = limits;
    this.#now = now;
  }

  /** Seconds until the pair may try again; 0 when it may now. */
  retryAfter(address: string, username: string): number {
    const entry = this.#entries.get(key(address, username));
    const wait = entry ? entry.lockedUntil - this.#now() : 0;
    return wait > 0 ? Math.ceil(wait / 1000) : 0;
  }

  recordFailure(address: string, username: string): void {
    const now = this.#now();
    const id = key(address, username);
    let entry = this.#entries.get(id);
    if (!entry) {
      this.#makeRoom(now);
      entry = { failures: [], lockedUntil: 0 };
      this.#entries.set(id, entry);
    }
    const windowStart = now - this.#limits.windowSeconds * 1000;
    entry.failures = entry.failures.filter((time) => time > windowStart);
    entry.failures.push(now);
    if (entry.failures.length >= this.#limits.maxFailures) {
      entry.lockedUntil = now + this.#limits.lockoutSeconds * 1000;
      entry.failures = [];
    }
  }

  recordSuccess(address: string, username: string): void {
    this.#entries.delete(key(address, username));
  }

  /** Drops entries that no longer matter; if none, the oldest. */
  #makeRoom(now: number): void {
    if (this.#entries.size < maxEntries) return;
    const windowStart = now - this.#limits.windowSeconds * 1000;
    for (const [id, entry] of this.#entries) {
      if (entry.lockedUntil <= now && entry.failures.every((time) => time <= windowStart)) this.#entries.delete(id);
    }
    if (this.#entries.size >= maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
  }
}

function key(address: string, username: string): string {
  return `${address}\n${username.slice(0, maxKeyUsernameLength)}`;
}
