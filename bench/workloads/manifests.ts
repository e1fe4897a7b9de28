/**
 * Workload 4: manifest HEAD and GET by tag under fixed-duration load on many keep-alive
 * connections: requests/s and p50/p99 latency, after an unmeasured warm-up.
 */
import { OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST } from '../../src/oci/media-types.ts';
import { makeSmallImage, pushSmallImage } from '../images.ts';
import { checkLoadErrors, runLoad } from '../loadgen/load.ts';
import type { Metric, Workload } from './workload.ts';

const repository = 'bench/manifest';
const tag = 'latest';
/** What docker sends when it pulls by tag. */
export const manifestAccept = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST].join(', ');

export const manifestsWorkload: Workload = {
  name: 'manifests',
  title: (s) => `Manifest HEAD/GET by tag, ${s.manifestConnections} keep-alive connections, ${s.manifestSeconds} s each`,
  async run(ctx) {
    const client = await ctx.connect(1, repository);
    let headers: Record<string, string>;
    try {
      await pushSmallImage(client, repository, tag, makeSmallImage('manifest-workload', ctx.sizes.smallLayerBytes));
      headers = { Accept: manifestAccept, ...(await client.authHeaders(repository)) };
    } finally {
      client.close();
    }

    const metrics: Metric[] = [];
    for (const method of ['HEAD', 'GET'] as const) {
      ctx.checkTime();
      const request = {
        url: `${ctx.target.url}/v2/${repository}/manifests/${tag}`,
        method,
        headers,
        connections: ctx.sizes.manifestConnections,
        scratchDir: ctx.scratchDir,
      };
      await runLoad(ctx.load, { ...request, seconds: ctx.sizes.manifestWarmupSeconds });
      const result = await runLoad(ctx.load, { ...request, seconds: ctx.sizes.manifestSeconds });
      checkLoadErrors(method, result);
      ctx.log(
        `${method}: ${result.requestsPerSecond.toFixed(0)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms (${result.tool})`,
      );
      const detail = { ...result };
      const by = `[${result.tool}]`;
      metrics.push(
        { name: `${method} requests/s ${by}`, unit: 'req/s', better: 'higher', value: result.requestsPerSecond, detail },
        { name: `${method} p50 latency ${by}`, unit: 'ms', better: 'lower', value: result.p50Ms },
        { name: `${method} p99 latency ${by}`, unit: 'ms', better: 'lower', value: result.p99Ms },
      );
    }
    return metrics;
  },
};
