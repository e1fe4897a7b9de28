/** Upload sessions with and without bytes survive a restart; finished ones stay finished. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.ts';
import { basicAuthorization } from '../../src/oauth/credentials.ts';
import { startBerth, type Berth } from '../../src/server.ts';
import { OWNER } from '../helper.ts';
import { rawRequest } from '../helpers/http-request.ts';
import { assertError, randomBlob } from '../helpers/oci-http.ts';

describe('upload sessions across a restart', () => {
  let dataDir: string;
  let berth: Berth | undefined;
  const authorization = basicAuthorization(OWNER.username, OWNER.password);

  async function start(): Promise<Berth> {
    berth = await startBerth(loadConfig({ listen: '127.0.0.1:0', data: dataDir, logLevel: 'warn' }, {}), { owner: OWNER });
    return berth;
  }

  function request(target: Berth, pathname: string, init: { method?: string; body?: Buffer } = {}): Promise<Response> {
    return rawRequest(target.url, pathname, { ...init, headers: { authorization } });
  }

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'berth-sessions-'));
  });
  after(async () => {
    await berth?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('sessions with and without bytes carry on after a restart; finished ones stay finished', async () => {
    const first = await start();
    const open = async () => (await request(first, '/v2/restart/app/blobs/uploads/', { method: 'POST' })).headers.get('location')!;
    const empty = await open();
    const partial = await open();
    const finished = await open();
    const big = randomBlob(80_000);
    const small = randomBlob(300);
    assert.equal((await request(first, partial, { method: 'PATCH', body: big.data.subarray(0, 30_000) })).status, 202);
    assert.equal((await request(first, `${finished}?digest=${small.digest}`, { method: 'PUT', body: small.data })).status, 201);
    await first.close();
    berth = undefined;

    const second = await start();
    assert.equal((await request(second, empty)).headers.get('range'), '0-0');
    assert.equal((await request(second, partial)).headers.get('range'), '0-29999');
    await assertError(await request(second, finished), 404, 'BLOB_UPLOAD_UNKNOWN');
    const other = randomBlob(700);
    assert.equal((await request(second, `${empty}?digest=${other.digest}`, { method: 'PUT', body: other.data })).status, 201);
    assert.equal((await request(second, `${partial}?digest=${big.digest}`, { method: 'PUT', body: big.data.subarray(30_000) })).status, 201);
    for (const blob of [big, small, other]) {
      const get = await request(second, `/v2/restart/app/blobs/${blob.digest}`);
      assert.deepEqual(Buffer.from(await get.arrayBuffer()), blob.data);
    }
  });
});
