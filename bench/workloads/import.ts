/**
 * Workload 8: copying a many-layer image from one local registry into the target. A
 * `docker-registry` started for this workload holds two images of the same shape (different
 * bytes, so neither copy profits from the other); the target receives one by Berth's server-side
 * import (`POST /mgmt/v1/registries/{r}/imports`, Berth only) and the other by `skopeo copy`,
 * each timed from start to the last byte in place: MB/s, and import / skopeo.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { basicAuthorization } from '../auth.ts';
import { servesBerthApi } from '../berth-api.ts';
import { pushGeneratedBlob } from '../blob-push.ts';
import { RegistryClient } from '../client.ts';
import { expectStatus, HttpClient } from '../http.ts';
import { formatBytes, type Credentials } from '../options.ts';
import { elapsedMs, megabytesPerSecond, now } from '../stats.ts';
import { distributionInstalled, startTarget, type RunningTarget } from '../targets.ts';
import { runPool, type Metric, type Workload, type WorkloadContext } from './workload.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const POLL_MS = 100;

interface SourceImage {
  repository: string;
  bytes: number;
}

export const importWorkload: Workload = {
  name: 'import',
  title: (s) => `Import of a ${s.importLayers}-layer image (${formatBytes(s.importLayers * s.importLayerBytes)}) from a local docker-registry: server-side import (Berth) and skopeo copy`,
  async skip() {
    if (!distributionInstalled()) return 'needs docker-registry as the source registry';
    if (spawnSync('skopeo', ['--version']).status !== 0) return 'needs skopeo';
    return undefined;
  },
  async run(ctx) {
    const source = await startTarget(
      { name: 'import-source', kind: 'distribution' },
      { workDir: ctx.scratchDir, projectRoot: process.cwd(), sampleIntervalMs: 60_000, startTimeoutMs: 20_000 },
    );
    try {
      const [forImport, forSkopeo] = await Promise.all([pushLayeredImage(ctx, source, 'bench/import-a'), pushLayeredImage(ctx, source, 'bench/import-b')]);
      const metrics: Metric[] = [];
      let importRate: number | undefined;
      if (ctx.target.credentials && (await servesBerthApi(ctx.target.url))) {
        ctx.checkTime();
        importRate = await timedImport(ctx, source, forImport, ctx.target.credentials);
        metrics.push({ name: 'server-side import', unit: 'MB/s', better: 'higher', value: importRate, detail: { bytes: forImport.bytes } });
      }
      ctx.checkTime();
      const skopeoRate = await timedSkopeoCopy(ctx, source, forSkopeo);
      metrics.push({ name: 'skopeo copy', unit: 'MB/s', better: 'higher', value: skopeoRate, detail: { bytes: forSkopeo.bytes } });
      if (importRate !== undefined) metrics.push({ name: 'import / skopeo copy', unit: 'x', better: 'higher', value: importRate / skopeoRate });
      return metrics;
    } finally {
      await source.stop();
    }
  },
};

/** Pushes config, `importLayers` generated layers and the manifest to `repository:1` of the source. */
async function pushLayeredImage(ctx: WorkloadContext, source: RunningTarget, repository: string): Promise<SourceImage> {
  const client = await RegistryClient.connect(source.url, { maxSockets: 8 });
  try {
    const layers = Array.from({ length: ctx.sizes.importLayers }, (_, index) => ctx.blob(`${repository}-layer-${index}`, ctx.sizes.importLayerBytes));
    const digests: string[] = [];
    await runPool(layers.length, 8, async (index) => {
      ctx.checkTime();
      digests[index] = await layers[index]!.digest();
      await pushGeneratedBlob(client, repository, layers[index]!, 'monolithic', ctx.sizes.chunkBytes);
    });
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: digests } }));
    const configDigest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
    await client.pushSmallBlob(repository, config, configDigest);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
        layers: digests.map((digest) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest, size: ctx.sizes.importLayerBytes })),
      }),
    );
    await client.putManifest(repository, '1', manifest, OCI_MANIFEST);
    return { repository, bytes: config.length + layers.length * ctx.sizes.importLayerBytes };
  } finally {
    client.close();
  }
}

/** Imports into a registry created for the run (and deleted after), polling the job to its end. */
async function timedImport(ctx: WorkloadContext, source: RunningTarget, image: SourceImage, owner: Credentials): Promise<number> {
  const http = new HttpClient(ctx.target.url, 2);
  const authorization = basicAuthorization(owner);
  const registry = `benchimport${randomBytes(4).toString('hex')}`;
  const call = async (method: string, path: string, body: unknown, expected: number[]) => {
    const headers: Record<string, string> = { Authorization: authorization };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await http.request(method, `/mgmt/v1${path}`, { headers, body: body === undefined ? undefined : JSON.stringify(body), read: 'buffer' });
    expectStatus(res, expected, `${method} ${path}`);
    return res.body.length > 0 ? (JSON.parse(res.body.toString('utf8')) as Record<string, unknown>) : {};
  };
  try {
    await call('POST', '/registries', { name: registry }, [201]);
    const started = now();
    const job = await call('POST', `/registries/${registry}/imports`, { source: { sourceImage: `${new URL(source.url).host}/${image.repository}:1` }, targetTags: ['imported:1'] }, [202]);
    let state = job;
    while (state.status === 'Running') {
      ctx.checkTime();
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      state = await call('GET', `/registries/${registry}/imports/${String(job.id)}`, undefined, [200]);
    }
    const ms = elapsedMs(started);
    if (state.status !== 'Succeeded') throw new Error(`import ended ${String(state.status)}: ${String(state.error)}`);
    const rate = megabytesPerSecond(image.bytes, ms);
    ctx.log(`server-side import: ${rate.toFixed(1)} MB/s (${(ms / 1000).toFixed(2)} s)`);
    return rate;
  } finally {
    await call('DELETE', `/registries/${registry}`, undefined, [204]).catch((error: unknown) => ctx.log(`could not delete ${registry}: ${(error as Error).message}`));
    http.close();
  }
}

/** `skopeo copy docker://source/... docker://target/...` into a fresh repository. */
async function timedSkopeoCopy(ctx: WorkloadContext, source: RunningTarget, image: SourceImage): Promise<number> {
  const destination = `${new URL(ctx.target.url).host}/bench/skopeo-${randomBytes(4).toString('hex')}:1`;
  const credentials = ctx.target.credentials;
  const args = [
    'copy',
    '--quiet',
    '--src-tls-verify=false',
    '--dest-tls-verify=false',
    ...(credentials ? ['--dest-creds', `${credentials.username}:${credentials.password}`] : []),
    `docker://${new URL(source.url).host}/${image.repository}:1`,
    `docker://${destination}`,
  ];
  const started = now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn('skopeo', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`skopeo copy exited ${code}: ${stderr.trim()}`))));
  });
  const ms = elapsedMs(started);
  const rate = megabytesPerSecond(image.bytes, ms);
  ctx.log(`skopeo copy: ${rate.toFixed(1)} MB/s (${(ms / 1000).toFixed(2)} s)`);
  return rate;
}
