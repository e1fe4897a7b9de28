/**
 * Self-signed TLS material for `berth serve --tls-self-signed`: a private CA made once, and a server
 * certificate it signs whose SANs list every name Berth answers to. No wildcards: Node and OpenSSL
 * reject `*.localhost`, so each registry's login server is named explicitly.
 *
 * Layout of the TLS directory (`<data>/tls/`):
 *
 *   ca.crt       the CA certificate (PEM). Clients trust this file. Made on first start and kept; a
 *                new CA is made only when ca.crt or ca.key is missing or unreadable, or the CA expires
 *                within 30 days (clients must then trust the new ca.crt).
 *   ca.key       the CA private key (PKCS#8 PEM, mode 0600). Never sent anywhere.
 *   server.crt   the server certificate (PEM), signed by the CA. Reissued when a requested name is
 *                not covered (a registry was created), when it expires within 30 days, or when it
 *                was not signed by the current CA.
 *   server.key   the server private key (PKCS#8 PEM, mode 0600). A new key comes with each reissue.
 *
 * Nothing here is removed by Berth. Each file is written under a temporary name and renamed into
 * place, so a reader sees either the old or the new file, never half of one; the key is written
 * before its certificate, and a certificate/key pair that does not match is reissued.
 */
// @peculiar/x509 resolves its internals through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { X509Certificate as NodeX509, createPrivateKey, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  PemConverter,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  X509Certificate,
  X509CertificateGenerator,
  type JsonGeneralName,
} from '@peculiar/x509';

/** The names a server certificate must cover. */
export interface TlsNames {
  dnsNames: string[];
  ipAddresses: string[];
}

export interface SelfSignedTls {
  caCertPem: string;
  certPem: string;
  keyPem: string;
  caCertPath: string;
  certPath: string;
  keyPath: string;
  /** A new server certificate was issued by this call. */
  created: boolean;
  /** A new CA was made by this call: clients must be told to trust it. */
  caCreated: boolean;
}

const CA_CERT_FILE = 'ca.crt';
const CA_KEY_FILE = 'ca.key';
const SERVER_CERT_FILE = 'server.crt';
const SERVER_KEY_FILE = 'server.key';

const DAY_MS = 24 * 60 * 60 * 1000;
const CA_VALIDITY_DAYS = 3650;
const SERVER_VALIDITY_DAYS = 365;
const RENEW_BEFORE_DAYS = 30;
/** notBefore is set this far in the past so a client whose clock is a little behind still accepts. */
const CLOCK_SKEW_MS = 60 * 60 * 1000;

const KEY_ALGORITHM: EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGNING_ALGORITHM: EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };

const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/**
 * The names Berth's server certificate covers: the domain, `localhost`, `127.0.0.1`, and each
 * registry's login server `<registry>.<domain>`.
 */
export function selfSignedNames(domain: string, registryNames: Iterable<string>): TlsNames {
  const dnsNames = [domain, 'localhost'];
  for (const registry of registryNames) dnsNames.push(`${registry}.${domain}`);
  return normalizeNames({ dnsNames, ipAddresses: ['127.0.0.1'] });
}

/**
 * Makes sure `dir` holds a CA and a server certificate covering `names`, creating or reissuing only
 * what is missing, expiring or insufficient. Calls for the same directory run one after another.
 */
export function ensureSelfSignedTls(dir: string, names: TlsNames): Promise<SelfSignedTls> {
  const key = resolve(dir);
  const previous = pendingByDir.get(key) ?? Promise.resolve();
  const run = previous.then(() => ensureNow(key, normalizeNames(names)));
  const settled = run.then(
    () => undefined,
    () => undefined,
  );
  pendingByDir.set(key, settled);
  void settled.then(() => {
    if (pendingByDir.get(key) === settled) pendingByDir.delete(key);
  });
  return run;
}

const pendingByDir = new Map<string, Promise<void>>();

