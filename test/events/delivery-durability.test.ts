/**
 * At-least-once across restarts: an event is delivered even when the server stops before it
 * could be, when it was written while no server ran, and when the server is killed with -9 in
 * the middle of sending it.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.ts';
import { openMetaStore } from '../../src/meta/index.ts';
import { digestOf } from '../../src/oci/digest.ts';
import { basicAuthorization } from '../../src/oauth/credentials.ts';
import { startBerth } from '../../src/server.ts';
import { authorizationOf, OWNER, type TestBerth, type TestRequestInit } from '../helper.ts';
import { startBerth as startBerthProcess } from '../helpers/berth-process.ts';
import { rawRequest } from '../helpers/http-request.ts';
import { pushImage } from '../helpers/oci-http.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

const fastEvents = {
  pollMilliseconds: 50,
  webhooks: { timeoutSeconds: 1, retryBaseSeconds: 0.2, retryMaxSeconds: 0.5, maxAttempts: 50 },
};

/** A Berth in this process on an existing data directory, which `close` keeps. */
async function startOn(dataDir: string): Promise<TestBerth> {
  const config = loadConfig({ listen: '127.0.0.1:0', data: dataDir, logLevel: 'silent', events: fastEvents }, {});
  const berth = await startBerth(config, { owner: OWNER });
  return {
    berth,
    url: berth.url,
    dataDir,
    request(pathname: string, init: TestRequestInit = {}) {
      const { auth = OWNER, ...rest } = init;
      const authorization = authorizationOf(auth);
      return rawRequest(berth.url, pathname, { ...rest, headers: { ...rest.headers, ...(authorization && { authorization }) } });
    },
    close: () => berth.close(),
  };
}

async function mgmt(server: { url: string }, method: string, pathname: string, body: unknown, authorization: string): Promise<number> {
  const response = await rawRequest(server.url, `/mgmt/v1${pathname}`, {
    method,
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', authorization },
  });
  return response.status;
}

describe('webhook events survive restarts (at-least-once)', () => {
  let receiver: WebhookReceiver;
  let dataDir: string;
  before(async () => {
    receiver = await startWebhookReceiver();
    dataDir = await mkdtemp(path.join(tmpdir(), 'berth-events-'));
  });
  after(async () => {
    await receiver.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('delivers after a restart an event whose endpoint was down before it', async () => {
    receiver.setMode('fail', '/restart');
    let server = await startOn(dataDir);
    const owner = authorizationOf(OWNER)!;
    assert.equal(await mgmt(server, 'POST', '/registries', { name: 'contoso' }, owner), 201);
    assert.equal(await mgmt(server, 'POST', '/registries/contoso/webhooks', { name: 'restarthook', serviceUri: `${receiver.url}/restart`, actions: ['push'] }, owner), 201);
    const host = `contoso.localhost:${new URL(server.url).port}`;
    const image = await pushImage(server, 'app', 'v1', undefined, host);
    const [failed] = await receiver.waitFor((requests) => requests.length >= 1, { path: '/restart' });
    await server.close();

    receiver.setMode('ok', '/restart');
    server = await startOn(dataDir);
    try {
      const received = await receiver.waitFor((requests) => requests.some((request) => request.answered === 'ok'), { path: '/restart' });
      const delivered = received.find((request) => request.answered === 'ok')!;
      assert.equal(delivered.body.id, failed?.body.id, 'the same event, redelivered');
      assert.equal(delivered.body.target.digest, image.digest);
    } finally {
      await server.close();
    }
  });

  it('delivers an event the metadata store recorded while no server was running', async () => {
    const meta = await openMetaStore({ url: `sqlite:${path.join(dataDir, 'berth.db')}` });
    const layer = Buffer.from('offline layer');
    const content = Buffer.from(JSON.stringify({ schemaVersion: 2, layers: [digestOf(layer)] }));
    try {
      await meta.linkBlob('contoso', 'offline', digestOf(layer), layer.length);
      await meta.putManifest({
        registry: 'contoso',
        repository: 'offline',
        digest: digestOf(content),
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        artifactType: null,
        subject: null,
        annotations: null,
        content,
        blobs: [digestOf(layer)],
        manifests: [],
        tags: ['offline'],
      });
    } finally {
      await meta.close();
    }
    const server = await startOn(dataDir);
    try {
      const [received] = await receiver.waitFor((requests) => requests.some((request) => request.body.target?.repository === 'offline'), { path: '/restart' }).then((requests) =>
        requests.filter((request) => request.body.target?.repository === 'offline'),
      );
      assert.deepEqual(received?.body.target, {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        size: content.length,
        digest: digestOf(content),
        length: content.length,
        repository: 'offline',
        tag: 'offline',
      });
      assert.equal('request' in (received?.body ?? {}), false, 'no request made this change');
    } finally {
      await server.close();
    }
  });

  it('delivers again an event whose sending was cut short by kill -9', async () => {
    const configFile = path.join(dataDir, 'kill9-config.json');
    // Leases last 2 x timeout + 5 s: a killed node's delivery is taken up 7 s later.
    await writeFile(configFile, JSON.stringify({ events: fastEvents, logLevel: 'warn' }));
    receiver.setMode('hang', '/kill9');
    const berth = await startBerthProcess({ env: { BERTH_CONFIG: configFile } });
    try {
      const owner = basicAuthorization(berth.owner.username, berth.owner.password);
      const host = await berth.createRegistry('contoso');
      assert.equal(await mgmt(berth, 'POST', '/registries/contoso/webhooks', { name: 'killhook', serviceUri: `${receiver.url}/kill9`, actions: ['push'] }, owner), 201);
      const server = { request: (pathname: string, init: TestRequestInit = {}) => rawRequest(berth.url, pathname, { ...init, headers: { ...init.headers, authorization: owner } }) } as TestBerth;
      const image = await pushImage(server, 'app', 'v1', undefined, host);
      const [inFlight] = await receiver.waitFor((requests) => requests.length >= 1, { path: '/kill9' });
      await berth.kill9();

      receiver.setMode('ok', '/kill9');
      await berth.restart();
      const received = await receiver.waitFor((requests) => requests.some((request) => request.answered === 'ok'), { path: '/kill9', timeoutMs: 30_000 });
      const delivered = received.find((request) => request.answered === 'ok')!;
      assert.equal(delivered.body.id, inFlight?.body.id);
      assert.equal(delivered.body.target.digest, image.digest);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- server log ---\n${await berth.logTail()}`, { cause: error });
    } finally {
      await berth.stop();
    }
  });
});
