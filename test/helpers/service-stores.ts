/** A metadata store (SQLite) with registry `contoso` and a filesystem blob store in a scratch directory, for service-level tests. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openMetaStore, type MetaStore } from '../../src/meta/index.ts';
import { openBlobStore, type BlobStore } from '../../src/store/index.ts';

export interface ServiceStores {
  meta: MetaStore;
  store: BlobStore;
  /** Closes the metadata store and removes the directory. */
  close(): Promise<void>;
}

export async function openServiceStores(prefix: string): Promise<ServiceStores> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  const meta = await openMetaStore({ url: `sqlite:${path.join(dir, 'berth.db')}` });
  await meta.createRegistry('contoso');
  return {
    meta,
    store: openBlobStore({ driver: 'fs', root: path.join(dir, 'storage') }),
    async close() {
      await meta.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
