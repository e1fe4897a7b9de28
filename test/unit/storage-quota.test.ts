import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MetaStore, RegistryRecord } from '../../src/meta/meta-store.ts';
import type { ContentSize } from '../../src/meta/usage-store.ts';
import { StorageQuota } from '../../src/services/quota.ts';

/** A registry whose stored figure and "what a push adds" are scripted, counting the lookups. */
function fakeMeta(quotaBytes: number, stored: number, addedBy: (blobs: ContentSize[], manifest?: ContentSize) => number) {
  const calls = { storageBytes: 0, storageAddedBy: 0 };
  const meta = {
    async getRegistry(name: string) {
      return { name, quotaBytes } as RegistryRecord;
    },
    usage: {
      async storageBytes() {
        calls.storageBytes += 1;
        return stored;
      },
      async storageAddedBy(_registry: string, content: { blobs: ContentSize[]; manifest?: ContentSize }) {
        calls.storageAddedBy += 1;
        return addedBy(content.blobs, content.manifest);
      },
    },
  } as unknown as Pick<MetaStore, 'getRegistry' | 'usage'>;
  return { meta, calls };
}

const blob = (size: number): ContentSize => ({ digest: `sha256:${String(size).padStart(64, '0')}`, size });

describe('StorageQuota', () => {
  it('admits a manifest that fits even if all it lists were new without computing what it adds', async () => {
    const { meta, calls } = fakeMeta(1000, 100, (blobs, manifest) => blobs.reduce((t, b) => t + b.size, manifest?.size ?? 0));
    const quota = new StorageQuota(meta, { refreshMs: 60_000 });
    await quota.admitManifest('r', blob(10), [blob(20)]);
    const exactBefore = calls.storageAddedBy;
    for (let i = 0; i < 5; i += 1) await quota.admitManifest('r', blob(10), [blob(20)]);
    assert.equal(calls.storageAddedBy, exactBefore, 'no lookups while the estimate has room');
    assert.equal(calls.storageBytes, 1);
  });

  it('falls back to what a push really adds when the worst case does not fit, and refuses what is over', async () => {
    const { meta, calls } = fakeMeta(1000, 900, (blobs) => (blobs.some((b) => b.size === 500) ? 0 : blobs.reduce((t, b) => t + b.size, 0)));
    const quota = new StorageQuota(meta, { refreshMs: 60_000 });
    await quota.admitManifest('r', blob(1), [blob(500)]);
    assert.ok(calls.storageAddedBy > 0, 'a re-push of held content is looked up, and passes');
    await assert.rejects(quota.admitManifest('r', blob(1), [blob(200)]), { code: 'DENIED' });
  });
});
