/**
 * What a registry holds, computed from references (so it changes the moment a manifest is pushed
 * or deleted), and its storage quota.
 *
 * A registry's storage is the size of every distinct blob its manifests reference plus the size
 * of every distinct manifest it holds: a layer shared by many images or repositories of the
 * registry counts once; the same layer in two registries counts in each. Blobs uploaded but not
 * (or no longer) referenced by a manifest do not count.
 */

export interface RegistryUsage {
  storageBytes: number;
  /** Repositories holding at least one manifest. */
  repositories: number;
  manifests: number;
  tags: number;
  scopeMaps: number;
  tokens: number;
}

export interface ContentSize {
  digest: string;
  size: number;
}

export interface UsageStore {
  /** Undefined if there is no such registry. */
  registryUsage(registry: string): Promise<RegistryUsage | undefined>;
  /** The registry's storage alone (0 for a registry that does not exist). */
  storageBytes(registry: string): Promise<number>;
  /**
   * By how much the registry's storage would grow if its manifests also referenced `blobs` and it
   * held `manifest`: the blobs no manifest of the registry references yet (each counted once, at
   * its recorded size, or the size given when the installation has no record of it), plus the
   * manifest unless the registry holds that digest already.
   */
  storageAddedBy(registry: string, content: { blobs: ContentSize[]; manifest?: ContentSize }): Promise<number>;
  /** Sets the registry's storage quota; false if there is no such registry. */
  setStorageQuota(registry: string, bytes: number): Promise<boolean>;
}
