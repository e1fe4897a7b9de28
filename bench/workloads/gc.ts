/**
 * Berth only: online garbage collection over many manifests and blobs while pushes go on.
 * Unmeasured set-up: `gcManifests` tiny images (a layer and a config each, so twice as many
 * blobs) pushed with `smallPushers` pushers, then every other one deleted, then a wait until the
 * deleted ones' blobs are past the server's grace period. Measured: one `POST /mgmt/v1/gc/runs`
 * while `gcPushers` pushers keep pushing new images: how long the collection takes, how many
 * blobs it deleted, and how the pushes meanwhile fared (the goal: none fails).
 */
import { servesBerthApi, ManagementApi } from '../berth-api.ts';
import { makeSmallImage, pushSmallImage, type SmallImage } from '../images.ts';
import type { RunningTarget } from '../targets.ts';
import { elapsedMs, now } from '../stats.ts';
import { runPool, type Metric, type Workload, type WorkloadContext } from './workload.ts';

const repository = 'bench/gc';
const pushRepository = 'bench/gc-push';
/** Margin past the grace period, so the deleted images' blobs are surely collectable. */
const graceMarginMs = 1000;

export const gcWorkload: Workload = {
  name: 'gc',
  title: (s) =>
    `GC over ${s.gcManifests} manifests / ${2 * s.gcManifests} blobs (half of them deleted) while ${s.gcPushers} pushers push (Berth only)`,
  skip: skipReason,
  async run(ctx) {
    const owner = ctx.target.credentials!;
    const api = new ManagementApi(ctx.target.url, owner);
    try {
      const garbage = await setUp(ctx);
      const { gracePeriodSeconds } = await api.runGc(true);
      const waitMs = gracePeriodSeconds * 1000 + graceMarginMs - elapsedMs(garbage.deletedAt);
      if (waitMs > 0) {
        ctx.log(`waiting ${(waitMs / 1000).toFixed(1)} s for the grace period (${gracePeriodSeconds} s) of the deleted images`);
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
      return await measure(ctx, api, garbage.blobs);
    } finally {
      api.close();
    }
  },
};

async function skipReason(target: RunningTarget): Promise<string | undefined> {
  if (target.kind === 'distribution') return 'Distribution collects garbage only offline (registry garbage-collect)';
  if (!target.credentials) return 'the installation owner credentials are unknown (--berth-user, --berth-password)';
  if (!(await servesBerthApi(target.url))) return 'no Berth management API at /mgmt/v1';
  return undefined;
}

/** Pushes the images and deletes every other one; returns the digests that became garbage. */
async function setUp(ctx: WorkloadContext): Promise<{ blobs: Set<string>; deletedAt: bigint }> {
  const count = ctx.sizes.gcManifests;
  const images: SmallImage[] = Array.from({ length: count }, (_, i) => makeSmallImage(`gc-${i}-${Date.now()}`, ctx.sizes.smallLayerBytes));
  const client = await ctx.connect(ctx.sizes.smallPushers, repository);
  const start = now();
  try {
    await runPool(count, ctx.sizes.smallPushers, async (i) => {
      ctx.checkTime();
      await pushSmallImage(client, repository, `img-${i}`, images[i]!);
    });
    ctx.log(`pushed ${count} images in ${(elapsedMs(start) / 1000).toFixed(1)} s`);
    const garbage = new Set<string>();
    await runPool(Math.floor(count / 2), ctx.sizes.smallPushers, async (half) => {
      ctx.checkTime();
      const image = images[2 * half + 1]!;
      const res = await client.send('DELETE', repository, `/v2/${repository}/manifests/${image.manifestDigest}`, { read: 'buffer' });
      if (res.status !== 202) throw new Error(`DELETE manifest ${image.manifestDigest}: ${res.status}`);
      garbage.add(image.layerDigest).add(image.configDigest);
    });
    return { blobs: garbage, deletedAt: now() };
  } finally {
    client.close();
  }
}

async function measure(ctx: WorkloadContext, api: ManagementApi, garbage: Set<string>): Promise<Metric[]> {
  const pushers = ctx.sizes.gcPushers;
  const client = await ctx.connect(pushers, pushRepository);
  let collecting = true;
  let pushed = 0;
  const failures: string[] = [];
  const pusher = async (worker: number) => {
    for (let round = 0; collecting; round += 1) {
      try {
        await pushSmallImage(client, pushRepository, `w${worker}-${round}`, makeSmallImage(`gc-push-${worker}-${round}-${Date.now()}`, ctx.sizes.smallLayerBytes));
        pushed += 1;
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
  };
  try {
    const running = Array.from({ length: pushers }, (_, worker) => pusher(worker));
    const start = now();
    let report;
    try {
      report = await api.runGc(false);
    } finally {
      collecting = false;
      await Promise.all(running);
    }
    const ms = elapsedMs(start);
    const deleted = report.deletedBlobs.filter((blob) => garbage.has(blob.digest)).length;
    ctx.log(
      `collected ${report.deletedBlobs.length} blobs (${deleted} of the ${garbage.size} deleted images' blobs) in ${(ms / 1000).toFixed(2)} s; ` +
        `${pushed} pushes meanwhile, ${failures.length} failed${failures.length > 0 ? ` (first: ${failures[0]})` : ''}`,
    );
    if (deleted !== garbage.size) throw new Error(`the collection deleted ${deleted} of the ${garbage.size} blobs of deleted images`);
    const detail = { deletedBlobs: report.deletedBlobs.length, unlinkedBlobs: report.unlinkedBlobs.length, reclaimedBytes: report.reclaimedBytes, ms };
    return [
      { name: 'collection time', unit: 's', better: 'lower', value: ms / 1000, detail },
      { name: 'blobs deleted per second', unit: 'blobs/s', better: 'higher', value: report.deletedBlobs.length / (ms / 1000) },
      { name: 'pushes during the collection', unit: 'images/s', better: 'higher', value: pushed / (ms / 1000), detail: { pushed } },
      { name: 'failed pushes during the collection', unit: 'pushes', better: 'lower', value: failures.length, goal: { op: '<=', value: 0 }, detail: { failures: failures.slice(0, 5) } },
    ];
  } finally {
    client.close();
  }
}
