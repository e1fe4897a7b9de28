/**
 * Every write a mirror makes, all through the import service — blobs linked within the
 * installation (or streamed from an external source), manifests put through the manifest service
 * as registry pushes are, so locks, quota, events and triggers apply:
 * - staging: upstream digest D into `staging/<repo>:staged-<short D>`;
 * - promotion: the staged manifest under the target tag and a unique tag, then pruning unique tags
 *   beyond the mirror's limit;
 * - rollback: the target tag back to a digest promoted before.
 * A mirror's promotions and rollbacks take turns, so a rollback never interleaves with a promotion.
 */
import { randomUUID } from 'node:crypto';
import { principalName } from '../auth/principal.ts';
import type { ImportRequest, ImportService } from '../import/import-service.ts';
import { ImportError } from '../import/source-reader.ts';
import type { ChangeOrigin } from '../meta/event-store.ts';
import type { MetaStore } from '../meta/meta-store.ts';
import { RegistryError } from '../oci/errors.ts';
import type { RegistryCredentials } from '../outbound/registry-challenge.ts';
import type { ManifestService } from '../services/manifests.ts';
import { KeyedQueue } from './keyed-queue.ts';
import { MirrorError } from './mirror-error.ts';
import { stagingRepositoryOf } from './mirror-source.ts';
import type { MirrorHistoryEntry, MirrorRecord, MirrorStore } from './mirror-store.ts';

export interface MirrorTargetOptions {
  store: MirrorStore;
  meta: Pick<MetaStore, 'getManifestByDigest' | 'getManifestByTag'>;
  imports: Pick<ImportService, 'plan' | 'start' | 'finished'>;
  manifests: Pick<ManifestService, 'delete'>;
  /** `host[:port]` of a registry of this installation. */
  loginServer(registry: string): string;
}

/** `staged-<first 12 hex digits>`: the staging tag of a digest. */
export function stagingTagOf(digest: string): string {
  return `staged-${digest.slice(digest.indexOf(':') + 1, digest.indexOf(':') + 13)}`;
}

