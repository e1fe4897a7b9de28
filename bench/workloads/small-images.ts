/**
 * Workload 5: many tiny unique images pushed as docker pushes them, first one after another and
 * then by several concurrent pushers into one repository: images/s.
 */
import { makeSmallImage, pushSmallImage, type SmallImage } from '../images.ts';
import { elapsedMs, now } from '../stats.ts';
import { runPool, type Metric, type Workload, type WorkloadContext } from './workload.ts';

export const smallImagesWorkload: Workload = {
  name: 'small-images',
  title: (s) => `${s.smallImages} small images (config + ${s.smallLayerBytes} B layer + manifest), sequential and ${s.smallPushers} pushers`,
  async run(ctx) {
    const sequential = await pushImages(ctx, 'bench/small-seq', 1);
    const concurrent = await pushImages(ctx, 'bench/small-par', ctx.sizes.smallPushers);
    return [sequential, concurrent];
  },
};

async function pushImages(ctx: WorkloadContext, repository: string, pushers: number): Promise<Metric> {
  const count = ctx.sizes.smallImages;
  const images: SmallImage[] = Array.from({ length: count }, (_, i) => makeSmallImage(`${repository}-${i}`, ctx.sizes.smallLayerBytes));
  const client = await ctx.connect(pushers, repository);
  try {
    const start = now();
    await runPool(count, pushers, async (i) => {
      ctx.checkTime();
      await pushSmallImage(client, repository, `img-${i}`, images[i]!);
    });
    const ms = elapsedMs(start);
    const rate = count / (ms / 1000);
    const label = pushers === 1 ? 'sequential' : `${pushers} pushers`;
    ctx.log(`${label}: ${rate.toFixed(1)} images/s`);
    return { name: label, unit: 'images/s', better: 'higher', value: rate, detail: { images: count, ms, pushers } };
  } finally {
    client.close();
  }
}
