import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planManifests, planPurge, planTags, type ManifestState, type PurgeOptions, type RepositoryState } from '../../src/purge/plan.ts';

const now = Date.parse('2026-01-10T00:00:00.000Z');
const at = (day: number) => new Date(Date.parse('2026-01-01T00:00:00.000Z') + day * 86_400_000).toISOString();
const all = () => true;
const options = (changes: Partial<PurgeOptions> = {}): PurgeOptions => ({ agoMs: 0, keep: 0, untagged: false, untaggedOnly: false, includeLocked: false, ...changes });

function manifest(digest: string, changes: Partial<ManifestState> = {}): ManifestState {
  return { digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', lastUpdateTime: at(0), tags: [], children: [], subject: null, locked: false, ...changes };
}

function repo(manifests: ManifestState[], tagTimes: Record<string, string> = {}, lockedTags: string[] = []): RepositoryState {
  return {
    repository: 'app',
    manifests,
    tags: manifests.flatMap((m) => m.tags.map((name) => ({ name, digest: m.digest, lastUpdateTime: tagTimes[name] ?? m.lastUpdateTime, locked: lockedTags.includes(name) }))),
  };
}

describe('purge plan: tags', () => {
  const state = repo([manifest('d1', { tags: ['v1', 'v2', 'v3', 'keep'] })], { v1: at(1), v2: at(2), v3: at(3), keep: at(4) });

  it('selects matching tags last updated strictly before now - ago', () => {
    const names = (ago: number) => planTags(state, (t) => t.startsWith('v'), options({ agoMs: ago }), now).map((t) => t.tag);
    assert.deepEqual(names(0), ['v3', 'v2', 'v1']);
    assert.deepEqual(names(now - Date.parse(at(2))), ['v1']);
  });

  it('--keep spares the N most recently updated matching tags', () => {
    assert.deepEqual(planTags(state, (t) => t.startsWith('v'), options({ keep: 2 }), now).map((t) => t.tag), ['v1']);
  });

  it('skips locked tags unless --include-locked; --untagged-only deletes no tag', () => {
    const locked = repo([manifest('d1', { tags: ['v1', 'v2'] })], {}, ['v1']);
    assert.deepEqual(planTags(locked, all, options(), now).map((t) => t.tag), ['v2']);
    assert.deepEqual(planTags(locked, all, options({ includeLocked: true }), now).map((t) => t.tag).sort(), ['v1', 'v2']);
    assert.deepEqual(planTags(locked, all, options({ untaggedOnly: true }), now), []);
  });
});

describe('purge plan: untagged manifests', () => {
  it('takes manifests without tags, or whose tags all go, older than the cutoff', () => {
    const state = repo([manifest('a'), manifest('b', { tags: ['t'] }), manifest('c', { lastUpdateTime: at(8.5) })]);
    const digests = (o: PurgeOptions, tags = planTags(state, all, o, now)) => planManifests(state, tags, o, now).map((m) => m.digest);
    assert.deepEqual(digests(options({ untaggedOnly: true, agoMs: 86_400_000 })), ['a']);
    assert.deepEqual(digests(options({ untaggedOnly: true, agoMs: undefined })), ['a', 'c']);
    assert.deepEqual(digests(options({ untagged: true })), ['a', 'b', 'c']);
    assert.deepEqual(digests(options()), []);
  });

  it("keeps an index's children while the index lives, and deletes the index before them", () => {
    const children = [manifest('amd'), manifest('arm')];
    const tagged = repo([manifest('idx', { tags: ['latest'], children: ['amd', 'arm'] }), ...children]);
    assert.deepEqual(planManifests(tagged, [], options({ untaggedOnly: true }), now), []);
    const untagged = repo([manifest('idx', { children: ['amd', 'arm'] }), ...children]);
    assert.deepEqual(
      planManifests(untagged, [], options({ untaggedOnly: true }), now).map((m) => [m.digest, m.wave]),
      [['idx', 0], ['amd', 1], ['arm', 1]],
    );
    const lockedIndex = repo([manifest('idx', { children: ['amd', 'arm'], locked: true }), ...children]);
    assert.deepEqual(planManifests(lockedIndex, [], options({ untaggedOnly: true }), now), []);
  });

  it('deletes referrers with their subject (first), never alone, and keeps a subject with a locked referrer', () => {
    const state = repo([manifest('img'), manifest('sig', { subject: 'img' }), manifest('sbom', { subject: 'img' }), manifest('other', { tags: ['x'] }), manifest('sig2', { subject: 'other' })]);
    assert.deepEqual(
      planManifests(state, [], options({ untaggedOnly: true }), now).map((m) => [m.digest, m.reason, m.wave]),
      [['sbom', 'referrer', 0], ['sig', 'referrer', 0], ['img', 'untagged', 1]],
    );
    const locked = repo([manifest('img'), manifest('sig', { subject: 'img', locked: true })]);
    assert.deepEqual(planManifests(locked, [], options({ untaggedOnly: true }), now), []);
  });

  it('skips locked manifests unless --include-locked', () => {
    const state = repo([manifest('a', { locked: true })]);
    assert.deepEqual(planManifests(state, [], options({ untaggedOnly: true }), now), []);
    assert.equal(planManifests(state, [], options({ untaggedOnly: true, includeLocked: true }), now).length, 1);
  });

  it('only plans repositories a filter matched', () => {
    const plan = planPurge([repo([manifest('a', { tags: ['t'] })])], new Map(), options({ untagged: true }), now);
    assert.deepEqual(plan, { tags: [], manifests: [] });
  });
});
