/**
 * The count of a server's open client connections, which decides whether a commit may sync on the
 * event loop's thread: a connection counts from its accept until it closes, whichever side
 * closes it, busy or idle.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { OpenConnections } from '../../src/server.ts';
import { settle } from '../helpers/promises.ts';

describe('OpenConnections', () => {
  it('counts connections from their accept until they close', async () => {
    const server = createServer((_request: IncomingMessage, response: ServerResponse) => response.end('ok'));
    server.keepAliveTimeout = 60_000;
    const connections = new OpenConnections();
    connections.track(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const open = () =>
      new Promise<Socket>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => resolve(socket));
        socket.on('error', reject);
      });
    /** One keep-alive request on `socket`, resolved once its whole response has arrived. */
    const ask = (socket: Socket) =>
      new Promise<string>((resolve) => {
        let received = '';
        const onData = (chunk: Buffer) => {
          received += chunk.toString();
          if (received.endsWith('ok')) {
            socket.off('data', onData);
            resolve(received);
          }
        };
        socket.on('data', onData);
        socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
      });
    try {
      assert.equal(connections.count, 0);
      const first = await open();
      const second = await open();
      await settle();
      assert.equal(connections.count, 2, 'idle connections count too');
      assert.match(await ask(first), /^HTTP\/1.1 200/);
      assert.equal(connections.count, 2, 'a kept-alive connection stays counted after its response');

      second.destroy();
      await settle();
      assert.equal(connections.count, 1, 'a connection the client closed no longer counts');

      server.closeAllConnections();
      await settle();
      assert.equal(connections.count, 0, 'nor does one the server closed');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
