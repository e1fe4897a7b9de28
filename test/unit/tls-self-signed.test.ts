import 'reflect-metadata';
import { X509Certificate as NodeX509, createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  X509Certificate,
  X509CertificateGenerator,
} from '@peculiar/x509';
import { ensureSelfSignedTls, selfSignedNames, trustInstructions } from '../../src/tls/self-signed.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

let root: string;
let counter = 0;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'berth-tls-'));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

function freshDir(): string {
  counter += 1;
  return join(root, `data-${counter}`, 'tls');
}

function daysFromNow(date: string): number {
  return (Date.parse(date) - Date.now()) / DAY_MS;
}

describe('selfSignedNames', () => {
  test('lists the domain, localhost, 127.0.0.1 and every login server, without duplicates', () => {
    assert.deepEqual(selfSignedNames('localhost', ['contoso', 'baseartifacts']), {
      dnsNames: ['localhost', 'contoso.localhost', 'baseartifacts.localhost'],
      ipAddresses: ['127.0.0.1'],
    });
    assert.deepEqual(selfSignedNames('registry.example', ['contoso']).dnsNames, [
      'registry.example',
      'localhost',
      'contoso.registry.example',
    ]);
  });
});

describe('ensureSelfSignedTls', () => {
  test('first call makes a CA and a server certificate with explicit SANs', async () => {
    const dir = freshDir();
    const tls = await ensureSelfSignedTls(dir, selfSignedNames('localhost', ['contoso']));
    assert.equal(tls.created, true);
    assert.equal(tls.caCreated, true);
    assert.equal(tls.caCertPath, join(dir, 'ca.crt'));
    assert.equal(tls.certPath, join(dir, 'server.crt'));
    assert.equal(tls.keyPath, join(dir, 'server.key'));
    assert.equal(await readFile(tls.certPath, 'utf8'), tls.certPem);
    assert.equal(await readFile(tls.keyPath, 'utf8'), tls.keyPem);
    assert.equal(await readFile(tls.caCertPath, 'utf8'), tls.caCertPem);

    const ca = new NodeX509(tls.caCertPem);
    const cert = new NodeX509(tls.certPem);
    const sans = (cert.subjectAltName ?? '').split(', ').sort();
    assert.deepEqual(sans, ['DNS:contoso.localhost', 'DNS:localhost', 'IP Address:127.0.0.1']);
    assert.equal(cert.checkHost('localhost', { subject: 'never' }), 'localhost');
    assert.equal(cert.checkHost('contoso.localhost', { subject: 'never' }), 'contoso.localhost');
    assert.equal(cert.checkHost('other.localhost'), undefined, 'no wildcard covers unknown registries');
    assert.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(cert.checkIP('127.0.0.2'), undefined);
    assert.equal(cert.verify(ca.publicKey), true);
    assert.equal(cert.checkIssued(ca), true);
    assert.equal(cert.checkPrivateKey(createPrivateKey(tls.keyPem)), true);
    assert.equal(ca.ca, true);
    assert.equal(cert.ca, false);
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'extKeyUsage is serverAuth only');
    assert.notEqual(cert.serialNumber, ca.serialNumber);
    assert.ok(daysFromNow(cert.validTo) > 360 && daysFromNow(cert.validTo) <= 366, 'server cert lasts about a year');
    assert.ok(daysFromNow(ca.validTo) > 3640, 'CA lasts about ten years');
    assert.ok(Date.parse(cert.validFrom) <= Date.now());
  });

  test('extensions: CA constraints and key usages, server usages, key identifiers', async () => {
    const tls = await ensureSelfSignedTls(freshDir(), selfSignedNames('localhost', []));
    const ca = new X509Certificate(tls.caCertPem);
    const cert = new X509Certificate(tls.certPem);

    const caConstraints = ca.getExtension(BasicConstraintsExtension);
    assert.equal(caConstraints?.ca, true);
    assert.equal(caConstraints?.critical, true);
    const caUsages = ca.getExtension(KeyUsagesExtension);
    assert.equal(caUsages?.critical, true);
    assert.equal(caUsages?.usages, KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign);
    const caKeyId = ca.getExtension(SubjectKeyIdentifierExtension)?.keyId;
    assert.ok(caKeyId);

    const constraints = cert.getExtension(BasicConstraintsExtension);
    assert.equal(constraints?.ca, false);
    assert.equal(constraints?.critical, true);
    assert.equal(cert.getExtension(KeyUsagesExtension)?.usages, KeyUsageFlags.digitalSignature);
    assert.equal(cert.getExtension(AuthorityKeyIdentifierExtension)?.keyId, caKeyId);
    assert.ok(cert.getExtension(SubjectKeyIdentifierExtension)?.keyId);
    assert.equal(cert.issuer, ca.subject);
    assert.deepEqual(
      new Uint8Array(cert.issuerName.toArrayBuffer()),
      new Uint8Array(ca.subjectName.toArrayBuffer()),
      'issuer is the CA subject byte for byte',
    );
  });

  test('writes private keys with mode 0600 and certificates readable', async () => {
    const tls = await ensureSelfSignedTls(freshDir(), selfSignedNames('localhost', []));
    const dir = join(tls.caCertPath, '..');
    assert.equal((await stat(join(dir, 'ca.key'))).mode & 0o777, 0o600);
    assert.equal((await stat(tls.keyPath)).mode & 0o777, 0o600);
    assert.equal((await stat(tls.caCertPath)).mode & 0o777, 0o644);
    assert.equal((await stat(tls.certPath)).mode & 0o777, 0o644);
  });

  test('a second call with the same or fewer names reuses everything', async () => {
    const dir = freshDir();
    const first = await ensureSelfSignedTls(dir, selfSignedNames('localhost', ['contoso']));
    const certMtime = (await stat(first.certPath)).mtimeMs;
    const second = await ensureSelfSignedTls(dir, selfSignedNames('localhost', ['contoso']));
    assert.equal(second.created, false);
    assert.equal(second.caCreated, false);
    assert.equal(second.certPem, first.certPem);
    assert.equal(second.keyPem, first.keyPem);
    assert.equal(second.caCertPem, first.caCertPem);
    assert.equal((await stat(first.certPath)).mtimeMs, certMtime);

    const fewer = await ensureSelfSignedTls(dir, selfSignedNames('localhost', []));
    assert.equal(fewer.created, false);
    assert.equal(fewer.certPem, first.certPem);
  });

  test('a new registry name reissues the server certificate under the same CA', async () => {
    const dir = freshDir();
    const first = await ensureSelfSignedTls(dir, selfSignedNames('localhost', ['contoso']));
    const second = await ensureSelfSignedTls(dir, selfSignedNames('localhost', ['contoso', 'baseartifacts']));
    assert.equal(second.created, true);
    assert.equal(second.caCreated, false);
    assert.equal(second.caCertPem, first.caCertPem);
    assert.notEqual(second.certPem, first.certPem);
    assert.notEqual(second.keyPem, first.keyPem);

    const ca = new NodeX509(second.caCertPem);
    const cert = new NodeX509(second.certPem);
    assert.equal(cert.checkHost('baseartifacts.localhost'), 'baseartifacts.localhost');
    assert.equal(cert.checkHost('contoso.localhost'), 'contoso.localhost');
    assert.equal(cert.verify(ca.publicKey), true);
    assert.notEqual(cert.serialNumber, new NodeX509(first.certPem).serialNumber);
  });

  test('a new IP address reissues too', async () => {
    const dir = freshDir();
    await ensureSelfSignedTls(dir, selfSignedNames('localhost', []));
    const names = selfSignedNames('localhost', []);
    const again = await ensureSelfSignedTls(dir, { ...names, ipAddresses: [...names.ipAddresses, '::1'] });
    assert.equal(again.created, true);
    assert.equal(new NodeX509(again.certPem).checkIP('::1'), '::1');
  });

  test('a certificate expiring within 30 days is reissued', async () => {
    const dir = freshDir();
    const names = selfSignedNames('localhost', ['contoso']);
    const first = await ensureSelfSignedTls(dir, names);
    await writeExpiringCert(first, names.dnsNames, 100);
    assert.equal((await ensureSelfSignedTls(dir, names)).created, false, '100 days left is enough');
    await writeExpiringCert(first, names.dnsNames, 10);
    const again = await ensureSelfSignedTls(dir, names);
    assert.equal(again.created, true);
    assert.equal(again.caCreated, false);
    assert.ok(daysFromNow(new NodeX509(again.certPem).validTo) > 360);
  });

  test('a certificate/key pair that does not match, or a missing certificate, is reissued', async () => {
    const dir = freshDir();
    const names = selfSignedNames('localhost', []);
    const first = await ensureSelfSignedTls(dir, names);
    await writeFile(first.keyPath, await readFile(join(dir, 'ca.key')));
    const mismatched = await ensureSelfSignedTls(dir, names);
    assert.equal(mismatched.created, true);
    assert.equal(mismatched.caCertPem, first.caCertPem);

    await rm(mismatched.certPath);
    const missing = await ensureSelfSignedTls(dir, names);
    assert.equal(missing.created, true);
    assert.equal(missing.caCertPem, first.caCertPem);
  });

  test('losing the CA key makes a new CA and a server certificate signed by it', async () => {
    const dir = freshDir();
    const names = selfSignedNames('localhost', []);
    const first = await ensureSelfSignedTls(dir, names);
    await rm(join(dir, 'ca.key'));
    const again = await ensureSelfSignedTls(dir, names);
    assert.equal(again.caCreated, true);
    assert.equal(again.created, true);
    assert.notEqual(again.caCertPem, first.caCertPem);
    assert.equal(new NodeX509(again.certPem).verify(new NodeX509(again.caCertPem).publicKey), true);
  });

  test('concurrent calls for one directory share one CA and end with a certificate covering both', async () => {
    const dir = freshDir();
    const [a, b] = await Promise.all([
      ensureSelfSignedTls(dir, selfSignedNames('localhost', ['contoso'])),
      ensureSelfSignedTls(dir, selfSignedNames('localhost', ['contoso', 'publicregistry'])),
    ]);
    assert.equal(a.caCertPem, b.caCertPem);
    const onDisk = new NodeX509(await readFile(b.certPath, 'utf8'));
    assert.equal(onDisk.checkHost('publicregistry.localhost'), 'publicregistry.localhost');
    assert.equal(onDisk.checkHost('contoso.localhost'), 'contoso.localhost');
  });

  test('refuses wildcards and malformed names', async () => {
    const dir = freshDir();
    await assert.rejects(ensureSelfSignedTls(dir, { dnsNames: ['*.localhost'], ipAddresses: [] }), TypeError);
    await assert.rejects(ensureSelfSignedTls(dir, { dnsNames: ['localhost'], ipAddresses: ['300.1.1.1'] }), TypeError);
    await assert.rejects(ensureSelfSignedTls(dir, { dnsNames: [], ipAddresses: [] }), TypeError);
  });
});