/** `yyyyMMddHHmmss` in UTC. */
function compactTime(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

export class MirrorTarget {
  readonly #options: MirrorTargetOptions;
  readonly #turns = new KeyedQueue();

  constructor(options: MirrorTargetOptions) {
    this.#options = options;
  }

  /** Copies upstream digest D into the staging repository. */
  async stage(mirror: MirrorRecord, digest: string, credentials: RegistryCredentials | undefined): Promise<void> {
    const { source } = mirror;
    await this.#import(mirror, {
      registry: mirror.registry,
      source: source.registry !== null ? `${source.repository}@${digest}` : `${source.host}/${source.repository}@${digest}`,
      ...(source.registry !== null && { sourceRegistry: source.registry }),
      targetTags: [`${stagingRepositoryOf(mirror.repository)}:${stagingTagOf(digest)}`],
      force: true,
      ...(credentials && { credentials }),
    });
  }

  /**
   * Puts the staged digest under the target tag and a unique tag (`<tag>-<run id>`, or
   * `<tag>-<yyyyMMddHHmmss>` without a validation run), records the promotion, then prunes.
   */
  async promote(mirror: MirrorRecord, entry: MirrorHistoryEntry, runId: string | null): Promise<string> {
    return await this.#turns.run(keyOf(mirror), async () => {
      const uniqueTag = `${mirror.tag}-${runId ?? compactTime(new Date())}`;
      await this.#import(mirror, {
        registry: mirror.registry,
        sourceRegistry: mirror.registry,
        source: `${stagingRepositoryOf(mirror.repository)}@${entry.digest}`,
        targetTags: [`${mirror.repository}:${mirror.tag}`, `${mirror.repository}:${uniqueTag}`],
        force: true,
      });
      await this.#options.store.promoted(entry.id, uniqueTag, null);
      await this.#prune(mirror, entry.digest);
      return uniqueTag;
    });
  }

  /**
   * Moves the target tag back: to `to` (a digest or unique tag the mirror promoted), or to the
   * digest promoted before the current one. Records a `RolledBack` entry.
   */
  async rollback(mirror: MirrorRecord, to: string | undefined): Promise<MirrorHistoryEntry> {
    return await this.#turns.run(keyOf(mirror), async () => {
      const { store, meta } = this.#options;
      const fresh = (await store.getMirror(mirror.registry, mirror.name)) ?? mirror;
      const promoted = (await store.history(mirror.registry, mirror.name)).filter((entry) => entry.status === 'Promoted');
      const digest = to !== undefined ? chosen(promoted, to, mirror.name) : previousOf(promoted, fresh.currentDigest, mirror.name);
      const current = await meta.getManifestByTag(mirror.registry, mirror.repository, mirror.tag);
      if (current?.digest === digest) throw new MirrorError('conflict', `${mirror.repository}:${mirror.tag} already points at ${digest}`);
      const inTarget = await meta.getManifestByDigest(mirror.registry, mirror.repository, digest);
      const from = inTarget ? mirror.repository : stagingRepositoryOf(mirror.repository);
      if (!inTarget && !(await meta.getManifestByDigest(mirror.registry, from, digest))) {
        throw new MirrorError('conflict', `${digest} is no longer in ${mirror.repository} or ${from}; it cannot be restored`);
      }
      await this.#import(mirror, { registry: mirror.registry, sourceRegistry: mirror.registry, source: `${from}@${digest}`, targetTags: [`${mirror.repository}:${mirror.tag}`], force: true });
      return await store.rolledBack(mirror.registry, mirror.name, digest, `${mirror.repository}:${mirror.tag} moved back from ${current?.digest ?? 'nothing'} to ${digest}`);
    });
  }

  /** Removes the mirror's unique tags beyond its limit, newest kept, never one on the current digest. */
  async #prune(mirror: MirrorRecord, currentDigest: string): Promise<void> {
    if (mirror.keepUniqueTags === null) return;
    const { store, meta, manifests } = this.#options;
    const tagged = (await store.history(mirror.registry, mirror.name)).filter((entry) => entry.status === 'Promoted' && entry.uniqueTag !== null);
    for (const entry of tagged.slice(mirror.keepUniqueTags)) {
      if (entry.digest === currentDigest) continue;
      const tag = entry.uniqueTag!;
      // Only a tag still where the mirror put it; one moved by someone else is theirs.
      if ((await meta.getManifestByTag(mirror.registry, mirror.repository, tag))?.digest !== entry.digest) continue;
      try {
        await manifests.delete(mirror.registry, mirror.repository, { kind: 'tag', tag }, this.#origin(mirror, 'DELETE'));
      } catch (error) {
        if (!(error instanceof RegistryError)) throw error;
        await store.updateEntry(entry.id, { message: `unique tag ${tag} was not pruned: ${error.message}` });
      }
    }
  }

  async #import(mirror: MirrorRecord, request: Omit<ImportRequest, 'origin'>): Promise<void> {
    const { imports } = this.#options;
    try {
      const plan = await imports.plan({ ...request, origin: this.#origin(mirror, 'PUT') });
      const job = imports.start(plan);
      await imports.finished(job.id);
      if (job.status !== 'Succeeded') throw new ImportError(job.error ?? 'the import failed');
    } catch (error) {
      if (error instanceof RegistryError) throw new ImportError(error.message, { cause: error });
      throw error;
    }
  }

  /** The writes' events name the mirror's creator and the mirror. */
  #origin(mirror: MirrorRecord, method: string): ChangeOrigin {
    return {
      requestId: randomUUID(),
      host: this.#options.loginServer(mirror.registry),
      method,
      userAgent: `berth-mirror (${mirror.registry}/${mirror.name})`,
      actor: principalName(mirror.creator),
    };
  }
}

function keyOf(mirror: MirrorRecord): string {
  return `${mirror.registry}/${mirror.name}`;
}

/** A digest or unique tag the mirror promoted. */
function chosen(promoted: MirrorHistoryEntry[], to: string, name: string): string {
  const entry = promoted.find((candidate) => candidate.digest === to || candidate.uniqueTag === to);
  if (!entry) throw new MirrorError('invalid', `mirror ${name} never promoted ${to}; give a digest or unique tag from its history`);
  return entry.digest;
}

/** The digest promoted before the current one's latest promotion. */
function previousOf(promoted: MirrorHistoryEntry[], current: string | null, name: string): string {
  if (current === null) throw new MirrorError('conflict', `mirror ${name} has promoted nothing yet`);
  const at = promoted.findIndex((entry) => entry.digest === current);
  const earlier = promoted.slice(at + 1).find((entry) => entry.digest !== current);
  if (!earlier) throw new MirrorError('conflict', `mirror ${name} promoted nothing before ${current}`);
  return earlier.digest;
}
