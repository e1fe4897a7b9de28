/**
 * The ES256 keys that sign Berth's access and refresh tokens. Generated on first start and kept
 * in the metadata store (the private key sealed with AES-256-GCM under a key derived from the
 * installation secret), so every node signs and verifies with the same keys. Rotation makes a
 * new key the signer; the previous one still verifies until its grace period ends.
 *
 * Keys are held in memory. Another node's rotation is picked up when a token names an unknown
 * key id (at most once per `unknownKidReloadMs`) and by a reload every `reloadMs`.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { MetaStore } from '../meta/meta-store.ts';
import type { NewSigningKey, SigningKeyRecord } from '../meta/identity-store.ts';

/** Keys are WebCrypto keys: jose signs and verifies with them several times faster than with `KeyObject`s. */
export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
}

interface VerificationKey {
  publicKey: CryptoKey;
  /** ms since the epoch; undefined for the signing key. */
  validUntil: number | undefined;
}

const reloadMs = 60_000;
const unknownKidReloadMs = 1_000;

export class SigningKeys {
  readonly #meta: MetaStore;
  readonly #sealKey: Buffer;
  readonly #now: () => number;
  #signing: SigningKey | undefined;
  #verification = new Map<string, VerificationKey>();
  #loadedAt = 0;
  #reloading: Promise<void> | undefined;

  private constructor(meta: MetaStore, sealKey: Buffer, now: () => number) {
    this.#meta = meta;
    this.#sealKey = sealKey;
    this.#now = now;
  }

  /** Loads the keys, generating the first one if the installation has none. */
  static async open(meta: MetaStore, sealKey: Buffer, now: () => number = Date.now): Promise<SigningKeys> {
    const keys = new SigningKeys(meta, sealKey, now);
    await keys.#load();
    if (!keys.#signing) {
      await meta.createFirstSigningKey(await keys.#generate());
      await keys.#load();
    }
    return keys;
  }

  /** The key to sign with now. */
  async signingKey(): Promise<SigningKey> {
    if (this.#now() - this.#loadedAt > reloadMs) await this.#reload();
    if (!this.#signing) throw new Error('no signing key');
    return this.#signing;
  }

  /** True while tokens signed with `kid` verify (the signing key, or a retired one in its grace period). */
  isUsable(kid: string): boolean {
    const key = this.#verification.get(kid);
    return key !== undefined && (key.validUntil === undefined || key.validUntil > this.#now());
  }

  /** The public key for `kid`, if it may verify now; asks the store when the id is unknown. */
  async verificationKey(kid: string): Promise<CryptoKey | undefined> {
    if (!this.#verification.has(kid) && this.#now() - this.#loadedAt > unknownKidReloadMs) await this.#reload();
    return this.isUsable(kid) ? this.#verification.get(kid)?.publicKey : undefined;
  }

  async rotate(graceSeconds: number): Promise<{ kid: string; previousKid: string | null; graceSeconds: number }> {
    const key = await this.#generate();
    const now = this.#now();
    const { previousKid } = await this.#meta.rotateSigningKey(
      key,
      new Date(now + graceSeconds * 1000).toISOString(),
      new Date(now).toISOString(),
    );
    await this.#load();
    return { kid: key.kid, previousKid, graceSeconds };
  }

  async #reload(): Promise<void> {
    this.#reloading ??= this.#load().finally(() => {
      this.#reloading = undefined;
    });
    await this.#reloading;
  }

  async #load(): Promise<void> {
    const records = await this.#meta.listSigningKeys();
    const verification = new Map<string, VerificationKey>();
    let signing: SigningKey | undefined;
    for (const record of records) {
      const publicKey = await importKey(JSON.parse(record.publicJwk) as JWK);
      if (record.retiredAt === null) {
        signing = { kid: record.kid, privateKey: await importKey(this.#unseal(record)) };
        verification.set(record.kid, { publicKey, validUntil: undefined });
      } else if (record.graceUntil !== null) {
        verification.set(record.kid, { publicKey, validUntil: Date.parse(record.graceUntil) });
      }
    }
    this.#signing = signing;
    this.#verification = verification;
    this.#loadedAt = this.#now();
  }

  async #generate(): Promise<NewSigningKey> {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    const privateJwk = JSON.stringify(await exportJWK(privateKey));
    return { kid, publicJwk: JSON.stringify(publicJwk), privateKey: this.#seal(kid, privateJwk) };
  }

  /** `<iv>.<ciphertext>.<tag>` (base64url), bound to the key id. */
  #seal(kid: string, plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#sealKey, iv);
    cipher.setAAD(Buffer.from(kid));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [iv, ciphertext, cipher.getAuthTag()].map((part) => part.toString('base64url')).join('.');
  }

  #unseal(record: SigningKeyRecord): JWK {
    const [iv, ciphertext, tag] = record.privateKey.split('.').map((part) => Buffer.from(part, 'base64url'));
    if (!iv || !ciphertext || !tag) throw new Error(`signing key ${record.kid} is malformed`);
    const decipher = createDecipheriv('aes-256-gcm', this.#sealKey, iv);
    decipher.setAAD(Buffer.from(record.kid));
    decipher.setAuthTag(tag);
    let plaintext: string;
    try {
      plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new Error(`signing key ${record.kid} cannot be unsealed: is this the installation secret it was sealed with?`);
    }
    return JSON.parse(plaintext) as JWK;
  }
}

async function importKey(jwk: JWK): Promise<CryptoKey> {
  return (await importJWK(jwk, 'ES256')) as CryptoKey;
}
