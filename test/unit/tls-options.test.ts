import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tls from 'node:tls';
import { ensureSelfSignedTls, selfSignedNames } from '../../src/tls/self-signed.ts';
import { TLS_MIN_VERSION, TlsReloader, readTlsFiles, tlsServerOptions } from '../../src/tls/tls-options.ts';

let root: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'berth-tls-options-'));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('tlsServerOptions', () => {
  test('carries the certificate and key and sets TLS 1.2 as the minimum', () => {
    assert.equal(TLS_MIN_VERSION, 'TLSv1.2');
    assert.deepEqual(tlsServerOptions({ certPem: 'C', keyPem: 'K' }), {
      cert: 'C',
      key: 'K',
      minVersion: 'TLSv1.2',
    });
  });
});

describe('readTlsFiles', () => {
  test('reads a matching --tls-cert/--tls-key pair', async () => {
    const material = await ensureSelfSignedTls(join(root, 'files'), selfSignedNames('localhost', []));
    assert.deepEqual(await readTlsFiles(material.certPath, material.keyPath), {
      certPem: material.certPem,
      keyPem: material.keyPem,
    });
  });

  test('names the file when one is missing, not PEM, or the key is not the certificate’s', async () => {
    const material = await ensureSelfSignedTls(join(root, 'bad'), selfSignedNames('localhost', []));
    const caKeyPath = join(root, 'bad', 'ca.key');
    const missing = join(root, 'bad', 'missing.crt');
    const garbage = join(root, 'bad', 'garbage.pem');
    await writeFile(garbage, 'not a certificate\n');

    await assert.rejects(readTlsFiles(missing, material.keyPath), (err: Error) =>
      err.message.includes(`cannot read TLS certificate ${missing}`),
    );
    await assert.rejects(readTlsFiles(garbage, material.keyPath), (err: Error) =>
      err.message.includes(`TLS certificate ${garbage} is not a PEM certificate`),
    );
    await assert.rejects(readTlsFiles(material.certPath, garbage), (err: Error) =>
      err.message.includes(`TLS key ${garbage} is not a PEM private key`),
    );
    await assert.rejects(readTlsFiles(material.certPath, caKeyPath), (err: Error) =>
      err.message.includes(`TLS key ${caKeyPath} does not belong to the certificate ${material.certPath}`),
    );
  });
});

describe('TlsReloader', () => {
  test('serves a reissued certificate to new connections once a registry name is added', async (t) => {
    const dir = join(root, 'reload');
    const initial = await ensureSelfSignedTls(dir, selfSignedNames('localhost', []));
    const server = tls.createServer(tlsServerOptions(initial), (socket) => socket.end('hello\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;
    const connect = (servername: string) => handshake(port, servername, initial.caCertPem);

    assert.equal(await connect('localhost'), 'ok');
    assert.match(await connect('contoso.localhost'), /ERR_TLS_CERT_ALTNAME_INVALID/);

    const reloader = new TlsReloader(server, dir, initial);
    assert.equal(await reloader.update(selfSignedNames('localhost', ['contoso'])), true);
    assert.equal(await connect('contoso.localhost'), 'ok');
    assert.equal(await connect('localhost'), 'ok');

    assert.equal(await reloader.update(selfSignedNames('localhost', ['contoso'])), false, 'nothing to change');
  });

  test('concurrent updates leave the server with the certificate covering the last names', async (t) => {
    const dir = join(root, 'reload-concurrent');
    const initial = await ensureSelfSignedTls(dir, selfSignedNames('localhost', []));
    const server = tls.createServer(tlsServerOptions(initial), (socket) => socket.end('hello\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;

    const reloader = new TlsReloader(server, dir, initial);
    await Promise.all([
      reloader.update(selfSignedNames('localhost', ['contoso'])),
      reloader.update(selfSignedNames('localhost', ['contoso', 'baseartifacts'])),
    ]);
    assert.equal(await handshake(port, 'baseartifacts.localhost', initial.caCertPem), 'ok');
    assert.equal(await handshake(port, 'contoso.localhost', initial.caCertPem), 'ok');
  });
});

/** Connects to 127.0.0.1 asking for `servername`, trusting only `ca`; 'ok' or the error code. */
function handshake(port: number, servername: string, ca: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, ca }, () => {
      socket.end();
      resolve('ok');
    });
    socket.setTimeout(5000, () => socket.destroy(new Error('ETIMEDOUT')));
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}
