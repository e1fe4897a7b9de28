/**
 * Workload 5: many tiny unique images pushed as docker pushes them, first one after another and
 * then by several concurrent pushers into one repository: images/s. Each measurement follows an
 * unmeasured warm-up of the same pushes into another repository, so that neither the client's
 * nor the server's code is still being compiled while it is measured; the warm-up's own rate is
 * logged as the cold figure.
 */
import { makeSmallImage, pushSmallImage, type SmallImage } from '../images.ts';
import type { RegistryClient } from '../client.ts';
import { elapsedMs, now } from '../stats.ts';
import { runPool, type Metric, type Workload, type WorkloadContext } from './workload.ts';

export const smallImagesWorkload: Workload = {
  name: 'small-images',
  title: (s) =>
    `${s.smallImages} small images (config + ${s.smallLayerBytes} B layer + manifest), sequential and ${s.smallPushers} pushers, each after a ${s.smallWarmupSeconds} s warm-up`,
  async run(ctx) {
    const sequential = await pushImages(ctx, 'bench/small-seq', 1);
    const concurrent = await pushImages(ctx, 'bench/small-par', ctx.sizes.smallPushers);
    return [sequential, concurrent];
  },
};

async function pushImages(ctx: WorkloadContext, repository: string, pushers: number): Promise<Metric> {
  const count = ctx.sizes.smallImages;
  const label = pushers === 1 ? 'sequential' : `${pushers} pushers`;
  const client = await ctx.connect(pushers, repository);
  try {
    const warmup = await pushForAWhile(ctx, client, `${repository}-warmup`, pushers);
    ctx.log(`${label}: warm-up ${warmup.images} images at ${warmup.rate.toFixed(1)} images/s (not measured)`);
    const images = makeImages(repository, count, ctx.sizes.smallLayerBytes);
    const start = now();
    await runPool(count, pushers, async (i) => {
      ctx.checkTime();
      await pushSmallImage(client, repository, `img-${i}`, images[i]!);
    });
    const ms = elapsedMs(start);
    const rate = count / (ms / 1000);
    ctx.log(`${label}: ${rate.toFixed(1)} images/s`);
    return { name: label, unit: 'images/s', better: 'higher', value: rate, detail: { images: count, ms, pushers, warmup } };
  } finally {
    client.close();
  }
}

/** Pushes images into `repository` until the warm-up time is over or `smallImages` are pushed. */
async function pushForAWhile(
  ctx: WorkloadContext,
  client: RegistryClient,
  repository: string,
  pushers: number,
): Promise<{ images: number; rate: number }> {
  const images = makeImages(repository, ctx.sizes.smallImages, ctx.sizes.smallLayerBytes);
  const start = now();
  const warmupMs = ctx.sizes.smallWarmupSeconds * 1000;
  let pushed = 0;
  await runPool(images.length, pushers, async (i) => {
    if (elapsedMs(start) >= warmupMs) return;
    ctx.checkTime();
    await pushSmallImage(client, repository, `img-${i}`, images[i]!);
    pushed++;
  });
  return { images: pushed, rate: pushed / (elapsedMs(start) / 1000) };
}

function makeImages(repository: string, count: number, layerBytes: number): SmallImage[] {
  return Array.from({ length: count }, (_, i) => makeSmallImage(`${repository}-${i}`, layerBytes));
}
