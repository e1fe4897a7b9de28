/**
 * The per-registry storage quota, checked when a push adds content: at a blob upload's completion
 * (before the blob is published) and at a manifest put (before it is stored). Storage is counted
 * as `meta/usage-store.ts` defines it — from references, each blob once per registry — so a push
 * is refused exactly when the content it adds would take that figure over the quota; a push that
 * adds nothing (re-pushing, or layers the registry already holds) always passes, even over quota.
 *
 * Computing a registry's storage means summing over all its references, too dear for every push.
 * So each registry's figure is kept here as an estimate: recomputed at most every `refreshMs`,
 * and raised by what each admitted manifest adds (never lowered: deletes only make it high). A
 * manifest that fits the estimate even if everything it lists were new passes at once, raising
 * the estimate by that much; otherwise what it really adds is computed (a few indexed lookups)
 * and, if that does not fit, checked against a freshly computed figure.
 *
 * Limits of the check: it is not serialised with the writes, so pushes racing at the limit may
 * each pass and together overshoot it by what they add; and what other nodes of a scale-out
 * installation add, and a quota changed other than through `UsageService` (a SKU change), reach
 * this node's estimate within `refreshMs`.
 */
import { RegistryError } from '../oci/errors.ts';
import type { MetaStore } from '../meta/meta-store.ts';
import type { ContentSize } from '../meta/usage-store.ts';

export interface StorageQuotaOptions {
  /** How long a computed storage figure is trusted (plus the content admitted since). */
  refreshMs: number;
}

interface Estimate {
  used: number;
  quota: number;
  expires: number;
}

export class StorageQuota {
  readonly #estimates = new Map<string, Promise<Estimate | undefined>>();

  constructor(
    private readonly meta: Pick<MetaStore, 'getRegistry' | 'usage'>,
    private readonly options: StorageQuotaOptions = { refreshMs: 30_000 },
  ) {}

  /** Refuses (`DENIED`, 403) a blob whose bytes would take the registry over its quota once referenced. */
  async admitBlob(registry: string, blob: ContentSize): Promise<void> {
    const estimate = await this.#estimate(registry);
    if (!estimate || estimate.used + blob.size <= estimate.quota) return;
    const added = await this.meta.usage.storageAddedBy(registry, { blobs: [blob] });
    await this.#admitExactly(registry, added);
  }

  /** Refuses (`DENIED`, 403) a manifest whose new content would take the registry over its quota. */
  async admitManifest(registry: string, manifest: ContentSize, blobs: ContentSize[]): Promise<void> {
    const estimate = await this.#estimate(registry);
    if (!estimate) return;
    const most = blobs.reduce((total, blob) => total + blob.size, manifest.size);
    if (estimate.used + most <= estimate.quota) {
      estimate.used += most;
      return;
    }
    const added = await this.meta.usage.storageAddedBy(registry, { blobs, manifest });
    if (added === 0) return;
    if (estimate.used + added <= estimate.quota) {
      estimate.used += added;
      return;
    }
    const exact = await this.#admitExactly(registry, added);
    if (exact) exact.used += added;
  }

  /** Drops what is known of the registry (its quota changed, or it was deleted). */
  forget(registry: string): void {
    this.#estimates.delete(registry);
  }

  async #admitExactly(registry: string, added: number): Promise<Estimate | undefined> {
    if (added === 0) return undefined;
    const estimate = await this.#refresh(registry);
    if (estimate && estimate.used + added > estimate.quota) throw quotaExceeded(registry, estimate, added);
    return estimate;
  }

  async #estimate(registry: string): Promise<Estimate | undefined> {
    const cached = await this.#estimates.get(registry);
    if (cached && cached.expires > Date.now()) return cached;
    return await this.#refresh(registry);
  }

  /** Computes the registry's storage afresh; concurrent callers share one computation. */
  #refresh(registry: string): Promise<Estimate | undefined> {
    const computing = (async (): Promise<Estimate | undefined> => {
      const record = await this.meta.getRegistry(registry);
      if (!record) return undefined;
      const used = await this.meta.usage.storageBytes(registry);
      return { used, quota: record.quotaBytes, expires: Date.now() + this.options.refreshMs };
    })();
    this.#estimates.set(registry, computing);
    computing.catch(() => {
      if (this.#estimates.get(registry) === computing) this.#estimates.delete(registry);
    });
    return computing;
  }
}

function quotaExceeded(registry: string, estimate: Estimate, added: number): RegistryError {
  return new RegistryError(
    'DENIED',
    `storage quota exceeded: registry ${registry} uses ${formatBytes(estimate.used)} of its ${formatBytes(estimate.quota)} quota ` +
      `and this push would add ${formatBytes(added)}; delete content or raise the quota (berth update -n ${registry} --storage-quota <size>)`,
    { status: 403, detail: { quotaBytes: estimate.quota, usedBytes: estimate.used, addedBytes: added } },
  );
}

const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** `1536` → `1.5 KiB`; whole bytes below 1 KiB. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}
