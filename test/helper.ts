/** Builds a real Berth in process on a temp data dir and a random loopback port; closes it after. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, type ConfigInput } from '../src/config/config.ts';
import { startBerth, type Berth } from '../src/server.ts';
import { rawRequest, type RawRequestInit } from './helpers/http-request.ts';

export type TestRequestInit = RawRequestInit;

export interface TestBerth {
  berth: Berth;
  url: string;
  dataDir: string;
  /** A request to the server; `host` sets the Host header to reach another registry. */
  request(pathname: string, init?: TestRequestInit): Promise<Response>;
  close(): Promise<void>;
}

export async function startTestBerth(overrides: Partial<ConfigInput> = {}): Promise<TestBerth> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'berth-test-'));
  const config = loadConfig({ listen: '127.0.0.1:0', data: dataDir, logLevel: 'warn', ...overrides }, {});
  const berth = await startBerth(config);
  const url = berth.url;
  return {
    berth,
    url,
    dataDir,
    request(pathname, init = {}) {
      return rawRequest(url, pathname, init);
    },
    async close() {
      await berth.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
