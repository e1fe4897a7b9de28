/**
 * Importing an image into a registry: a server-side copy from a remote registry (as a registry
 * client) or from another registry of this installation (links, no byte copies).
 *
 * Order of work, so that nothing half-imported is ever visible:
 * 1. read every manifest of the image from the source and validate it (`walk.ts`);
 * 2. put every blob in place in each target repository: skipped when already linked there,
 *    linked when the target registry (or, for a source in this installation, the source
 *    repository) holds it, otherwise streamed from the source into the blob store with size and
 *    digest checked as the bytes flow;
 * 3. only then write the manifests, children before the index, and the tags last of all.
 * A failure before step 3 leaves at most blob links in the target repository, which no image
 * refers to: a repeated import skips them, and garbage collection reclaims them otherwise.
 *
 * Bytes held by another registry are not linked on a remote source's word: the source must send
 * them (and they are then stored once), or an import could read another registry's blobs by digest.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { ChangeOrigin } from '../meta/event-store.ts';
import type { MetaStore } from '../meta/meta-store.ts';
import { RegistryNotFoundError } from '../meta/meta-store.ts';
import { RegistryError } from '../oci/errors.ts';
import type { OutboundPipeline } from '../outbound/pipeline.ts';
import { registryAuthPolicy } from '../outbound/registry-auth.ts';
import type { RegistryCredentials } from '../outbound/registry-challenge.ts';
import { retryDecision, type RetryOptions } from '../outbound/retry.ts';
import type { BlobService } from '../services/blobs.ts';
import type { ManifestService } from '../services/manifests.ts';
import type { UploadService } from '../services/uploads.ts';
import { InstallationSource } from './installation-source.ts';
import { ImportJobs, type ImportJob } from './jobs.ts';
import { RemoteSource } from './remote-source.ts';
import { formatSourceImage, parseSourceImage, resolveTargets, sourceBaseUrl, sourceManifestReference, type ImportTarget, type SourceImage } from './source-reference.ts';
import { ImportError, type BlobSink, type SourceReader } from './source-reader.ts';
import { walkImage, type ImageWalk, type WalkedBlob } from './walk.ts';

export interface ImportRequest {
  /** The target registry. */
  registry: string;
  /** `host/repo:tag`, `host/repo@digest`, or with `sourceRegistry` `repo:tag`. */
  source: string;
  /** A registry of this installation to import from, by name. */
  sourceRegistry?: string;
  /** `repo:tag` targets. */
  targetTags?: string[];
  /** Repositories to import into without a tag. */
  untaggedTargetRepositories?: string[];
  /** Overwrite existing target tags. */
  force?: boolean;
  /** For a remote source. */
  credentials?: RegistryCredentials;
  /** The request that started the import, for the push events of what it writes. */
  origin?: ChangeOrigin;
}

/** A checked request: what it reads and what it writes, for authorization before it starts. */
export interface ImportPlan {
  request: ImportRequest;
  source: SourceImage;
  /** The registry of this installation the source is in, or null for a remote source. */
  sourceRegistry: string | null;
  targets: ImportTarget[];
}

export interface ImportServiceOptions {
  meta: MetaStore;
  blobs: BlobService;
  manifests: ManifestService;
  uploads: UploadService;
  /** The outbound pipeline to remote sources (request id, user agent, retry, timeout); auth is added per import. */
  pipeline: OutboundPipeline;
  /** Which registry of this installation a login server (`host[:port]`) names, if any. */
  installationRegistryOf: (host: string) => Promise<string | undefined>;
  /** Hosts reached over plain http although not loopback. */
  insecureRegistries?: readonly string[];
  /** Blobs transferred at the same time. */
  concurrency?: number;
  /** A blob download delivering no byte for this long is abandoned (and retried). */
  stallTimeoutMs?: number;
  /** Retries of a blob whose download broke off. */
  transferRetry?: RetryOptions;
  /** Failures nobody expected are logged here (the job shows a generic message). */
  logError?: (error: unknown, job: ImportJob) => void;
}

