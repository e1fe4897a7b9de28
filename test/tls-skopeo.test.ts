/**
 * Real clients against Berth serving HTTPS with `--tls-self-signed`: skopeo must verify the chain
 * through Berth's CA alone (no --tls-verify=false), also for a registry created after start-up
 * (its login server is added to a reissued certificate), and TLS 1.1 must be refused.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tls from 'node:tls';
import { promisify } from 'node:util';
import { authorizationOf, OWNER, startTestBerth, type TestBerth } from './helper.ts';
import { blobOf, OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, sha256 } from './helpers/oci-http.ts';

const run = promisify(execFile);
const COMMAND_TIMEOUT_MS = 60_000;
const OWNER_CREDS = `${OWNER.username}:${OWNER.password}`;

let root: string;
let certDir: string;
let caCertPem: string;
let berth: TestBerth;
let port: number;
let layoutDir: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'berth-tls-skopeo-'));
  berth = await startTestBerth({ tls: { selfSigned: true } });
  port = (berth.berth.app.server.address() as AddressInfo).port;
  caCertPem = await readFile(join(berth.dataDir, 'tls', 'ca.crt'), 'utf8');
  certDir = join(root, 'certs');
  await mkdir(certDir);
  await copyFile(join(berth.dataDir, 'tls', 'ca.crt'), join(certDir, 'ca.crt'));
  layoutDir = await writeOciLayout(join(root, 'layout'));
  const created = await createRegistry('contoso');
  assert.equal(created, 201);
});

after(async () => {
  await berth?.close();
  await rm(root, { recursive: true, force: true });
});

/** POST /mgmt/v1/registries over HTTPS, trusting only Berth's CA. */
function createRegistry(name: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ name });
    const request = httpsRequest(
      { host: '127.0.0.1', port, path: '/mgmt/v1/registries', method: 'POST', ca: caCertPem, headers: { 'content-type': 'application/json', 'content-length': body.length, authorization: authorizationOf(OWNER)! } },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** A one-layer OCI image layout written by hand, tagged `v1`. */
async function writeOciLayout(dir: string): Promise<string> {
  const layer = blobOf('not really a tarball, but a layer all the same');
  const config = blobOf(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] } }));
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.size }, layers: [{ mediaType: OCI_LAYER, digest: layer.digest, size: layer.size }] }));
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const blob of [layer, config, blobOf(manifest)]) await writeFile(join(dir, 'blobs', 'sha256', blob.digest.slice(7)), blob.data);
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: OCI_MANIFEST, digest: sha256(manifest), size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }] }));
  return dir;
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

  test('skopeo copy --dest-cert-dir <ca dir> oci:<layout>:v1 docker://127.0.0.1:<port>/x:a, then list-tags', { skip }, async () => {
    await skopeo(['copy', '--dest-creds', OWNER_CREDS, '--dest-cert-dir', certDir, `oci:${layoutDir}:v1`, `docker://127.0.0.1:${port}/x:a`]);
    const stdout = await skopeo(['list-tags', '--creds', OWNER_CREDS, '--cert-dir', certDir, `docker://127.0.0.1:${port}/x`]);
    assert.deepEqual(JSON.parse(stdout), { Repository: `127.0.0.1:${port}/x`, Tags: ['a'] });
  });

  test('skopeo list-tags docker://127.0.0.1:<port>/x without the CA is refused', { skip }, async () => {
    await assert.rejects(
      skopeo(['list-tags', '--no-creds', `docker://127.0.0.1:${port}/x`]),
      /x509: certificate signed by unknown authority/,
    );
  });

  test('skopeo copy and list-tags --cert-dir <ca dir> docker://contoso.localhost:<port>/x (a registry created after start-up)', { skip }, async () => {
    assert.ok(await hostsFileNames('contoso.localhost'), '/etc/hosts needs a line for contoso.localhost (scripts/test-setup.sh adds it)');
    await skopeo(['copy', '--dest-creds', OWNER_CREDS, '--dest-cert-dir', certDir, `oci:${layoutDir}:v1`, `docker://contoso.localhost:${port}/x:a`]);
    const stdout = await skopeo([
      'list-tags',
      '--creds',
      OWNER_CREDS,
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
    const result = await handshake(port, { ...legacyClient, ca: caCertPem, servername: 'localhost' });
    assert.match(result, /PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL/);
  });

  test('control: the same TLS 1.1 client connects to a server that allows TLS 1.1', async (t) => {
    const dir = join(berth.dataDir, 'tls');
    const legacy = tls.createServer(
      { cert: await readFile(join(dir, 'server.crt')), key: await readFile(join(dir, 'server.key')), minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' },
      (socket) => socket.end(),
    );
    await new Promise<void>((resolve) => legacy.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => legacy.close(() => resolve())));
    const legacyPort = (legacy.address() as AddressInfo).port;
    const result = await handshake(legacyPort, { ...legacyClient, ca: caCertPem, servername: 'localhost' });
    assert.equal(result, 'TLSv1.1');
  });

  test('TLS 1.2 and TLS 1.3 clients are accepted', async () => {
    const common = { ca: caCertPem, servername: 'localhost' };
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
