/**
 * A registry's usage as `az acr show-usage` reports it — `{"value":[{name, limit, currentValue,
 * unit}]}` with `Size` (bytes, the storage quota as limit), `Webhooks`, `ScopeMaps` and `Tokens` —
 * plus counts of repositories, manifests and tags (no limit: `null`). Everything is computed
 * from references when asked, so it changes the moment content is pushed or deleted.
 */
import type { MetaStore, Sku } from '../meta/meta-store.ts';
import type { StorageQuota } from './quota.ts';

export interface UsageItem {
  name: string;
  limit: number | null;
  currentValue: number;
  unit: 'Bytes' | 'Count';
}

export interface RegistryUsageView {
  value: UsageItem[];
}

/** Scope maps and tokens each SKU includes, as ACR's tiers. */
export const skuCountLimits: Record<Sku, { scopeMaps: number; tokens: number }> = {
  Basic: { scopeMaps: 100, tokens: 100 },
  Standard: { scopeMaps: 500, tokens: 500 },
  Premium: { scopeMaps: 50_000, tokens: 50_000 },
};

export class UsageService {
  constructor(
    private readonly meta: Pick<MetaStore, 'getRegistry' | 'usage' | 'webhooks'>,
    private readonly quota: Pick<StorageQuota, 'forget'>,
  ) {}

  /** Undefined if there is no such registry. */
  async show(registry: string): Promise<RegistryUsageView | undefined> {
    const record = await this.meta.getRegistry(registry);
    if (!record) return undefined;
    const [usage, webhooks] = await Promise.all([this.meta.usage.registryUsage(registry), this.meta.webhooks.countWebhooks(registry)]);
    if (!usage) return undefined;
    const counts = skuCountLimits[record.sku];
    return {
      value: [
        { name: 'Size', limit: record.quotaBytes, currentValue: usage.storageBytes, unit: 'Bytes' },
        { name: 'Webhooks', limit: record.webhookLimit, currentValue: webhooks, unit: 'Count' },
        { name: 'ScopeMaps', limit: counts.scopeMaps, currentValue: usage.scopeMaps, unit: 'Count' },
        { name: 'Tokens', limit: counts.tokens, currentValue: usage.tokens, unit: 'Count' },
        { name: 'Repositories', limit: null, currentValue: usage.repositories, unit: 'Count' },
        { name: 'Manifests', limit: null, currentValue: usage.manifests, unit: 'Count' },
        { name: 'Tags', limit: null, currentValue: usage.tags, unit: 'Count' },
      ],
    };
  }

  /** Sets the registry's storage quota (a SKU change sets it back to the SKU's); false if there is no such registry. */
  async setStorageQuota(registry: string, bytes: number): Promise<boolean> {
    const updated = await this.meta.usage.setStorageQuota(registry, bytes);
    this.quota.forget(registry);
    return updated;
  }
}
