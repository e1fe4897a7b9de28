/** Workload 2: the large blob pulled back in one GET, body discarded while counting, in MB/s. */
import { formatBytes } from '../options.ts';
import { elapsedMs, megabytesPerSecond, now } from '../stats.ts';
import { ensureBigBlob } from './fixtures.ts';
import type { Workload } from './workload.ts';

export const pullWorkload: Workload = {
  name: 'pull',
  title: (sizes) => `Blob pull, ${formatBytes(sizes.bigBlobBytes)}`,
  async run(ctx) {
    const fixture = await ensureBigBlob(ctx);
    const client = await ctx.connect(1, fixture.repository);
    try {
      await ctx.settle();
      const start = now();
      const bytes = await client.pullBlob(fixture.repository, fixture.digest);
      const ms = elapsedMs(start);
      if (bytes !== fixture.size) throw new Error(`pull: got ${bytes} bytes, expected ${fixture.size}`);
      const rate = megabytesPerSecond(bytes, ms);
      ctx.log(`pull: ${rate.toFixed(1)} MB/s`);
      return [{ name: 'pull', unit: 'MB/s', better: 'higher', value: rate, detail: { bytes, ms } }];
    } finally {
      client.close();
    }
  },
};
