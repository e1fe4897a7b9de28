/** Data one workload leaves for another on the same target. */
import { pushGeneratedBlob } from '../blob-push.ts';
import type { WorkloadContext } from './workload.ts';

export interface BlobFixture {
  repository: string;
  digest: string;
  size: number;
}

/** The big blob as pushed by the push workload. */
export const bigBlobFixture = 'big-blob';

/** The big blob, pushed now (untimed) when the push workload did not run on this target. */
export async function ensureBigBlob(ctx: WorkloadContext): Promise<BlobFixture> {
  const existing = ctx.fixtures.get(bigBlobFixture) as BlobFixture | undefined;
  if (existing) return existing;
  const blob = ctx.blob('push-monolithic', ctx.sizes.bigBlobBytes);
  const fixture: BlobFixture = { repository: 'bench/push', digest: await blob.digest(), size: blob.size };
  ctx.log('pushing the big blob first (untimed)');
  const client = await ctx.connect(1, fixture.repository);
  try {
    await pushGeneratedBlob(client, fixture.repository, blob, 'monolithic', ctx.sizes.chunkBytes);
  } finally {
    client.close();
  }
  ctx.fixtures.set(bigBlobFixture, fixture);
  return fixture;
}
