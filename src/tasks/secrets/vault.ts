/**
 * The secret store on the metadata store: each value sealed with AES-256-GCM (a random 96-bit IV
 * per value) under a key derived from the installation secret, as
 * `v1.<iv>.<tag>.<ciphertext>` (base64url). A stored secret's sealing is bound to its vault and
 * name, so a value copied onto another secret's row fails to open.
 *
 * Names follow Azure Key Vault: a vault has 3–24 letters, digits and hyphens (starting with a
 * letter, ending with a letter or digit, no `--`) and is case-insensitive (it is a host name);
 * a secret has 1–127 letters, digits and hyphens.
 */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import type { SealedValue, SecretRecord, TaskStore } from '../../meta/task-store.ts';
import { TaskError } from '../task-service.ts';
import { SecretNotFoundError, type SecretVault, type SecretView } from './secret-vault.ts';

const sealVersion = 'v1';
const ivBytes = 12;
const tagBytes = 16;
const vaultNamePattern = /^[a-z](?!.*--)[a-z0-9-]{1,22}[a-z0-9]$/;
const secretNamePattern = /^[0-9A-Za-z-]{1,127}$/;
const keyVaultHostSuffix = '.vault.azure.net';

interface SecretAddress {
  vault: string;
  name: string;
  version?: string;
}

/** The vault name in its stored (lower-case) form; throws a `TaskError` explaining the rule. */
export function checkVaultName(vault: string): string {
  const normalized = vault.toLowerCase();
  if (!vaultNamePattern.test(normalized)) {
    throw new TaskError(
      'invalid',
      `invalid vault name "${vault}": use 3 to 24 letters, digits and hyphens, starting with a letter, ending with a letter or digit, without consecutive hyphens`,
    );
  }
  return normalized;
}

export function checkSecretName(name: string): string {
  if (!secretNamePattern.test(name)) {
    throw new TaskError('invalid', `invalid secret name "${name}": use 1 to 127 letters, digits and hyphens`);
  }
  return name;
}

/** ACR's `id` of a secret version. */
export function keyVaultSecretId(vault: string, name: string, version: string): string {
  return `https://${vault}${keyVaultHostSuffix}/secrets/${name}/${version}`;
}

function isKeyVaultUrl(reference: string): boolean {
  return /^https:\/\/[^/]+\.vault\.azure\.net\/secrets\//i.test(reference);
}

/** `vault://<vault>/<name>` or `https://<vault>.vault.azure.net/secrets/<name>[/<version>]`. */
function parseReference(reference: string): SecretAddress {
  const malformed = () =>
    new TaskError(
      'invalid',
      `"${reference}" is not a secret reference: use vault://<vault>/<name> or https://<vault>.vault.azure.net/secrets/<name>[/<version>]`,
    );
  if (reference.startsWith('vault://')) {
    const parts = reference.slice('vault://'.length).split('/');
    if (parts.length !== 2) throw malformed();
    return { vault: checkVaultName(parts[0]!), name: checkSecretName(parts[1]!) };
  }
  if (!isKeyVaultUrl(reference)) throw malformed();
  let url: URL;
  try {
    url = new URL(reference);
  } catch {
    throw malformed();
  }
  if (url.port !== '' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') throw malformed();
  const vault = url.hostname.slice(0, -keyVaultHostSuffix.length);
  const [secrets, name, version, ...rest] = url.pathname.slice(1).split('/');
  if (secrets !== 'secrets' || !name || rest.length > 0 || version === '') throw malformed();
  return { vault: checkVaultName(vault), name: checkSecretName(name), ...(version === undefined ? {} : { version }) };
}

function view(record: SecretRecord, value?: string): SecretView {
  return {
    vault: record.vault,
    name: record.name,
    ...(value === undefined ? {} : { value }),
    contentType: record.contentType,
    version: record.version,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    id: keyVaultSecretId(record.vault, record.name, record.version),
  };
}

/** Binds a stored secret's sealed value to its place. */
function secretContext(vault: string, name: string): Buffer {
  return Buffer.from(`secret ${vault}/${name}`, 'utf8');
}

export class StoredSecretVault implements SecretVault {
  readonly #store: TaskStore;
  readonly #key: Buffer;

  /** `key`: `deriveKey(installationSecret, 'secret vault')` (32 bytes). */
  constructor(store: TaskStore, key: Buffer) {
    if (key.length !== 32) throw new Error('the secret vault key must be 32 bytes');
    this.#store = store;
    this.#key = key;
  }

  async set(vault: string, name: string, value: string, contentType?: string): Promise<SecretView> {
    const address = { vault: checkVaultName(vault), name: checkSecretName(name) };
    const record = await this.#store.setSecret({
      ...address,
      value: this.#seal(value, secretContext(address.vault, address.name)),
      contentType: contentType ?? null,
      version: randomUUID().replaceAll('-', ''),
    });
    return view(record, value);
  }

  async show(vault: string, name: string): Promise<SecretView | undefined> {
    const record = await this.#store.getSecret(checkVaultName(vault), checkSecretName(name));
    return record && view(record, this.#open(record));
  }

  async list(vault: string): Promise<SecretView[]> {
    const records = await this.#store.listSecrets(checkVaultName(vault));
    return records.map((record) => view(record));
  }

  async delete(vault: string, name: string): Promise<boolean> {
    return await this.#store.deleteSecret(checkVaultName(vault), checkSecretName(name));
  }

  isReference(reference: string): boolean {
    return reference.startsWith('vault://') || isKeyVaultUrl(reference);
  }

  async resolve(reference: string): Promise<string> {
    const address = parseReference(reference);
    const record = await this.#store.getSecret(address.vault, address.name);
    // A versioned URL names one value: only the current version is kept.
    if (!record || (address.version !== undefined && address.version !== record.version)) throw new SecretNotFoundError(reference);
    return this.#open(record);
  }

  seal(value: string): SealedValue {
    return this.#seal(value);
  }

  unseal(sealed: SealedValue): string {
    return this.#unseal(sealed);
  }

  #open(record: SecretRecord): string {
    return this.#unseal(record.value, secretContext(record.vault, record.name));
  }

  #seal(value: string, context?: Buffer): SealedValue {
    const iv = randomBytes(ivBytes);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: tagBytes });
    if (context) cipher.setAAD(context);
    const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    return [sealVersion, ...[iv, cipher.getAuthTag(), ciphertext].map((part) => part.toString('base64url'))].join('.');
  }

  #unseal(sealed: SealedValue, context?: Buffer): string {
    const [version, iv, tag, ciphertext, ...rest] = sealed.split('.');
    if (version !== sealVersion || iv === undefined || tag === undefined || ciphertext === undefined || rest.length > 0) {
      throw new Error('not a sealed value');
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'), { authTagLength: tagBytes });
      if (context) decipher.setAAD(context);
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new Error('a sealed value could not be opened: it was altered, or sealed with another key');
    }
  }
}
