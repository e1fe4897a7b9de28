/**
 * Workload 3: many clients at once, each on its own connection pulling its own blob a few times
 * in a row; the aggregate rate over the wall-clock time.
 */
import { pushGeneratedBlob } from '../blob-push.ts';
import { formatBytes } from '../options.ts';
import { elapsedMs, megabytesPerSecond, now } from '../stats.ts';
import { runPool, type Workload } from './workload.ts';

const repository = 'bench/parallel';
const setupConcurrency = 4;

export const parallelPullWorkload: Workload = {
  name: 'parallel-pull',
  title: (s) => `${s.parallelClients} concurrent clients, each pulling a ${formatBytes(s.parallelBlobBytes)} blob ${s.parallelRounds}x`,
  async run(ctx) {
    const { parallelClients: clients, parallelBlobBytes: size, parallelRounds: rounds } = ctx.sizes;
    const blobs = Array.from({ length: clients }, (_, i) => ctx.blob(`parallel-${i}`, size));
    const digests: string[] = [];
    for (const blob of blobs) digests.push(await blob.digest());

    const setup = await ctx.connect(setupConcurrency, repository);
    try {
      await runPool(clients, setupConcurrency, async (i) => {
        ctx.checkTime();
        await pushGeneratedBlob(setup, repository, blobs[i]!, 'monolithic', size);
      });
    } finally {
      setup.close();
    }

    await ctx.settle();
    const client = await ctx.connect(clients, repository);
    try {
      let total = 0;
      const start = now();
      await runPool(clients, clients, async (i) => {
        for (let round = 0; round < rounds; round++) {
          ctx.checkTime();
          const bytes = await client.pullBlob(repository, digests[i]!);
          if (bytes !== size) throw new Error(`parallel pull: got ${bytes} bytes, expected ${size}`);
          total += bytes;
        }
      });
      const ms = elapsedMs(start);
      const rate = megabytesPerSecond(total, ms);
      ctx.log(`parallel pull: ${rate.toFixed(1)} MB/s aggregate`);
      return [{ name: 'aggregate pull', unit: 'MB/s', better: 'higher', value: rate, detail: { bytes: total, ms, clients, rounds } }];
    } finally {
      client.close();
    }
  },
};
