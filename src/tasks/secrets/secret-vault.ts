/**
 * The secret store: values sealed with AES-256-GCM under a key derived from the installation
 * secret (`<data>/secret.key`, outside the database), addressed as `vault://<vault>/<name>` or
 * `https://<vault>.vault.azure.net/secrets/<name>[/<version>]` (the form the seed texts use).
 */
import type { SealedValue } from '../../meta/task-store.ts';

export interface SecretView {
  vault: string;
  name: string;
  /** Present only where the caller asked for the value (`secret show`). */
  value?: string;
  contentType: string | null;
  version: string;
  createdAt: string;
  updatedAt: string;
  /** `https://<vault>.vault.azure.net/secrets/<name>/<version>` (ACR's `id`). */
  id: string;
}

export interface SecretVault {
  set(vault: string, name: string, value: string, contentType?: string): Promise<SecretView>;
  show(vault: string, name: string): Promise<SecretView | undefined>;
  list(vault: string): Promise<SecretView[]>;
  delete(vault: string, name: string): Promise<boolean>;
  /** Whether `reference` is a secret URI (`vault://…` or a key-vault URL). */
  isReference(reference: string): boolean;
  /** The clear value a secret URI names; throws `SecretNotFoundError` when there is none. */
  resolve(reference: string): Promise<string>;
  /** Seals a value for storing in a task (credentials, secret values, git tokens). */
  seal(value: string): SealedValue;
  unseal(sealed: SealedValue): string;
}

export class SecretNotFoundError extends Error {
  constructor(readonly reference: string) {
    super(`secret ${reference} was not found`);
    this.name = 'SecretNotFoundError';
  }
}