describe('trustInstructions', () => {
  test('names the CA file and every way to trust it, per login server', () => {
    const text = trustInstructions('/data/tls/ca.crt', ['localhost:5443', 'contoso.localhost:5443']);
    assert.match(text, /cp \/data\/tls\/ca\.crt \/usr\/local\/share\/ca-certificates\/berth-ca\.crt && update-ca-certificates/);
    assert.match(text, /\/etc\/docker\/certs\.d\/localhost:5443\/ca\.crt/);
    assert.match(text, /\/etc\/docker\/certs\.d\/contoso\.localhost:5443\/ca\.crt/);
    assert.match(text, /\/etc\/containers\/certs\.d\/contoso\.localhost:5443\/ca\.crt/);
    assert.match(text, /--cert-dir/);
    assert.match(text, /NODE_EXTRA_CA_CERTS=\/data\/tls\/ca\.crt/);
  });
});

/** Replaces the server certificate with one from the same CA that expires in `days` days. */
async function writeExpiringCert(
  tls: { certPath: string; keyPath: string; caCertPath: string },
  dnsNames: string[],
  days: number,
): Promise<void> {
  const { subtle } = globalThis.crypto;
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256' };
  const caKeyDer = createPrivateKey(await readFile(join(tls.caCertPath, '..', 'ca.key'), 'utf8')).export({
    type: 'pkcs8',
    format: 'der',
  });
  const caKey = await subtle.importKey('pkcs8', caKeyDer, algorithm, false, ['sign']);
  const ca = new X509Certificate(await readFile(tls.caCertPath, 'utf8'));
  const keys = await subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const cert = await X509CertificateGenerator.create(
    {
      subject: 'CN=localhost',
      issuer: ca.subjectName,
      notBefore: new Date(Date.now() - DAY_MS),
      notAfter: new Date(Date.now() + days * DAY_MS),
      publicKey: keys.publicKey,
      signingKey: caKey,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [
        new SubjectAlternativeNameExtension([
          ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
          { type: 'ip', value: '127.0.0.1' },
        ]),
      ],
    },
    globalThis.crypto,
  );
  const keyDer = await subtle.exportKey('pkcs8', keys.privateKey);
  const keyPem = createPrivateKey({ key: Buffer.from(keyDer), format: 'der', type: 'pkcs8' }).export({
    type: 'pkcs8',
    format: 'pem',
  });
  await writeFile(tls.keyPath, keyPem);
  await writeFile(tls.certPath, cert.toString('pem'));
}
