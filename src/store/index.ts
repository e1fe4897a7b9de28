/**
 * The blob store room's entry point: builds the configured driver behind `CheckedBlobStore`, so
 * every caller gets key validation, normalised errors and counters.
 */
import { CheckedBlobStore } from './checked-blob-store.ts';
import { FsBlobStore } from './fs-blob-store.ts';

export interface FsBlobStoreConfig {
  driver: 'fs';
  /** Directory holding `blobs/` and `uploads/`; created on first use. */
  root: string;
}

export type BlobStoreConfig = FsBlobStoreConfig;

export function openBlobStore(config: BlobStoreConfig): CheckedBlobStore {
  switch (config.driver) {
    case 'fs':
      return new CheckedBlobStore(new FsBlobStore(config.root));
    default:
      throw new Error(`unknown blob store driver "${(config as { driver: string }).driver}"`);
  }
}

export { BlobNotFoundError, BlobStoreError, isUploadId } from './blob-store.ts';
export type { AppendOptions, BlobInfo, BlobReader, BlobStore, UploadInfo, UploadWriter } from './blob-store.ts';
export { CheckedBlobStore, type BlobStoreMetrics, type BlobStoreOperation } from './checked-blob-store.ts';
