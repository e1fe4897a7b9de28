/**
 * Real clients against HTTPS served with Berth's TLS options and self-signed material: skopeo must
 * verify the chain through the CA alone (no --tls-verify=false), and TLS 1.1 must be refused.
 * The server here is a tiny stand-in answering `/v2/` and `/v2/<name>/tags/list`.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tls from 'node:tls';
import { promisify } from 'node:util';
import { ensureSelfSignedTls, selfSignedNames, type SelfSignedTls } from '../src/tls/self-signed.ts';
import { tlsServerOptions } from '../src/tls/tls-options.ts';

const run = promisify(execFile);
const COMMAND_TIMEOUT_MS = 60_000;

let root: string;
let certDir: string;
let material: SelfSignedTls;
let server: Server;
let port: number;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'berth-tls-skopeo-'));
  material = await ensureSelfSignedTls(join(root, 'data', 'tls'), selfSignedNames('localhost', ['contoso']));
  certDir = join(root, 'certs');
  await mkdir(certDir);
  await copyFile(material.caCertPath, join(certDir, 'ca.crt'));
  server = createServer(tlsServerOptions(material), fakeRegistry);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(root, { recursive: true, force: true });
});

function fakeRegistry(req: IncomingMessage, res: ServerResponse): void {
  const path = new URL(req.url ?? '/', 'https://registry').pathname;
  res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
  res.setHeader('Content-Type', 'application/json');
  const tags = /^\/v2\/(.+)\/tags\/list$/.exec(path);
  if (path === '/v2/' || path === '/v2') {
    res.end('{}');
  } else if (tags) {
    res.end(JSON.stringify({ name: tags[1], tags: ['a'] }));
  } else {
    res.statusCode = 404;
    res.end(JSON.stringify({ errors: [{ code: 'NAME_UNKNOWN', message: 'not found' }] }));
  }
}

async function hasSkopeo(): Promise<boolean> {
  try {
    await run('skopeo', ['--version'], { timeout: COMMAND_TIMEOUT_MS });
    return true;
  } catch {
    return false;
  }
}

async function hostsFileNames(name: string): Promise<boolean> {
  const hosts = await readFile('/etc/hosts', 'utf8');
  return hosts.split('\n').some((line) => line.replace(/#.*/, '').trim().split(/\s+/).slice(1).includes(name));
}

/** Runs skopeo with no proxy in the way; resolves to stdout, rejects with stderr in the message. */
async function skopeo(args: string[]): Promise<string> {
  const names = `127.0.0.1,localhost,.localhost`;
  try {
    const { stdout } = await run('skopeo', args, {
      timeout: COMMAND_TIMEOUT_MS,
      env: { ...process.env, NO_PROXY: names, no_proxy: names },
    });
    return stdout;
  } catch (err) {
    const { stderr, message } = err as { stderr?: string; message: string };
    throw new Error(`skopeo ${args.join(' ')} failed: ${stderr || message}`);
  }
}

describe('skopeo verifies the self-signed chain', async () => {
  const skip = (await hasSkopeo()) ? false : 'skopeo is not installed';

  test('skopeo list-tags --cert-dir <ca dir> docker://127.0.0.1:<port>/x', { skip }, async () => {
    const stdout = await skopeo(['list-tags', '--no-creds', '--cert-dir', certDir, `docker://127.0.0.1:${port}/x`]);
    assert.deepEqual(JSON.parse(stdout), { Repository: `127.0.0.1:${port}/x`, Tags: ['a'] });
  });

  test('skopeo list-tags docker://127.0.0.1:<port>/x without the CA is refused', { skip }, async () => {
    await assert.rejects(
      skopeo(['list-tags', '--no-creds', `docker://127.0.0.1:${port}/x`]),
      /x509: certificate signed by unknown authority/,
    );
  });

  test('skopeo list-tags --cert-dir <ca dir> docker://contoso.localhost:<port>/x', { skip }, async (t) => {
    if (!(await hostsFileNames('contoso.localhost'))) {
      t.skip('/etc/hosts has no line for contoso.localhost (scripts/test-setup.sh adds it)');
      return;
    }
    const stdout = await skopeo([
      'list-tags',
      '--no-creds',
      '--cert-dir',
      certDir,
      `docker://contoso.localhost:${port}/x`,
    ]);
    assert.deepEqual(JSON.parse(stdout), { Repository: `contoso.localhost:${port}/x`, Tags: ['a'] });
  });
});

describe('protocol versions', () => {
  // OpenSSL 3 needs security level 0 for TLS 1.1 at all, so the client asks for it: a refusal
  // then comes from the server's minimum version, as the control server below shows.
  const legacyClient = { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' } as const;

  test('a TLS 1.1 client is refused with a protocol version alert', async () => {
    const result = await handshake(port, { ...legacyClient, ca: material.caCertPem, servername: 'localhost' });
    assert.match(result, /PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL/);
  });

  test('control: the same TLS 1.1 client connects to a server that allows TLS 1.1', async (t) => {
    const legacy = tls.createServer(
      { cert: material.certPem, key: material.keyPem, minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' },
      (socket) => socket.end(),
    );
    await new Promise<void>((resolve) => legacy.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => legacy.close(() => resolve())));
    const legacyPort = (legacy.address() as AddressInfo).port;
    const result = await handshake(legacyPort, { ...legacyClient, ca: material.caCertPem, servername: 'localhost' });
    assert.equal(result, 'TLSv1.1');
  });

  test('TLS 1.2 and TLS 1.3 clients are accepted', async () => {
    const common = { ca: material.caCertPem, servername: 'localhost' };
    assert.equal(await handshake(port, { ...common, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' }), 'TLSv1.2');
    assert.equal(await handshake(port, { ...common, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' }), 'TLSv1.3');
  });
});

/** Connects to 127.0.0.1:`port`; resolves to the negotiated protocol, or the error code on failure. */
function handshake(port: number, options: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({ ...options, host: '127.0.0.1', port }, () => {
      const protocol = socket.getProtocol() ?? 'unknown';
      socket.end();
      resolve(protocol);
    });
    socket.setTimeout(5000, () => socket.destroy(new Error('handshake timed out')));
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}
