/**
 * Berth only: `POST /mgmt/v1/registries/{registry}/purge` over many tags of one repository.
 * Unmeasured set-up: `purgeTags` small images (distinct manifests, one tag each) pushed with
 * `smallPushers` pushers. Measured: a dry run, which must list every tag, then the real run, which
 * must delete exactly what the dry run listed and leave the repository without tags.
 */
import { ManagementApi, reachedRegistry, servesBerthApi, type PurgeReport } from '../berth-api.ts';
import { expectStatus } from '../http.ts';
import { makeSmallImage, pushSmallImage } from '../images.ts';
import type { RunningTarget } from '../targets.ts';
import { elapsedMs, now } from '../stats.ts';
import { runPool, type Metric, type Workload, type WorkloadContext } from './workload.ts';

const repository = 'bench/purge';
const request = { filters: [`${repository}:.*`], ago: '0d' };

export const purgeWorkload: Workload = {
  name: 'purge',
  title: (s) => `Purge of ${s.purgeTags} tags (one small image each) in one repository: dry run, then the real run (Berth only)`,
  skip: skipReason,
  async run(ctx) {
    const owner = ctx.target.credentials!;
    const pushed = await setUp(ctx);
    const registry = await reachedRegistry(ctx.target.url, owner, repository);
    const api = new ManagementApi(ctx.target.url, owner);
    try {
      return await measure(ctx, api, registry, pushed);
    } finally {
      api.close();
    }
  },
};

async function skipReason(target: RunningTarget): Promise<string | undefined> {
  if (target.kind === 'distribution') return 'Distribution has no purge, only single manifest DELETEs';
  if (!target.credentials) return 'the installation owner credentials are unknown (--berth-user, --berth-password)';
  if (!(await servesBerthApi(target.url))) return 'no Berth management API at /mgmt/v1';
  return undefined;
}

/** Pushes one small image per tag; returns the tags. */
async function setUp(ctx: WorkloadContext): Promise<Set<string>> {
  const count = ctx.sizes.purgeTags;
  const client = await ctx.connect(ctx.sizes.smallPushers, repository);
  const start = now();
  try {
    const tags = Array.from({ length: count }, (_, i) => `t-${i}`);
    const run = Date.now();
    await runPool(count, ctx.sizes.smallPushers, async (i) => {
      ctx.checkTime();
      await pushSmallImage(client, repository, tags[i]!, makeSmallImage(`purge-${i}-${run}`, ctx.sizes.smallLayerBytes));
    });
    ctx.log(`pushed ${count} tagged images in ${(elapsedMs(start) / 1000).toFixed(1)} s`);
    return new Set(tags);
  } finally {
    client.close();
  }
}

async function measure(ctx: WorkloadContext, api: ManagementApi, registry: string, pushed: Set<string>): Promise<Metric[]> {
  let start = now();
  const dryRun = await api.purge(registry, { ...request, dryRun: true });
  const dryMs = elapsedMs(start);
  const planned = tagSet(dryRun);
  ctx.log(`dry run listed ${planned.size} tags in ${(dryMs / 1000).toFixed(2)} s`);
  const unlisted = difference(pushed, planned);
  if (unlisted.length > 0) throw new Error(`the dry run left out ${unlisted.length} of the ${pushed.size} tags (first: ${unlisted[0]})`);
  if (planned.size !== pushed.size) throw new Error(`the dry run listed ${planned.size} tags, ${pushed.size} were pushed`);

  ctx.checkTime();
  start = now();
  const real = await api.purge(registry, request);
  const purgeMs = elapsedMs(start);
  const deleted = tagSet(real);
  ctx.log(`purge deleted ${deleted.size} tags in ${(purgeMs / 1000).toFixed(2)} s, ${real.failed.length} failed`);
  if (real.failed.length > 0) throw new Error(`${real.failed.length} deletes failed (first: ${real.failed[0]!.error})`);
  const differs = [...difference(planned, deleted), ...difference(deleted, planned)];
  if (deleted.size !== planned.size || differs.length > 0) {
    throw new Error(`the purge deleted ${deleted.size} tags, the dry run listed ${planned.size}; ${differs.length} differ (first: ${differs[0]})`);
  }
  await expectNoTags(ctx);

  return [
    { name: 'dry run time', unit: 's', better: 'lower', value: dryMs / 1000, detail: { listedTags: planned.size } },
    { name: 'purge time', unit: 's', better: 'lower', value: purgeMs / 1000, detail: { deletedTags: deleted.size, deletedManifests: real.manifests.length } },
    { name: 'tags purged per second', unit: 'tags/s', better: 'higher', value: deleted.size / (purgeMs / 1000) },
  ];
}

/** The `repository:tag` names a report lists, restricted to the bench repository. */
function tagSet(report: PurgeReport): Set<string> {
  const outside = report.tags.find((tag) => tag.repository !== repository);
  if (outside) throw new Error(`the purge reached ${outside.repository}:${outside.tag}, outside ${repository}`);
  return new Set(report.tags.map((tag) => tag.tag));
}

/** What `a` has and `b` has not. */
function difference(a: Set<string>, b: Set<string>): string[] {
  return [...a].filter((item) => !b.has(item));
}

/** `tags/list` after the purge: the repository is gone (`NAME_UNKNOWN`) or lists no tag. */
async function expectNoTags(ctx: WorkloadContext): Promise<void> {
  const client = await ctx.connect(1, repository);
  try {
    const res = await client.send('GET', repository, `/v2/${repository}/tags/list`, { read: 'buffer' });
    expectStatus(res, [200, 404], `GET ${repository} tags/list`);
    const body = JSON.parse(res.body.toString('utf8')) as { tags?: string[] | null; errors?: { code: string }[] };
    if (res.status === 404 && body.errors?.[0]?.code !== 'NAME_UNKNOWN') throw new Error(`tags/list after the purge: 404 ${res.body.toString('utf8')}`);
    if (res.status === 200 && (body.tags ?? []).length > 0) throw new Error(`tags/list after the purge still lists ${body.tags!.length} tags (first: ${body.tags![0]})`);
  } finally {
    client.close();
  }
}