async function ensureNow(dir: string, names: TlsNames): Promise<SelfSignedTls> {
  await mkdir(dir, { recursive: true });
  const caCertPath = join(dir, CA_CERT_FILE);
  const caKeyPath = join(dir, CA_KEY_FILE);
  const certPath = join(dir, SERVER_CERT_FILE);
  const keyPath = join(dir, SERVER_KEY_FILE);
  const now = Date.now();

  const existingCa = await readPair(caCertPath, caKeyPath);
  const caCreated = !existingCa || !isUsableCa(existingCa.cert, now);
  const caPair = caCreated ? await createCa(now) : existingCa;
  if (caCreated) {
    await writeAtomic(caKeyPath, caPair.keyPem, 0o600);
    await writeAtomic(caCertPath, caPair.certPem, 0o644);
  }

  const existing = caCreated ? undefined : await readPair(certPath, keyPath);
  const created = !existing || !isUsableServerCert(existing.cert, caPair.cert, names, now);
  const server = created ? await issueServerCert(caPair, names, now) : existing;
  if (created) {
    await writeAtomic(keyPath, server.keyPem, 0o600);
    await writeAtomic(certPath, server.certPem, 0o644);
  }
  return {
    caCertPem: caPair.certPem,
    certPem: server.certPem,
    keyPem: server.keyPem,
    caCertPath,
    certPath,
    keyPath,
    created,
    caCreated,
  };
}

/**
 * How to make clients trust the CA. `loginServers` are `host:port` names as clients write them
 * (e.g. `localhost:5443`, `contoso.localhost:5443`).
 */
export function trustInstructions(caCertPath: string, loginServers: string[]): string {
  const hosts = [...new Set(loginServers)];
  const lines = [
    `Berth serves HTTPS with a certificate signed by its own CA: ${caCertPath}`,
    'Trust that CA on each client machine (as root):',
    '',
    '  System-wide on Debian/Ubuntu (curl, git, Go programs, docker and podman pick it up):',
    `    cp ${caCertPath} /usr/local/share/ca-certificates/berth-ca.crt && update-ca-certificates`,
    '',
    '  docker, per login server (no daemon restart needed):',
  ];
  for (const host of hosts) {
    lines.push(`    mkdir -p /etc/docker/certs.d/${host} && cp ${caCertPath} /etc/docker/certs.d/${host}/ca.crt`);
  }
  lines.push('', '  podman, buildah, skopeo, per login server:');
  for (const host of hosts) {
    lines.push(
      `    mkdir -p /etc/containers/certs.d/${host} && cp ${caCertPath} /etc/containers/certs.d/${host}/ca.crt`,
    );
  }
  lines.push(
    '    or, per command, with a directory holding ca.crt:',
    `    mkdir -p ~/.berth-certs && cp ${caCertPath} ~/.berth-certs/ca.crt`,
    '    skopeo inspect --cert-dir ~/.berth-certs docker://<login server>/<repository>:<tag>',
    '    (podman pull|push, buildah pull|push and skopeo copy take --cert-dir too; skopeo copy as --src-cert-dir/--dest-cert-dir)',
    '',
    '  Node.js programs:',
    `    NODE_EXTRA_CA_CERTS=${caCertPath}`,
  );
  return lines.join('\n');
}

interface Pair {
  cert: NodeX509;
  certPem: string;
  keyPem: string;
}

function normalizeNames(names: TlsNames): TlsNames {
  const dnsNames = unique(names.dnsNames.map((name) => name.trim().toLowerCase()));
  for (const name of dnsNames) {
    if (!DNS_NAME.test(name)) throw new TypeError(`not a DNS name for a TLS certificate: ${JSON.stringify(name)}`);
  }
  const ipAddresses = unique(names.ipAddresses.map((ip) => ip.trim()));
  for (const ip of ipAddresses) {
    if (isIP(ip) === 0) throw new TypeError(`not an IP address for a TLS certificate: ${JSON.stringify(ip)}`);
  }
  if (dnsNames.length + ipAddresses.length === 0) throw new TypeError('a TLS certificate needs at least one name');
  return { dnsNames, ipAddresses };
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** Reads a certificate and its key; undefined when either is missing, unreadable or they do not match. */
async function readPair(certPath: string, keyPath: string): Promise<Pair | undefined> {
  try {
    const [certPem, keyPem] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    const cert = new NodeX509(certPem);
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return undefined;
    return { cert, certPem, keyPem };
  } catch (err) {
    if (isMissingOrMalformed(err)) return undefined;
    throw err;
  }
}

function isMissingOrMalformed(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ENOENT') return true;
  // Node reports unparsable PEM/DER as OpenSSL errors (ERR_OSSL_*) or ERR_INVALID_ARG_VALUE.
  return typeof code === 'string' && (code.startsWith('ERR_OSSL') || code === 'ERR_INVALID_ARG_VALUE');
}

function isUsableCa(cert: NodeX509, now: number): boolean {
  return cert.ca && !expiresSoon(cert, now);
}

function isUsableServerCert(cert: NodeX509, caCert: NodeX509, names: TlsNames, now: number): boolean {
  if (expiresSoon(cert, now)) return false;
  if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) return false;
  // subject: 'never' makes the check look at SANs only, as modern clients do.
  const coversHosts = names.dnsNames.every((name) => cert.checkHost(name, { subject: 'never', wildcards: false }));
  return coversHosts && names.ipAddresses.every((ip) => cert.checkIP(ip) !== undefined);
}

