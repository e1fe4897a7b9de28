/**
 * Workload 6: the full `tags/list` walk of a repository with many tags, in pages following the
 * `Link` headers over one keep-alive connection; the median of a few walks after a warm-up walk.
 * Creating the tags (one manifest PUT under every tag) is not timed.
 */
import { OCI_MANIFEST } from '../../src/oci/media-types.ts';
import { nextLink, type RegistryClient } from '../client.ts';
import { expectStatus } from '../http.ts';
import { makeSmallImage, pushSmallImage } from '../images.ts';
import { elapsedMs, median, now } from '../stats.ts';
import { runPool, type Metric, type Workload, type WorkloadContext } from './workload.ts';

interface Walk {
  ms: number;
  pages: number;
  tags: number;
  connections: number;
}

export const tagsWorkload: Workload = {
  name: 'tags',
  title: (s) => `tags/list walk with n=${s.tagPageSize} over one connection, median of ${s.tagWalks} walks`,
  async run(ctx) {
    const metrics: Metric[] = [];
    for (const count of ctx.sizes.tagCounts) {
      const repository = `bench/tags-${count}`;
      await createTags(ctx, repository, count);
      const client = await ctx.connect(1, repository);
      try {
        await walkTags(ctx, client, repository, count);
        const walks: Walk[] = [];
        for (let i = 0; i < ctx.sizes.tagWalks; i++) walks.push(await walkTags(ctx, client, repository, count));
        const ms = median(walks.map((w) => w.ms));
        const { pages, connections } = walks[0]!;
        ctx.log(`${count} tags: ${ms.toFixed(1)} ms per walk, ${pages} pages, ${connections} connection(s)`);
        metrics.push({
          name: `walk ${count} tags`,
          unit: 'ms',
          better: 'lower',
          value: ms,
          detail: { tags: count, pages, connections, walksMs: walks.map((w) => w.ms) },
        });
        // Registries that ignore `n` answer in one page; the walk times are then not like for like.
        metrics.push({ name: `  pages per walk of ${count}`, unit: '', better: 'none', value: pages });
      } finally {
        client.close();
      }
    }
    return metrics;
  },
};

async function createTags(ctx: WorkloadContext, repository: string, count: number): Promise<void> {
  const image = makeSmallImage(repository, ctx.sizes.smallLayerBytes);
  const concurrency = ctx.sizes.tagPutConcurrency;
  const client = await ctx.connect(concurrency, repository);
  try {
    await pushSmallImage(client, repository, tagName(0), image);
    await runPool(count - 1, concurrency, async (i) => {
      ctx.checkTime();
      await client.putManifest(repository, tagName(i + 1), image.manifest, OCI_MANIFEST);
    });
  } finally {
    client.close();
  }
}

/** Zero-padded so lexical and numeric order agree. */
function tagName(i: number): string {
  return `t-${String(i).padStart(6, '0')}`;
}

async function walkTags(ctx: WorkloadContext, client: RegistryClient, repository: string, expected: number): Promise<Walk> {
  const seen = new Set<string>();
  const sockets = new Set<unknown>();
  const maxPages = Math.ceil(expected / ctx.sizes.tagPageSize) + 10;
  let target: string | undefined = `/v2/${repository}/tags/list?n=${ctx.sizes.tagPageSize}`;
  let pages = 0;
  const start = now();
  while (target !== undefined) {
    if (++pages > maxPages) throw new Error(`tags walk: more than ${maxPages} pages`);
    ctx.checkTime();
    const res = await client.send('GET', repository, target, { read: 'buffer' });
    expectStatus(res, [200], `GET ${target}`);
    sockets.add(res.socket);
    const body = JSON.parse(res.body.toString('utf8')) as { tags?: string[] | null };
    for (const tag of body.tags ?? []) seen.add(tag);
    target = nextLink(res);
  }
  const ms = elapsedMs(start);
  if (seen.size !== expected) throw new Error(`tags walk of ${repository}: ${seen.size} distinct tags, expected ${expected}`);
  return { ms, pages, tags: seen.size, connections: sockets.size };
}
