/** An auth stack on a fresh SQLite metadata store in a temp dir, with a clock the test moves. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuth, type Auth, type AuthOptions } from '../../src/auth/index.ts';
import { openMetaStore, type MetaStore } from '../../src/meta/index.ts';

export interface AuthFixture extends Auth {
  meta: MetaStore;
  dir: string;
  secretKeyFile: string;
  clock: { now: number; advance(seconds: number): void };
  /** Another auth stack on the same store and secret (another node, or a restart). */
  another(overrides?: Partial<AuthOptions>): Promise<Auth>;
  close(): Promise<void>;
}

export const throttle = { maxFailures: 5, windowSeconds: 60, lockoutSeconds: 30 };

export async function authFixture(overrides: Partial<AuthOptions> = {}): Promise<AuthFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-auth-'));
  const meta = await openMetaStore({ url: `sqlite:${join(dir, 'meta.db')}` });
  const clock = {
    now: Date.now(),
    advance(seconds: number) {
      clock.now += seconds * 1000;
    },
  };
  const secretKeyFile = join(dir, 'secret.key');
  const options: AuthOptions = { meta, secretKeyFile, throttle, now: () => clock.now, ...overrides };
  const auth = await createAuth(options);
  return {
    ...auth,
    meta,
    dir,
    secretKeyFile,
    clock,
    another: (more = {}) => createAuth({ ...options, ...more }),
    async close() {
      await meta.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