const DEFAULT_TRANSFER_RETRY: RetryOptions = { maxRetries: 3, baseDelayMs: 500, maxDelayMs: 10_000 };

export class ImportService {
  readonly jobs = new ImportJobs();
  private readonly running = new Map<string, Promise<void>>();
  private readonly shutdown = new AbortController();

  constructor(private readonly options: ImportServiceOptions) {}

  /** Parses and checks a request. Throws `RegistryError` (bad names) or `ImportError` (bad combination). */
  async plan(request: ImportRequest): Promise<ImportPlan> {
    let sourceRegistry = request.sourceRegistry ?? null;
    if (sourceRegistry !== null && !(await this.options.meta.getRegistry(sourceRegistry))) {
      throw new ImportError(`the source registry ${sourceRegistry} does not exist in this installation`);
    }
    const source = parseSourceImage(request.source, sourceRegistry !== null);
    if (source.host !== null) {
      const own = await this.options.installationRegistryOf(source.host);
      if (own !== undefined) sourceRegistry = own;
    }
    const targets = resolveTargets(request.targetTags ?? [], request.untaggedTargetRepositories ?? [], source);
    if (sourceRegistry === request.registry && targets.some((target) => target.repository === source.repository && target.tags.length === 0)) {
      throw new ImportError(`the source and target are the same repository; name a tag or another repository`);
    }
    return { request, source, sourceRegistry, targets };
  }

  /** Target tags that exist already (which an import without `force` refuses to move). */
  async existingTags(plan: ImportPlan): Promise<string[]> {
    const existing: string[] = [];
    for (const target of plan.targets) {
      for (const tag of target.tags) {
        if (await this.options.meta.getManifestByTag(plan.request.registry, target.repository, tag)) existing.push(`${target.repository}:${tag}`);
      }
    }
    return existing;
  }

  /** Starts the import in the background and returns its job. */
  start(plan: ImportPlan): ImportJob {
    const { request } = plan;
    if (this.shutdown.signal.aborted) throw new ImportError('the server is shutting down');
    const job = this.jobs.create({
      registry: request.registry,
      source: formatSourceImage(plan.source),
      sourceRegistry: plan.sourceRegistry,
      targetTags: plan.targets.flatMap((target) => target.tags.map((tag) => `${target.repository}:${tag}`)),
      untaggedTargetRepositories: plan.targets.filter((target) => target.tags.length === 0).map((target) => target.repository),
      mode: request.force ? 'Force' : 'NoForce',
    });
    const run = this.run(job, plan).finally(() => this.running.delete(job.id));
    this.running.set(job.id, run);
    return job;
  }

  /** Resolves when the job has finished (at once for an unknown or finished job). */
  async finished(id: string): Promise<void> {
    await this.running.get(id);
  }

  /** Cancels the running imports (they fail, leaving nothing visible) and waits for them to end. */
  async close(): Promise<void> {
    this.shutdown.abort(new ImportError('the server is shutting down'));
    await Promise.allSettled([...this.running.values()]);
  }

  private async run(job: ImportJob, plan: ImportPlan): Promise<void> {
    try {
      const reader = this.reader(plan);
      const walk = await walkImage(reader, sourceManifestReference(plan.source));
      job.digest = walk.top.digest;
      job.mediaType = walk.top.parsed.mediaType;
      job.progress.manifests.total = walk.children.length + 1;
      await this.refuseExistingTags(plan);
      await this.placeBlobs(job, plan, reader, walk);
      await this.writeManifests(job, plan, walk);
      this.jobs.succeed(job);
    } catch (error) {
      // Whatever broke while the server was stopping, the stop is the reason.
      const stopped = this.shutdown.signal.aborted;
      this.jobs.fail(job, stopped ? 'the server shut down before the import finished; nothing was imported, import again' : this.messageOf(error, job));
    }
  }

