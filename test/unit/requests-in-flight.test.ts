/**
 * The count of requests a server is answering, which decides whether a commit may sync on the
 * event loop's thread: a request counts from its arrival until its response ends or its client
 * goes away.
 */
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { RequestsInFlight } from '../../src/server.ts';
import { settle } from '../helpers/promises.ts';

describe('RequestsInFlight', () => {
  it('counts requests until their responses end or their clients go away', async () => {
    const held: ServerResponse[] = [];
    const arrived: (() => void)[] = [];
    const server = createServer((_request: IncomingMessage, response: ServerResponse) => {
      held.push(response);
      arrived.shift()?.();
    });
    const requests = new RequestsInFlight();
    requests.track(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const send = () => {
      const reached = new Promise<void>((resolve) => arrived.push(resolve));
      const sent = request({ port, host: '127.0.0.1', path: '/', agent: false });
      const answered = new Promise<number | undefined>((resolve) => {
        sent.on('response', (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode));
        });
        sent.on('error', () => resolve(undefined));
      });
      sent.end();
      return { sent, reached, answered };
    };
    try {
      assert.equal(requests.count, 0);
      const first = send();
      await first.reached;
      assert.equal(requests.count, 1);
      const second = send();
      await second.reached;
      assert.equal(requests.count, 2);

      held[0]!.end('done');
      assert.equal(await first.answered, 200);
      assert.equal(requests.count, 1, 'an answered request no longer counts');

      second.sent.destroy();
      await second.answered;
      await settle();
      assert.equal(requests.count, 0, 'nor does one whose client went away');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
