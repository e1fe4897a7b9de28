import type { SealedValue } from '../../meta/task-store.ts';
import type { SecretVault } from './secret-vault.ts';

/**
 * The clear text behind a sealed task value: unsealed, then, when it is a secret URI
 * (`vault://…` or a key-vault URL, as `--git-access-token` and `--set-secret` accept), resolved
 * from the secret store at the moment it is needed, so a rotated secret takes effect at once.
 */
export async function revealSealed(vault: Pick<SecretVault, 'isReference' | 'resolve' | 'unseal'>, sealed: SealedValue): Promise<string> {
  const value = vault.unseal(sealed);
  return vault.isReference(value) ? await vault.resolve(value) : value;
}