  private reader(plan: ImportPlan): SourceReader {
    if (plan.sourceRegistry !== null) return new InstallationSource(this.options.meta, plan.sourceRegistry, plan.source.repository);
    const credentials = plan.request.credentials;
    return new RemoteSource(this.options.pipeline.with(registryAuthPolicy({ credentials }), { before: 'timeout' }), {
      baseUrl: sourceBaseUrl(plan.source.host!, this.options.insecureRegistries),
      repository: plan.source.repository,
      withCredentials: credentials !== undefined,
      stallTimeoutMs: this.options.stallTimeoutMs ?? 60_000,
      signal: this.shutdown.signal,
    });
  }

  private async refuseExistingTags(plan: ImportPlan): Promise<void> {
    if (plan.request.force) return;
    const existing = await this.existingTags(plan);
    if (existing.length > 0) throw new ImportError(`${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''} in registry ${plan.request.registry}; use --force to overwrite`);
  }

  /**
   * Every blob of the image in every target repository, transferring each at most once. What to
   * do is decided from the state before any write (for the progress totals); links are then made
   * through checks that hold against a garbage collection running meanwhile, and a blob found
   * gone after all is fetched from the source instead.
   */
  private async placeBlobs(job: ImportJob, plan: ImportPlan, reader: SourceReader, walk: ImageWalk): Promise<void> {
    const { meta } = this.options;
    const registry = plan.request.registry;
    const remote = plan.sourceRegistry === null;
    const delivering = new Set<string>();
    const work: { repository: string; blob: WalkedBlob; action: 'keep' | 'mount' | 'deliver' }[] = [];
    for (const target of plan.targets) {
      for (const blob of walk.blobs) {
        let action: 'keep' | 'mount' | 'deliver';
        if (await meta.getRepositoryBlob(registry, target.repository, blob.digest)) action = 'keep';
        else if (delivering.has(blob.digest) || (await meta.findRegistryBlob(registry, blob.digest))) action = 'mount';
        else action = 'deliver';
        if (action === 'deliver') {
          delivering.add(blob.digest);
          if (remote) job.progress.bytes.total += blob.size;
        }
        work.push({ repository: target.repository, blob, action });
      }
    }
    job.progress.blobs.total = work.length;

    const deliver = async (repository: string, blob: WalkedBlob) => {
      const how = await this.deliver(job, reader, this.sink(registry, repository), blob);
      if (how === 'copied') job.progress.blobs.copied++;
      else job.progress.blobs.linked++;
    };
    await forEachLimited(work.filter((item) => item.action === 'deliver'), this.options.concurrency ?? 4, ({ repository, blob }) => deliver(repository, blob));
    for (const { repository, blob, action } of work) {
      if (action === 'deliver') continue;
      // Confirming a link restarts its grace period, so a collection cannot take it before the manifest refers to it.
      if (action === 'keep' && (await meta.refreshBlobLink(registry, repository, blob.digest))) {
        job.progress.blobs.skipped++;
      } else if (await meta.mountBlob(registry, repository, blob.digest)) {
        job.progress.blobs.linked++;
      } else {
        if (remote) job.progress.bytes.total += blob.size;
        await deliver(repository, blob);
      }
    }
  }

  /** One blob from the source, retried from the start when its download breaks off. */
  private async deliver(job: ImportJob, reader: SourceReader, sink: BlobSink, blob: WalkedBlob): Promise<'copied' | 'linked'> {
    const retry = this.options.transferRetry ?? DEFAULT_TRANSFER_RETRY;
    for (let attempt = 1; ; attempt++) {
      let delivered = 0;
      const counting: BlobSink = {
        link: (digest, size) => sink.link(digest, size),
        write: (digest, size, bytes) => sink.write(digest, size, countBytes(bytes, (count) => {
          delivered += count;
          job.progress.bytes.copied += count;
        })),
      };
      try {
        return await reader.deliverBlob(blob, counting);
      } catch (error) {
        job.progress.bytes.copied -= delivered;
        const decision = this.shutdown.signal.aborted ? { retry: false as const } : retryDecision({ error }, attempt, retry);
        if (!decision.retry) throw withContext(error, blob);
        await delay(decision.delayMs, undefined, { signal: this.shutdown.signal }).catch(() => {
          throw new ImportError('the server is shutting down');
        });
      }
    }
  }

