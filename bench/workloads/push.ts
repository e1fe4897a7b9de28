/** Workload 1: one large blob pushed monolithic, chunked and streamed, in MB/s each. */
import { pushGeneratedBlob, pushModes } from '../blob-push.ts';
import { formatBytes } from '../options.ts';
import { elapsedMs, megabytesPerSecond, now } from '../stats.ts';
import { bigBlobFixture, type BlobFixture } from './fixtures.ts';
import type { Metric, Workload } from './workload.ts';

const repository = 'bench/push';

export const pushWorkload: Workload = {
  name: 'push',
  title: (sizes) => `Blob push, ${formatBytes(sizes.bigBlobBytes)} (chunks of ${formatBytes(sizes.chunkBytes)})`,
  async run(ctx) {
    const metrics: Metric[] = [];
    const client = await ctx.connect(1, repository);
    try {
      for (const mode of pushModes) {
        ctx.checkTime();
        const blob = ctx.blob(`push-${mode}`, ctx.sizes.bigBlobBytes);
        const digest = await blob.digest();
        await ctx.settle();
        const start = now();
        await pushGeneratedBlob(client, repository, blob, mode, ctx.sizes.chunkBytes);
        const ms = elapsedMs(start);
        if (!(await client.blobExists(repository, digest))) throw new Error(`${mode} push: blob ${digest} missing afterwards`);
        const rate = megabytesPerSecond(blob.size, ms);
        ctx.log(`${mode} push: ${rate.toFixed(1)} MB/s`);
        metrics.push({ name: `${mode} push`, unit: 'MB/s', better: 'higher', value: rate, detail: { bytes: blob.size, ms, digest } });
        if (mode === 'monolithic') ctx.fixtures.set(bigBlobFixture, { repository, digest, size: blob.size } satisfies BlobFixture);
      }
    } finally {
      client.close();
    }
    return metrics;
  },
};
