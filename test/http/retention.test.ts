import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { RetentionPolicy } from '../../src/meta/retention-store.ts';
import { startTestBerth, type TestBerth } from '../helper.ts';
import { mgmt, mgmtOk } from '../helpers/identity.ts';
import { imageOf, OCI_INDEX, pushImage, putManifest, sha256, type Image } from '../helpers/oci-http.ts';
import { startPostgres, type PostgresCluster } from '../helpers/postgres.ts';

const policyPath = '/registries/default/policies/retention';

async function manifestDigests(server: TestBerth, repo: string): Promise<string[]> {
  const response = await server.request(`/acr/v1/${repo}/_manifests`);
  if (response.status === 404) return [];
  assert.equal(response.status, 200, await response.clone().text());
  const body = (await response.json()) as { manifests: { digest: string }[] };
  return body.manifests.map((m) => m.digest).sort();
}

/** Waits (bounded) until `repo` holds exactly `expected`. */
async function eventually(server: TestBerth, repo: string, expected: string[]): Promise<void> {
  const want = [...expected].sort();
  const deadline = Date.now() + 15_000;
  let seen: string[] = [];
  while (Date.now() < deadline) {
    seen = await manifestDigests(server, repo);
    if (seen.join() === want.join()) return;
    await sleep(100);
  }
  assert.deepEqual(seen, want, `${repo} did not reach the expected manifests`);
}

/** Lets at least two retention runs pass. */
const twoRuns = () => sleep(2_500);

async function untag(server: TestBerth, repo: string, tag: string): Promise<void> {
  assert.equal((await server.request(`/v2/${repo}/manifests/${tag}`, { method: 'DELETE' })).status, 202);
}

function retentionSuite(name: string, database: () => Promise<{ url?: string; stop(): Promise<void> }>): void {
  describe(`retention policy for untagged manifests (${name})`, () => {
    let server: TestBerth;
    let db: { url?: string; stop(): Promise<void> };
    before(async () => {
      db = await database();
      server = await startTestBerth({ retention: { intervalSeconds: 1 }, ...(db.url ? { database: db.url } : {}) });
    });
    after(async () => {
      await server?.close();
      await db?.stop();
    });

    it('defaults to disabled, 7 days; validates days; 404 for an unknown registry', async () => {
      const policy = await mgmtOk<RetentionPolicy>(server, 200, 'GET', policyPath);
      assert.deepEqual(policy, { status: 'disabled', days: 7, type: 'UntaggedManifests', includeExisting: false, enabledAt: null });
      assert.equal((await mgmt(server, 'PUT', policyPath, { days: 366 })).status, 400);
      assert.equal((await mgmt(server, 'PUT', policyPath, { type: 'Tags' })).status, 400);
      assert.equal((await mgmt(server, 'GET', '/registries/nosuchregistry/policies/retention')).status, 404);
    });

    it('S3: only untagged-after-enabling, unlocked, unreferenced manifests are deleted; include-existing takes the backlog', async () => {
      const backlog = await pushImage(server, 'old', 'v1');
      const oldCurrent = await pushImage(server, 'old', 'v1');

      const enabled = await mgmtOk<RetentionPolicy>(server, 200, 'PUT', policyPath, { status: 'enabled', days: 0, type: 'UntaggedManifests' });
      assert.equal(enabled.status, 'enabled');
      assert.equal(enabled.days, 0);
      assert.ok(enabled.enabledAt);

      const locked = await pushImage(server, 'locked', 'v1');
      const patched = await server.request(`/acr/v1/locked/_manifests/${locked.digest}`, {
        method: 'PATCH',
        body: JSON.stringify({ deleteEnabled: false }),
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(patched.status, 200, await patched.text());
      const lockedCurrent = await pushImage(server, 'locked', 'v1');

      // An index child left untagged stays while its index lives.
      const child = await pushImage(server, 'multi', 'child');
      const index = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_INDEX,
          manifests: [{ mediaType: child.mediaType, digest: child.digest, size: child.manifest.length, platform: { os: 'linux', architecture: 'amd64' } }],
        }),
      );
      assert.equal((await putManifest(server, 'multi', 'v1', index, OCI_INDEX)).status, 201);
      await untag(server, 'multi', 'child');

      const images: Image[] = [];
      for (let i = 0; i < 10; i++) images.push(await pushImage(server, 'app', 'latest'));
      const latest = images[9]!;

      await eventually(server, 'app', [latest.digest]);
      const tags = (await (await server.request('/v2/app/tags/list')).json()) as { tags: string[] };
      assert.deepEqual(tags.tags, ['latest']);
      await twoRuns();
      assert.deepEqual(await manifestDigests(server, 'locked'), [locked.digest, lockedCurrent.digest].sort());
      assert.deepEqual(await manifestDigests(server, 'multi'), [child.digest, sha256(index)].sort());
      assert.deepEqual(await manifestDigests(server, 'old'), [backlog.digest, oldCurrent.digest].sort());

      const widened = await mgmtOk<RetentionPolicy>(server, 200, 'PUT', policyPath, { includeExisting: true });
      assert.equal(widened.includeExisting, true);
      assert.equal(widened.enabledAt, enabled.enabledAt);
      await eventually(server, 'old', [oldCurrent.digest]);
      assert.deepEqual(await manifestDigests(server, 'locked'), [locked.digest, lockedCurrent.digest].sort());
    });

    it('a manifest tagged again is no longer untagged; deleting the tag starts its clock', async () => {
      await mgmtOk(server, 200, 'PUT', policyPath, { days: 1 });
      const first = await pushImage(server, 'retag', 'a');
      await pushImage(server, 'retag', 'a');
      assert.equal((await putManifest(server, 'retag', 'b', first.manifest, first.mediaType)).status, 201);
      await mgmtOk(server, 200, 'PUT', policyPath, { days: 0 });
      await twoRuns();
      assert.equal((await manifestDigests(server, 'retag')).length, 2);
      await untag(server, 'retag', 'b');
      await eventually(server, 'retag', (await manifestDigests(server, 'retag')).filter((digest) => digest !== first.digest));
    });

    it('disabled: nothing is deleted', async () => {
      await mgmtOk(server, 200, 'PUT', policyPath, { status: 'disabled' });
      const first = await pushImage(server, 'off', 'v1');
      const second = await pushImage(server, 'off', 'v1');
      await twoRuns();
      assert.deepEqual(await manifestDigests(server, 'off'), [first.digest, second.digest].sort());
    });
  });
}

retentionSuite('SQLite', async () => ({ stop: async () => {} }));
retentionSuite('PostgreSQL', async () => {
  const cluster: PostgresCluster = await startPostgres();
  return { url: cluster.url, stop: () => cluster.stop() };
});