  private sink(registry: string, repository: string): BlobSink {
    const { meta, blobs, uploads } = this.options;
    return {
      async link(digest, size) {
        await meta.linkBlob(registry, repository, digest, size);
        // A collection that took the bytes just before this link committed leaves a link to
        // nothing: checked after the link, which a later collection would see and respect.
        if (!(await blobs.isStored(digest))) {
          await meta.unlinkBlob(registry, repository, digest);
          throw new ImportError(`blob ${digest} is no longer in this installation's storage`);
        }
      },
      async write(digest, size, bytes) {
        try {
          await uploads.putMonolithic(registry, repository, digest, exactly(bytes, size, digest));
        } catch (error) {
          if (error instanceof RegistryError && error.code === 'DIGEST_INVALID') {
            throw new ImportError(`blob ${digest}: the source sent content with another digest`, { cause: error });
          }
          throw error;
        }
      },
    };
  }

  private async writeManifests(job: ImportJob, plan: ImportPlan, walk: ImageWalk): Promise<void> {
    const { manifests } = this.options;
    const registry = plan.request.registry;
    for (const target of plan.targets) {
      for (const child of walk.children) {
        await manifests.put(registry, target.repository, { kind: 'digest', digest: child.digest }, child.content, child.mediaType, [], plan.request.origin);
      }
    }
    job.progress.manifests.copied = walk.children.length;
    // A tag may have appeared while the blobs were copied.
    await this.refuseExistingTags(plan);
    for (const target of plan.targets) {
      await manifests.put(registry, target.repository, { kind: 'digest', digest: walk.top.digest }, walk.top.content, walk.top.mediaType, target.tags, plan.request.origin);
    }
    job.progress.manifests.copied++;
  }

  private messageOf(error: unknown, job: ImportJob): string {
    if (error instanceof ImportError) return error.message;
    if (error instanceof RegistryError) return error.message;
    if (error instanceof RegistryNotFoundError) return `the registry ${error.registry} does not exist any more`;
    this.options.logError?.(error, job);
    return `the import failed unexpectedly (${(error as Error).message ?? String(error)})`;
  }
}

/** Names the manifest a failed blob belongs to. */
function withContext(error: unknown, blob: WalkedBlob): unknown {
  if (!(error instanceof Error)) return error;
  return new ImportError(`${error.message} (a blob of the ${blob.of})`, { cause: error });
}

async function* countBytes(source: AsyncIterable<Uint8Array>, count: (bytes: number) => void): AsyncIterable<Uint8Array> {
  for await (const chunk of source) {
    count(chunk.length);
    yield chunk;
  }
}

/** The source's bytes, refused as soon as they exceed `size` and at the end if they fall short. */
async function* exactly(source: AsyncIterable<Uint8Array>, size: number, digest: string): AsyncIterable<Uint8Array> {
  let seen = 0;
  for await (const chunk of source) {
    seen += chunk.length;
    if (seen > size) throw new ImportError(`blob ${digest}: the source sent more than the ${size} bytes its manifest declares`);
    yield chunk;
  }
  if (seen !== size) throw new ImportError(`blob ${digest}: the source sent ${seen} bytes, its manifest declares ${size}`);
}

/** Runs `work` over `items`, at most `limit` at a time; the first failure stops new work and is thrown. */
async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const rejected = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (rejected) throw rejected.reason;
}
