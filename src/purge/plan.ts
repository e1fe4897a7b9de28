/**
 * What a purge deletes, decided as a pure function of a snapshot of the repositories, so that a
 * dry run and a real run of the same snapshot delete exactly the same things.
 *
 * Tags (not with `untaggedOnly`): those whose name the filter's tag regex matches (unanchored
 * search) and whose last update is strictly before `now - ago`; locked tags only with
 * `includeLocked`; `keep` spares the N most recently updated of those.
 *
 * Manifests (with `untagged` or `untaggedOnly`), as acr purge picks dangling manifests: no tag left
 * once the purge's tags are gone, last updated before `now - ago` (any age when `ago` is not given),
 * not locked (unless `includeLocked`), and not a referrer (a manifest with a subject goes with its
 * subject, below). The spec's and ACR's rules on references then apply:
 * - an index's children are kept while the index lives: every manifest a surviving index references,
 *   directly or through nested indexes, is kept;
 * - referrers are deleted with their subject (ACR deletes them server-side); a subject with a
 *   locked referrer is kept, since that referrer could not go with it.
 */

export interface TagState {
  name: string;
  digest: string;
  /** ISO-8601 UTC. */
  lastUpdateTime: string;
  locked: boolean;
}

export interface ManifestState {
  digest: string;
  mediaType: string;
  lastUpdateTime: string;
  tags: string[];
  /** Digests of the manifests an index lists. */
  children: string[];
  subject: string | null;
  locked: boolean;
}

export interface RepositoryState {
  repository: string;
  tags: TagState[];
  manifests: ManifestState[];
}

export interface PurgeOptions {
  /** Milliseconds; required unless `untaggedOnly`. */
  agoMs?: number;
  keep: number;
  untagged: boolean;
  untaggedOnly: boolean;
  includeLocked: boolean;
}

export interface PlannedTag {
  repository: string;
  tag: string;
  digest: string;
}

export interface PlannedManifest {
  repository: string;
  digest: string;
  /** `untagged`: a dangling manifest; `referrer`: goes with its subject. */
  reason: 'untagged' | 'referrer';
  /** Deletion order: a manifest is deleted after every manifest of a lower wave (indexes before their children, referrers before their subject). */
  wave: number;
}

export interface PurgePlan {
  tags: PlannedTag[];
  manifests: PlannedManifest[];
}

const byTimeDesc = (a: TagState, b: TagState) =>
  a.lastUpdateTime === b.lastUpdateTime ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.lastUpdateTime < b.lastUpdateTime ? 1 : -1;

/** Strictly before the cutoff, as acr purge compares (`time.Before`). */
const olderThan = (time: string, cutoffMs: number) => Date.parse(time) < cutoffMs;

export function planTags(state: RepositoryState, matches: (tag: string) => boolean, options: PurgeOptions, nowMs: number): PlannedTag[] {
  if (options.untaggedOnly) return [];
  const cutoff = nowMs - (options.agoMs ?? 0);
  const eligible = [...state.tags]
    .sort(byTimeDesc)
    .filter((tag) => matches(tag.name) && olderThan(tag.lastUpdateTime, cutoff) && (options.includeLocked || !tag.locked));
  return eligible.slice(options.keep).map((tag) => ({ repository: state.repository, tag: tag.name, digest: tag.digest }));
}

export function planManifests(state: RepositoryState, deletedTags: readonly PlannedTag[], options: PurgeOptions, nowMs: number): PlannedManifest[] {
  if (!options.untagged && !options.untaggedOnly) return [];
  const cutoff = options.agoMs === undefined ? undefined : nowMs - options.agoMs;
  const removedTags = new Map<string, number>();
  for (const tag of deletedTags) removedTags.set(tag.digest, (removedTags.get(tag.digest) ?? 0) + 1);

  const deleted = new Set<string>();
  for (const manifest of state.manifests) {
    if (manifest.locked && !options.includeLocked) continue;
    if (manifest.tags.length > (removedTags.get(manifest.digest) ?? 0)) continue;
    if (cutoff !== undefined && !olderThan(manifest.lastUpdateTime, cutoff)) continue;
    if (manifest.subject !== null) continue;
    deleted.add(manifest.digest);
  }

  // Children of every surviving index survive; repeat, since a kept index may be a child itself.
  let changed = true;
  while (changed) {
    changed = false;
    for (const manifest of state.manifests) {
      if (deleted.has(manifest.digest)) continue;
      for (const child of manifest.children) if (deleted.delete(child)) changed = true;
    }
  }

  const referrers = new Map<string, ManifestState[]>();
  for (const manifest of state.manifests) {
    if (manifest.subject === null) continue;
    referrers.set(manifest.subject, [...(referrers.get(manifest.subject) ?? []), manifest]);
  }
  const closure = (digest: string, seen = new Set<string>()): ManifestState[] => {
    const found: ManifestState[] = [];
    for (const referrer of referrers.get(digest) ?? []) {
      if (seen.has(referrer.digest)) continue;
      seen.add(referrer.digest);
      found.push(referrer, ...closure(referrer.digest, seen));
    }
    return found;
  };
  const reasons = new Map<string, PlannedManifest['reason']>();
  for (const digest of [...deleted].sort()) {
    const attached = closure(digest);
    if (!options.includeLocked && attached.some((referrer) => referrer.locked)) continue;
    reasons.set(digest, 'untagged');
    for (const referrer of attached) if (!reasons.has(referrer.digest)) reasons.set(referrer.digest, 'referrer');
  }
  const waves = wavesOf(state.manifests, reasons);
  return [...reasons.entries()]
    .map(([digest, reason]) => ({ repository: state.repository, digest, reason, wave: waves(digest) }))
    .sort((a, b) => a.wave - b.wave || (a.digest < b.digest ? -1 : 1));
}

/**
 * A manifest's wave: 0 when nothing the plan deletes must go before it; otherwise one more than
 * the highest wave of the planned indexes listing it and of its planned referrers.
 */
function wavesOf(manifests: readonly ManifestState[], planned: Map<string, unknown>): (digest: string) => number {
  const before = new Map<string, string[]>();
  const precede = (digest: string, predecessor: string) => before.set(digest, [...(before.get(digest) ?? []), predecessor]);
  for (const manifest of manifests) {
    if (!planned.has(manifest.digest)) continue;
    for (const child of manifest.children) precede(child, manifest.digest);
    if (manifest.subject !== null) precede(manifest.subject, manifest.digest);
  }
  const memo = new Map<string, number>();
  const wave = (digest: string, visiting: Set<string>): number => {
    const known = memo.get(digest);
    if (known !== undefined) return known;
    if (visiting.has(digest)) return 0;
    visiting.add(digest);
    let result = 0;
    for (const predecessor of before.get(digest) ?? []) if (predecessor !== digest) result = Math.max(result, wave(predecessor, visiting) + 1);
    visiting.delete(digest);
    memo.set(digest, result);
    return result;
  };
  return (digest) => wave(digest, new Set());
}

export function planPurge(
  repositories: readonly RepositoryState[],
  matchers: Map<string, (tag: string) => boolean>,
  options: PurgeOptions,
  nowMs: number,
): PurgePlan {
  const plan: PurgePlan = { tags: [], manifests: [] };
  for (const state of repositories) {
    const matches = matchers.get(state.repository);
    if (!matches) continue;
    const tags = planTags(state, matches, options, nowMs);
    plan.tags.push(...tags);
    plan.manifests.push(...planManifests(state, tags, options, nowMs));
  }
  return plan;
}
