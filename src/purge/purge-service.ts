/**
 * `berth purge`, run by the server: parse and compile every input first, read a snapshot of the
 * matching repositories, plan (plan.ts), then (unless a dry run) delete what the plan lists through
 * the manifest service, so locks are enforced as for any other delete. A dry run returns the
 * same plan a real run at that moment executes.
 */
import { parseManifest } from '../oci/manifest.ts';
import type { AttributeStore, ChangeableAttributes } from '../meta/attribute-store.ts';
import type { MetaStore } from '../meta/meta-store.ts';
import type { ManifestService } from '../services/manifests.ts';
import { parseAgo, parseFilter, PurgeInputError, tagMatchers, type PurgeFilter } from './filter.ts';
import { planPurge, type PlannedManifest, type PlannedTag, type PurgeOptions, type RepositoryState } from './plan.ts';

export interface PurgeRequest {
  filters?: string[];
  ago?: string;
  keep?: number;
  untagged?: boolean;
  untaggedOnly?: boolean;
  dryRun?: boolean;
  includeLocked?: boolean;
  concurrency?: number;
}

export interface PurgeFailure {
  repository: string;
  tag?: string;
  digest?: string;
  error: string;
}

export interface PurgeReport {
  registry: string;
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  /** Deleted, or with a dry run, to be deleted. */
  tags: PlannedTag[];
  manifests: Omit<PlannedManifest, 'wave'>[];
  failed: PurgeFailure[];
}

/** acr purge's bound: the most parallel deletes ACR recommends. */
export const MAX_CONCURRENCY = 32;

const locked = (attributes: Pick<ChangeableAttributes, 'deleteEnabled' | 'writeEnabled'>) => !attributes.deleteEnabled || !attributes.writeEnabled;
const unlocked = { deleteEnabled: true, writeEnabled: true };

interface Validated {
  filters: PurgeFilter[];
  options: PurgeOptions;
  concurrency: number;
}

export function validatePurgeRequest(request: PurgeRequest): Validated {
  if (request.untagged && request.untaggedOnly) throw new PurgeInputError('--untagged and --untagged-only cannot be used together');
  const filters = (request.filters ?? []).map(parseFilter);
  if (filters.length === 0 && !request.untaggedOnly) throw new PurgeInputError('at least one --filter is required');
  if (request.ago === undefined && !request.untaggedOnly) throw new PurgeInputError('--ago is required when deleting tags');
  const keep = request.keep ?? 0;
  if (!Number.isInteger(keep) || keep < 0) throw new PurgeInputError('--keep must be a whole number, 0 or more');
  const concurrency = Math.min(Math.max(Math.trunc(request.concurrency ?? 4), 1), MAX_CONCURRENCY);
  return {
    filters,
    concurrency,
    options: {
      agoMs: request.ago === undefined ? undefined : parseAgo(request.ago),
      keep,
      untagged: request.untagged === true,
      untaggedOnly: request.untaggedOnly === true,
      includeLocked: request.includeLocked === true,
    },
  };
}

/** Runs `work` over `items` with at most `limit` at a time. */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** The caller may not delete in a repository the purge covers. */
export class PurgeForbiddenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PurgeForbiddenError';
  }
}

async function checkDeleteRights(registry: string, repositories: readonly string[], mayDelete: (repository: string) => Promise<boolean>): Promise<void> {
  const refused: string[] = [];
  for (const repository of repositories) {
    if (!(await mayDelete(repository))) refused.push(repository);
  }
  if (refused.length === 0) return;
  const named = refused.slice(0, 3).join(', ') + (refused.length > 3 ? ` and ${refused.length - 3} more` : '');
  throw new PurgeForbiddenError(`the caller may not delete in ${registry}/${named}; purge needs delete rights (and with --include-locked, metadata write rights) on every repository it covers`);
}

export class PurgeService {
  constructor(
    private readonly meta: Pick<MetaStore, 'listRepositories' | 'listTagDetails' | 'listManifestDetails' | 'getManifestByDigest'> & { attributes: Pick<AttributeStore, 'updateTag' | 'updateManifest'> },
    private readonly manifests: Pick<ManifestService, 'delete'>,
  ) {}

