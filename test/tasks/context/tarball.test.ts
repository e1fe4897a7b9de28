import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ContextError } from '../../../src/tasks/context/context-source.ts';
import { DefaultContextFetcher } from '../../../src/tasks/context/fetcher.ts';
import { UploadedSourceStore } from '../../../src/tasks/context/uploads.ts';
import { closedPort } from './closed-port.ts';
import { makeFolder, packFolder, rawTarGz } from './archives.ts';

const MIB = 1024 * 1024;

async function bufferOf(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('tarball contexts', () => {
  let work: string;
  let server: http.Server;
  let base: string;
  let fetcher: DefaultContextFetcher;
  const hanging = new Set<http.ServerResponse>();
  const seenAuthorization: (string | undefined)[] = [];
  let intoCount = 0;

  before(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'berth-tarball-'));
    const folder = await makeFolder({ Dockerfile: 'FROM busybox\n', 'app/run.sh': 'echo hi\n' });
    const files: Record<string, Buffer> = {
      '/context.tar.gz': await bufferOf(packFolder(folder)),
      '/big.tgz': rawTarGz([{ path: 'noise.bin', body: randomBytes(2 * MIB) }]),
    };
    await rm(folder, { recursive: true, force: true });
    server = http.createServer((request, response) => {
      seenAuthorization.push(request.headers.authorization);
      const body = files[request.url ?? ''];
      if (request.url === '/slow.tar.gz') {
        hanging.add(response);
        response.writeHead(200);
        response.write(Buffer.alloc(10));
        return;
      }
      if (body === undefined) {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('no such file');
        return;
      }
      // No content-length: the limit must hold while streaming.
      response.writeHead(200, { 'content-type': 'application/gzip' });
      response.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    fetcher = new DefaultContextFetcher({
      uploads: new UploadedSourceStore(path.join(work, 'sources')),
      maxContextBytes: MIB,
      downloadTimeoutMs: 1500,
    });
  });
  after(async () => {
    for (const response of hanging) response.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(work, { recursive: true, force: true });
  });

  async function fetchInto(location: string): Promise<{ into: string; result: Promise<unknown> }> {
    const into = path.join(work, `run-${++intoCount}`);
    await mkdir(into);
    return { into, result: fetcher.fetch({ location, into, signal: new AbortController().signal }) };
  }

  test('a tarball served over HTTP is downloaded and extracted', async () => {
    const { into, result } = await fetchInto(`${base}/context.tar.gz`);
    assert.deepEqual(await result, { dir: into });
    assert.equal(await readFile(path.join(into, 'app', 'run.sh'), 'utf8'), 'echo hi\n');
  });

  test('credentials in the URL are sent as Basic authorization and never shown', async () => {
    seenAuthorization.length = 0;
    const { into, result } = await fetchInto(`http://reader:pa55@${base.slice('http://'.length)}/context.tar.gz`);
    assert.deepEqual(await result, { dir: into });
    assert.deepEqual(seenAuthorization, [`Basic ${Buffer.from('reader:pa55').toString('base64')}`]);

    const { result: missing } = await fetchInto(`http://reader:pa55@${base.slice('http://'.length)}/gone.tar.gz`);
    await assert.rejects(missing, (error: Error) => !error.message.includes('pa55'));
  });

  test('a missing tarball: the HTTP status in the error', async () => {
    const { result } = await fetchInto(`${base}/missing.tar.gz`);
    await assert.rejects(result, (error: Error) => {
      assert.ok(error instanceof ContextError);
      assert.equal(error.message, `downloading ${base}/missing.tar.gz failed: HTTP 404 Not Found`);
      return true;
    });
  });

  test('a tarball over the limit is refused', async () => {
    const { result } = await fetchInto(`${base}/big.tgz`);
    await assert.rejects(result, (error: Error) => error instanceof ContextError && error.message === 'the build context is over the 1 MiB limit');
  });

  test('an unreachable host and a stalled download fail clearly', async () => {
    const url = `http://127.0.0.1:${closedPort()}/context.tar.gz`;
    const { result: unreachable } = await fetchInto(url);
    await assert.rejects(unreachable, (error: Error) => error instanceof ContextError && error.message === `cannot reach ${url}: ECONNREFUSED`);

    const started = Date.now();
    const { result: stalled } = await fetchInto(`${base}/slow.tar.gz`);
    await assert.rejects(stalled, (error: Error) => error instanceof ContextError && /timed out after 1.5 s$/.test(error.message));
    assert.ok(Date.now() - started < 10_000);
  });
});