function expiresSoon(cert: NodeX509, now: number): boolean {
  return Date.parse(cert.validTo) - now < RENEW_BEFORE_DAYS * DAY_MS;
}

async function createCa(now: number): Promise<Pair> {
  const keys = await generateKeys();
  const name = `CN=Berth local CA ${randomBytes(4).toString('hex')}, O=Berth`;
  const cert = await X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerial(),
      name,
      notBefore: new Date(now - CLOCK_SKEW_MS),
      notAfter: new Date(now + CA_VALIDITY_DAYS * DAY_MS),
      keys,
      signingAlgorithm: SIGNING_ALGORITHM,
      extensions: [
        new BasicConstraintsExtension(true, 0, true),
        new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
        await SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto()),
      ],
    },
    webcrypto(),
  );
  const certPem = cert.toString('pem');
  return { cert: new NodeX509(certPem), certPem, keyPem: await exportPrivateKey(keys.privateKey) };
}

async function issueServerCert(ca: Pair, names: TlsNames, now: number): Promise<{ certPem: string; keyPem: string }> {
  const keys = await generateKeys();
  const caCert = new X509Certificate(ca.certPem);
  const caKeyId = caCert.getExtension(SubjectKeyIdentifierExtension)?.keyId;
  const authorityKeyId = caKeyId
    ? new AuthorityKeyIdentifierExtension(caKeyId)
    : await AuthorityKeyIdentifierExtension.create(caCert.publicKey, false, webcrypto());
  const sans: JsonGeneralName[] = [
    ...names.dnsNames.map((value): JsonGeneralName => ({ type: 'dns', value })),
    ...names.ipAddresses.map((value): JsonGeneralName => ({ type: 'ip', value })),
  ];
  const notAfter = Math.min(now + SERVER_VALIDITY_DAYS * DAY_MS, Date.parse(ca.cert.validTo));
  const cert = await X509CertificateGenerator.create(
    {
      serialNumber: randomSerial(),
      subject: `CN=${names.dnsNames[0] ?? names.ipAddresses[0]}, O=Berth`,
      // The issuer must be the CA's subject byte for byte: Go clients match chains on the raw name.
      issuer: caCert.subjectName,
      notBefore: new Date(now - CLOCK_SKEW_MS),
      notAfter: new Date(notAfter),
      publicKey: keys.publicKey,
      signingKey: await importPrivateKey(ca.keyPem),
      signingAlgorithm: SIGNING_ALGORITHM,
      extensions: [
        new BasicConstraintsExtension(false, undefined, true),
        // ECDSA keys sign the handshake; keyEncipherment would only apply to RSA key transport.
        new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
        new ExtendedKeyUsageExtension([ExtendedKeyUsage.serverAuth]),
        new SubjectAlternativeNameExtension(sans),
        await SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto()),
        authorityKeyId,
      ],
    },
    webcrypto(),
  );
  return { certPem: cert.toString('pem'), keyPem: await exportPrivateKey(keys.privateKey) };
}

function webcrypto(): Crypto {
  return globalThis.crypto;
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return webcrypto().subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
}

async function exportPrivateKey(key: CryptoKey): Promise<string> {
  const pkcs8 = await webcrypto().subtle.exportKey('pkcs8', key);
  return `${PemConverter.encode(pkcs8, 'PRIVATE KEY')}\n`;
}

async function importPrivateKey(pem: string): Promise<CryptoKey> {
  const pkcs8 = createPrivateKey(pem).export({ type: 'pkcs8', format: 'der' });
  return webcrypto().subtle.importKey('pkcs8', pkcs8, KEY_ALGORITHM, false, ['sign']);
}

/** A random positive 128-bit serial whose first byte is non-zero, so its DER form has exactly 16 bytes. */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes.toString('hex');
}

async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, data, { mode, flag: 'wx' });
    await chmod(temp, mode);
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