  /**
   * Throws `PurgeInputError` for bad input, and `PurgeForbiddenError` when `mayDelete` refuses a
   * repository the filters match, before reading or deleting anything else.
   */
  async run(registry: string, request: PurgeRequest, mayDelete?: (repository: string) => Promise<boolean>): Promise<PurgeReport> {
    const { filters, options, concurrency } = validatePurgeRequest(request);
    const startedAt = new Date();
    const repositories = await this.meta.listRepositories(registry, {});
    // --untagged-only without a filter covers every repository; with one, only its repository part counts.
    const matchers = options.untaggedOnly && filters.length === 0 ? new Map(repositories.map((name) => [name, () => false])) : tagMatchers(filters, repositories);
    if (mayDelete) await checkDeleteRights(registry, [...matchers.keys()], mayDelete);
    const states: RepositoryState[] = [];
    for (const repository of repositories) {
      if (matchers.has(repository)) states.push(await this.snapshot(registry, repository, options.untagged || options.untaggedOnly));
    }
    const plan = planPurge(states, matchers, options, startedAt.getTime());
    const failed: PurgeFailure[] = [];
    if (request.dryRun !== true) await this.execute(registry, plan.tags, plan.manifests, options.includeLocked, concurrency, failed);
    const failedTags = new Set(failed.filter((f) => f.tag).map((f) => `${f.repository}:${f.tag}`));
    const failedManifests = new Set(failed.filter((f) => f.digest).map((f) => `${f.repository}@${f.digest}`));
    return {
      registry,
      dryRun: request.dryRun === true,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      tags: plan.tags.filter((tag) => !failedTags.has(`${tag.repository}:${tag.tag}`)),
      manifests: plan.manifests
        .filter((manifest) => !failedManifests.has(`${manifest.repository}@${manifest.digest}`))
        .map(({ repository, digest, reason }) => ({ repository, digest, reason })),
      failed,
    };
  }

  private async snapshot(registry: string, repository: string, withReferences: boolean): Promise<RepositoryState> {
    const tags = await this.meta.listTagDetails(registry, repository, {});
    const manifests = withReferences ? await this.meta.listManifestDetails(registry, repository, {}) : [];
    const states = [];
    for (const manifest of manifests) {
      const record = await this.meta.getManifestByDigest(registry, repository, manifest.digest);
      if (!record) continue;
      const parsed = parseManifest(record.content, record.mediaType);
      states.push({
        digest: manifest.digest,
        mediaType: manifest.mediaType,
        lastUpdateTime: manifest.lastUpdateTime,
        tags: manifest.tags,
        children: parsed.manifests.map((child) => child.digest),
        subject: record.subject,
        locked: locked(manifest.changeableAttributes),
      });
    }
    return {
      repository,
      tags: tags.map((tag) => ({ name: tag.name, digest: tag.digest, lastUpdateTime: tag.lastUpdateTime, locked: locked(tag.changeableAttributes) })),
      manifests: states,
    };
  }

  private async execute(
    registry: string,
    tags: PlannedTag[],
    manifests: PlannedManifest[],
    includeLocked: boolean,
    concurrency: number,
    failed: PurgeFailure[],
  ): Promise<void> {
    await eachLimited(tags, concurrency, async ({ repository, tag }) => {
      try {
        if (includeLocked) await this.meta.attributes.updateTag(registry, repository, tag, unlocked);
        await this.manifests.delete(registry, repository, { kind: 'tag', tag });
      } catch (error) {
        failed.push({ repository, tag, error: (error as Error).message });
      }
    });
    const lastWave = Math.max(-1, ...manifests.map((manifest) => manifest.wave));
    for (let wave = 0; wave <= lastWave; wave++) {
      await eachLimited(manifests.filter((manifest) => manifest.wave === wave), concurrency, async ({ repository, digest }) => {
        try {
          if (includeLocked) await this.meta.attributes.updateManifest(registry, repository, digest, unlocked);
          await this.manifests.delete(registry, repository, { kind: 'digest', digest });
        } catch (error) {
          failed.push({ repository, digest, error: (error as Error).message });
        }
      });
    }
  }
}
