import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { BufferPool } from '../../src/registry/buffer-pool.ts';
import { sendBlobRange } from '../../src/registry/send-blob.ts';
import type { BlobReader } from '../../src/store/blob-store.ts';

/** A reader over bytes in memory that records which buffers it filled. */
function memoryReader(content: Buffer, recordedSize = content.length): BlobReader & { closed: boolean } {
  return {
    size: recordedSize,
    closed: false,
    async readInto(buffer, position) {
      const bytes = content.subarray(position, position + buffer.length);
      bytes.copy(buffer);
      return bytes.length;
    },
    async close() {
      this.closed = true;
    },
  };
}

interface Sent {
  status: number | undefined;
  body: Buffer;
  error: Error | undefined;
}

describe('sendBlobRange: blob bytes through pooled buffers', () => {
  let server: Server;
  let port: number;
  let handler: (res: ServerResponse) => Promise<void>;
  let outcome: Promise<unknown>;

  before(async () => {
    server = createServer((_req: IncomingMessage, res: ServerResponse) => {
      outcome = handler(res).then(
        () => undefined,
        (error: unknown) => {
          res.destroy();
          return error;
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  function fetchBody(options: { abortAfterBytes?: number } = {}): Promise<Sent> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let received = 0;
      const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        res.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          received += chunk.length;
          if (options.abortAfterBytes !== undefined && received >= options.abortAfterBytes) req.destroy();
        });
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks), error: undefined }));
        res.on('error', (error) => resolve({ status: res.statusCode, body: Buffer.concat(chunks), error }));
      });
      req.on('error', (error) => resolve({ status: undefined, body: Buffer.concat(chunks), error }));
      req.end();
    });
  }

  it('sends a blob spanning many buffers byte for byte, and returns every buffer to the pool', async () => {
    const content = randomBytes(5 * 64 * 1024 + 123);
    const pool = new BufferPool({ bufferBytes: 64 * 1024, maxIdle: 8, keepWhenQuiet: 8, quietMs: 1000 });
    handler = async (res) => {
      res.writeHead(200, { 'content-length': content.length });
      await sendBlobRange(res, memoryReader(content), 0, content.length - 1, pool);
    };
    const sent = await fetchBody();
    assert.equal(await outcome, undefined);
    assert.equal(sent.status, 200);
    assert.ok(sent.body.equals(content));
    assert.equal(pool.idle, 2, 'the two buffers of the stream are idle again');
  });

  it('sends an inclusive range that starts and ends inside buffers', async () => {
    const content = randomBytes(300_000);
    const pool = new BufferPool({ bufferBytes: 64 * 1024, maxIdle: 8, keepWhenQuiet: 8, quietMs: 1000 });
    handler = async (res) => {
      res.writeHead(206, { 'content-length': 200_001 - 1_000 + 1 });
      await sendBlobRange(res, memoryReader(content), 1_000, 200_001, pool);
    };
    const sent = await fetchBody();
    assert.equal(sent.status, 206);
    assert.ok(sent.body.equals(content.subarray(1_000, 200_002)));
  });

  it('sends an empty blob as an empty body', async () => {
    const pool = new BufferPool({ bufferBytes: 1024, maxIdle: 8, keepWhenQuiet: 8, quietMs: 1000 });
    handler = async (res) => {
      res.writeHead(200, { 'content-length': 0 });
      await sendBlobRange(res, memoryReader(Buffer.alloc(0)), 0, -1, pool);
    };
    const sent = await fetchBody();
    assert.equal(sent.status, 200);
    assert.equal(sent.body.length, 0);
  });

  it('stops when the client hangs up, without reusing a buffer the socket may still hold', async () => {
    const content = randomBytes(64 * 1024 * 1024);
    const pool = new BufferPool({ bufferBytes: 256 * 1024, maxIdle: 8, keepWhenQuiet: 8, quietMs: 1000 });
    handler = async (res) => {
      res.writeHead(200, { 'content-length': content.length });
      await sendBlobRange(res, memoryReader(content), 0, content.length - 1, pool);
    };
    const sent = await fetchBody({ abortAfterBytes: 1024 * 1024 });
    assert.ok(sent.body.length < content.length);
    const error = await outcome;
    assert.ok(error instanceof Error, 'the sender reports the hang-up');
    assert.ok(pool.idle <= 1, `at most the buffer being read into is returned (idle: ${pool.idle})`);
  });

  it('lets idle buffers go once nothing was taken for a while, keeping a few', async () => {
    const pool = new BufferPool({ bufferBytes: 1024, maxIdle: 8, keepWhenQuiet: 2, quietMs: 50 });
    const buffers = Array.from({ length: 6 }, () => pool.take());
    for (const buffer of buffers) pool.give(buffer);
    assert.equal(pool.idle, 6);
    pool.give(Buffer.alloc(512));
    assert.equal(pool.idle, 6, 'a buffer of another size is not kept');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(pool.idle, 2);
    assert.equal(buffers.filter((buffer) => buffer.length === 0).length, 4, 'the buffers let go are freed at once');
    assert.equal(pool.take().length, 1024);
    const full = new BufferPool({ bufferBytes: 1024, maxIdle: 1, keepWhenQuiet: 1, quietMs: 50 });
    const [kept, extra] = [full.take(), full.take()];
    full.give(kept);
    full.give(extra);
    assert.equal(extra.length, 0, 'a buffer given back to a full pool is freed');
    assert.equal(kept.length, 1024);
  });

  it('cuts the connection when the stored blob is shorter than recorded', async () => {
    const content = randomBytes(100_000);
    const pool = new BufferPool({ bufferBytes: 16 * 1024, maxIdle: 8, keepWhenQuiet: 8, quietMs: 1000 });
    handler = async (res) => {
      res.writeHead(200, { 'content-length': 150_000 });
      await sendBlobRange(res, memoryReader(content, 150_000), 0, 149_999, pool);
    };
    const sent = await fetchBody();
    const error = await outcome;
    assert.match(String(error), /blob ends at byte 100000/);
    assert.ok(sent.error, 'the client sees a broken response, never a complete-looking one');
    assert.ok(sent.body.length <= 100_000);
  });
});
