/**
 * Builds a real Berth in process on a temp data dir and a random loopback port; closes it after.
 * The installation owner is bootstrapped with a known password, and `request` sends the owner's
 * Basic credentials unless told otherwise.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { loadConfig, type ConfigInput } from '../src/config/config.ts';
import { basicAuthorization } from '../src/oauth/credentials.ts';
import { startBerth, type Berth } from '../src/server.ts';
import { rawRequest, type RawRequestInit } from './helpers/http-request.ts';

/** The installation owner of every test server. */
export const OWNER = { username: 'owner', password: 'owner-test-password-7f3a' } as const;

/** Who a test request is from: nobody, a user name and password (Basic), or an access token (Bearer). */
export type TestAuth = 'none' | { username: string; password: string } | { bearer: string };

export interface TestRequestInit extends RawRequestInit {
  /** Default: the owner's Basic credentials. An explicit `authorization` header wins over it. */
  auth?: TestAuth;
}

export interface TestBerth {
  berth: Berth;
  url: string;
  dataDir: string;
  /** A request to the server; `host` sets the Host header to reach another registry. */
  request(pathname: string, init?: TestRequestInit): Promise<Response>;
  close(): Promise<void>;
}

export interface TestBerthOptions {
  /** Captures the server's log (default: a warn-level log on stdout). */
  logger?: Logger;
}

export function authorizationOf(auth: TestAuth): string | undefined {
  if (auth === 'none') return undefined;
  if ('bearer' in auth) return `Bearer ${auth.bearer}`;
  return basicAuthorization(auth.username, auth.password);
}

export async function startTestBerth(overrides: Partial<ConfigInput> = {}, options: TestBerthOptions = {}): Promise<TestBerth> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'berth-test-'));
  const config = loadConfig({ listen: '127.0.0.1:0', data: dataDir, logLevel: 'warn', ...overrides }, {});
  const berth = await startBerth(config, { owner: OWNER, logger: options.logger });
  const url = berth.url;
  return {
    berth,
    url,
    dataDir,
    request(pathname, init = {}) {
      const { auth = OWNER, ...rest } = init;
      const headers = { ...rest.headers };
      const authorization = authorizationOf(auth);
      if (authorization !== undefined && !Object.keys(headers).some((name) => name.toLowerCase() === 'authorization')) {
        headers.authorization = authorization;
      }
      return rawRequest(url, pathname, { ...rest, headers });
    },
    async close() {
      await berth.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
