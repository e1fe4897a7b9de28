/**
 * The `TriggerStore` contract, on SQLite and on a throwaway PostgreSQL cluster: commit cursors,
 * recorded base images and their digests, timer occurrences — each change claimed by exactly one
 * caller, also when several nodes race — and the state going with its task or registry.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { openMetaStore, type MetaStore } from '../../src/meta/index.ts';
import type { NewTask } from '../../src/meta/task-store.ts';
import type { BaseImageDependency } from '../../src/meta/trigger-store.ts';
import { startPostgres, type PostgresCluster } from '../helpers/postgres.ts';

interface Database {
  open(): Promise<MetaStore>;
  /** Whether several stores may share the database, as several nodes (not SQLite). */
  multiNode: boolean;
  cleanup(): Promise<void>;
}

const racers = 5;

function task(registry: string, name: string): NewTask {
  return {
    registry,
    name,
    status: 'Enabled',
    platform: 'linux/amd64',
    timeoutSeconds: 600,
    contextPath: 'https://example.com/app.git#main',
    contextAccessToken: null,
    step: { type: 'Docker', dockerFilePath: 'Dockerfile', imageNames: ['app:{{.Run.ID}}'], isPushEnabled: true, noCache: false, arguments: [] },
    credentials: [],
    identityPrincipalId: null,
    triggers: null,
  };
}

function image(overrides: Partial<BaseImageDependency> = {}): BaseImageDependency {
  return {
    loginServer: 'baseartifacts.localhost:5000',
    registry: 'baseartifacts',
    repository: 'node',
    tag: '15-alpine',
    digest: 'sha256:aaa',
    type: 'Runtime',
    ...overrides,
  };
}

const external = image({ loginServer: 'docker.io', registry: null, repository: 'library/alpine', tag: '3', digest: null, type: 'BuildTime' });
const imageRef = (dependency: BaseImageDependency) => ({ loginServer: dependency.loginServer, repository: dependency.repository, tag: dependency.tag });

function triggerStoreContract(dialect: string, createDatabase: () => Promise<Database>): void {
  describe(`TriggerStore on ${dialect}`, () => {
    let database: Database;
    let store: MetaStore;
    const others: MetaStore[] = [];

    /** `racers` stores on one database as separate nodes where the database allows it. */
    async function nodes(): Promise<MetaStore[]> {
      if (!database.multiNode) return Array.from({ length: racers }, () => store);
      const opened = await Promise.all(Array.from({ length: racers }, () => database.open()));
      others.push(...opened);
      return opened;
    }

    /** Every node calls `attempt` at once (SQLite: one after another); the results in node order. */
    async function race(attempt: (node: MetaStore, index: number) => Promise<boolean>): Promise<boolean[]> {
      const all = await nodes();
      if (!database.multiNode) {
        const results: boolean[] = [];
        for (const [index, node] of all.entries()) results.push(await attempt(node, index));
        return results;
      }
      return await Promise.all(all.map((node, index) => attempt(node, index)));
    }

    beforeEach(async () => {
      database = await createDatabase();
      store = await database.open();
      for (const registry of ['contoso', 'fabrikam', 'baseartifacts']) await store.createRegistry(registry);
      await store.tasks.createTask(task('contoso', 'hello-world'));
      await store.tasks.createTask(task('contoso', 'api'));
      await store.tasks.createTask(task('fabrikam', 'web'));
    });

    afterEach(async () => {
      for (const other of others.splice(0)) await other.close();
      await store.close();
      await database.cleanup();
    });

    it('moves a commit cursor only from the expected commit', async () => {
      const triggers = store.triggers;
      assert.equal(await triggers.commitCursor('contoso', 'hello-world'), null);
      assert.equal(await triggers.advanceCommitCursor('contoso', 'hello-world', 'c0', 'c1'), false);
      assert.equal(await triggers.advanceCommitCursor('contoso', 'hello-world', null, 'c1'), true);
      assert.equal(await triggers.commitCursor('contoso', 'hello-world'), 'c1');
      assert.equal(await triggers.advanceCommitCursor('contoso', 'hello-world', null, 'c2'), false);
      assert.equal(await triggers.advanceCommitCursor('contoso', 'hello-world', 'c0', 'c2'), false);
      assert.equal(await triggers.commitCursor('contoso', 'hello-world'), 'c1');
      assert.equal(await triggers.advanceCommitCursor('contoso', 'hello-world', 'c1', 'c2'), true);
      assert.equal(await triggers.commitCursor('contoso', 'hello-world'), 'c2');

      assert.equal(await triggers.commitCursor('contoso', 'api'), null, 'each task has its own cursor');
      assert.equal(await triggers.commitCursor('fabrikam', 'hello-world'), null);
      assert.equal(await triggers.advanceCommitCursor('contoso', 'missing', null, 'c1'), false, 'no cursor for a task that does not exist');
      assert.equal(await triggers.commitCursor('contoso', 'missing'), null);
    });

    it('lets exactly one of several callers move a commit cursor', async () => {
      const first = await race((node, index) => node.triggers.advanceCommitCursor('contoso', 'hello-world', null, `first-${index}`));
      assert.equal(first.filter(Boolean).length, 1, `one winner of the first commit: ${first}`);
      assert.equal(await store.triggers.commitCursor('contoso', 'hello-world'), `first-${first.indexOf(true)}`);

      const expected = `first-${first.indexOf(true)}`;
      const next = await race((node, index) => node.triggers.advanceCommitCursor('contoso', 'hello-world', expected, `next-${index}`));
      assert.equal(next.filter(Boolean).length, 1, `one winner of the next commit: ${next}`);
      assert.equal(await store.triggers.commitCursor('contoso', 'hello-world'), `next-${next.indexOf(true)}`);
    });

    it('replaces, lists and finds base image dependencies', async () => {
      const triggers = store.triggers;
      assert.deepEqual(await triggers.baseImageDependencies('contoso', 'hello-world'), []);
      const builder = image({ repository: 'golang', tag: '1.22', digest: null, type: 'BuildTime' });
      await triggers.replaceBaseImageDependencies('contoso', 'hello-world', [image(), builder, external]);
      await triggers.replaceBaseImageDependencies('fabrikam', 'web', [image({ loginServer: 'baseartifacts.example.com', digest: 'sha256:bbb' })]);
      await triggers.replaceBaseImageDependencies('contoso', 'api', [image({ registry: 'contoso', loginServer: 'contoso.localhost:5000' })]);

      // Listed by login server, repository and tag.
      assert.deepEqual(await triggers.baseImageDependencies('contoso', 'hello-world'), [builder, image(), external]);

      assert.deepEqual(await triggers.dependentsOf('baseartifacts', 'node', '15-alpine'), [
        { registry: 'contoso', task: 'hello-world', dependency: image() },
        { registry: 'fabrikam', task: 'web', dependency: image({ loginServer: 'baseartifacts.example.com', digest: 'sha256:bbb' }) },
      ]);
      assert.deepEqual(await triggers.dependentsOf('baseartifacts', 'golang', '1.22'), [{ registry: 'contoso', task: 'hello-world', dependency: builder }]);
      assert.deepEqual(await triggers.dependentsOf('baseartifacts', 'node', '16-alpine'), []);
      assert.deepEqual(await triggers.dependentsOf('publicregistry', 'node', '15-alpine'), []);
      assert.deepEqual((await triggers.dependentsOf('contoso', 'node', '15-alpine')).map((d) => d.task), ['api']);
      assert.deepEqual(await triggers.dependentsOf('baseartifacts', 'library/alpine', '3'), [], 'an external image is no installation dependency');
      assert.deepEqual(await triggers.externalDependencies(), [{ registry: 'contoso', task: 'hello-world', dependency: external }]);

      // The next build records a new set: what it no longer uses is forgotten.
      await triggers.replaceBaseImageDependencies('contoso', 'hello-world', [image({ tag: '16-alpine', digest: 'sha256:ccc' })]);
      assert.deepEqual(await triggers.baseImageDependencies('contoso', 'hello-world'), [image({ tag: '16-alpine', digest: 'sha256:ccc' })]);
      assert.deepEqual((await triggers.dependentsOf('baseartifacts', 'node', '15-alpine')).map((d) => d.task), ['web']);
      assert.deepEqual(await triggers.externalDependencies(), []);
      await triggers.replaceBaseImageDependencies('contoso', 'hello-world', []);
      assert.deepEqual(await triggers.baseImageDependencies('contoso', 'hello-world'), []);

      await triggers.replaceBaseImageDependencies('contoso', 'missing', [image()]);
      assert.deepEqual(await triggers.baseImageDependencies('contoso', 'missing'), [], 'nothing recorded for a task that does not exist');
    });

    it('records an image used by several stages once, as Runtime if the final stage uses it', async () => {
      await store.triggers.replaceBaseImageDependencies('contoso', 'hello-world', [
        image({ type: 'BuildTime', digest: null }),
        image({ type: 'Runtime', digest: 'sha256:aaa' }),
        external,
        external,
      ]);
      assert.deepEqual(await store.triggers.baseImageDependencies('contoso', 'hello-world'), [image({ type: 'Runtime', digest: 'sha256:aaa' }), external]);
    });

    it('moves a base image digest only from the expected digest', async () => {
      const triggers = store.triggers;
      await triggers.replaceBaseImageDependencies('contoso', 'hello-world', [image(), external]);
      await triggers.replaceBaseImageDependencies('fabrikam', 'web', [image()]);

      assert.equal(await triggers.advanceBaseImageDigest('contoso', 'hello-world', imageRef(image()), 'sha256:old', 'sha256:bbb'), false);
      assert.equal(await triggers.advanceBaseImageDigest('contoso', 'hello-world', imageRef(image()), null, 'sha256:bbb'), false);
      assert.equal(await triggers.advanceBaseImageDigest('contoso', 'hello-world', imageRef(image()), 'sha256:aaa', 'sha256:bbb'), true);
      assert.equal(await triggers.advanceBaseImageDigest('contoso', 'hello-world', imageRef(image()), 'sha256:aaa', 'sha256:bbb'), false);
      assert.equal((await triggers.baseImageDependencies('contoso', 'hello-world'))[0]?.digest, 'sha256:bbb');
      assert.equal((await triggers.baseImageDependencies('fabrikam', 'web'))[0]?.digest, 'sha256:aaa', "another task's digest stays");

      // An unknown digest (null) is the expected value until someone records one.
      assert.equal(await triggers.advanceBaseImageDigest('contoso', 'hello-world', imageRef(external), 'sha256:x', 'sha256:e1'), false);
      assert.equal(await triggers.advanceBaseImageDigest('contoso', 'hello-world', imageRef(external), null, 'sha256:e1'), true);
      assert.equal(await triggers.advanceBaseImageDigest('contoso', 'hello-world', imageRef(external), null, 'sha256:e2'), false);
      assert.deepEqual(await triggers.externalDependencies(), [{ registry: 'contoso', task: 'hello-world', dependency: { ...external, digest: 'sha256:e1' } }]);

      assert.equal(
        await triggers.advanceBaseImageDigest('contoso', 'hello-world', { ...imageRef(image()), tag: 'latest' }, 'sha256:bbb', 'sha256:ccc'),
        false,
        'an image the task does not record',
      );
      assert.equal(await triggers.advanceBaseImageDigest('contoso', 'api', imageRef(image()), 'sha256:aaa', 'sha256:ccc'), false);
    });

    it('lets exactly one of several callers move a base image digest', async () => {
      await store.triggers.replaceBaseImageDependencies('contoso', 'hello-world', [image(), external]);
      const moved = await race((node, index) =>
        node.triggers.advanceBaseImageDigest('contoso', 'hello-world', imageRef(image()), 'sha256:aaa', `sha256:new${index}`),
      );
      assert.equal(moved.filter(Boolean).length, 1, `one winner: ${moved}`);
      assert.equal((await store.triggers.baseImageDependencies('contoso', 'hello-world'))[0]?.digest, `sha256:new${moved.indexOf(true)}`);

      const first = await race((node, index) => node.triggers.advanceBaseImageDigest('contoso', 'hello-world', imageRef(external), null, `sha256:ext${index}`));
      assert.equal(first.filter(Boolean).length, 1, `one winner from no digest: ${first}`);
    });

    it('keeps concurrent replacements of one task whole', async () => {
      const sets = Array.from({ length: racers }, (_, index) => [image({ tag: `t${index}` }), image({ repository: `r${index}`, digest: null, type: 'BuildTime' })]);
      await race(async (node, index) => {
        await node.triggers.replaceBaseImageDependencies('contoso', 'hello-world', sets[index]!);
        return true;
      });
      const recorded = await store.triggers.baseImageDependencies('contoso', 'hello-world');
      assert.ok(
        sets.some((set) => JSON.stringify([...set].sort((a, b) => a.repository.localeCompare(b.repository))) === JSON.stringify(recorded)),
        `one caller's whole set: ${JSON.stringify(recorded)}`,
      );
    });

    it('claims each timer occurrence once', async () => {
      const triggers = store.triggers;
      assert.equal(await triggers.claimTimerOccurrence('contoso', 'hello-world', 'nightly', '2026-01-31T03:00Z'), true);
      assert.equal(await triggers.claimTimerOccurrence('contoso', 'hello-world', 'nightly', '2026-01-31T03:00Z'), false);
      assert.equal(await triggers.claimTimerOccurrence('contoso', 'hello-world', 'nightly', '2026-02-01T03:00Z'), true);
      assert.equal(await triggers.claimTimerOccurrence('contoso', 'hello-world', 'hourly', '2026-01-31T03:00Z'), true, 'each timer has its own');
      assert.equal(await triggers.claimTimerOccurrence('contoso', 'api', 'nightly', '2026-01-31T03:00Z'), true, 'each task has its own');
      assert.equal(await triggers.claimTimerOccurrence('fabrikam', 'hello-world', 'nightly', '2026-01-31T03:00Z'), false, 'no claim for a missing task');

      const claims = await race((node) => node.triggers.claimTimerOccurrence('contoso', 'hello-world', 'nightly', '2026-02-02T03:00Z'));
      assert.equal(claims.filter(Boolean).length, 1, `one winner: ${claims}`);
    });

    it('forgets timer occurrences a week older than the latest claim', async () => {
      const triggers = store.triggers;
      assert.equal(await triggers.claimTimerOccurrence('contoso', 'hello-world', 'nightly', '2026-01-01T03:00Z'), true);
      assert.equal(await triggers.claimTimerOccurrence('contoso', 'hello-world', 'nightly', '2026-01-05T03:00Z'), true);
      assert.equal(await triggers.claimTimerOccurrence('contoso', 'api', 'nightly', '2026-01-01T03:00Z'), true);
      assert.equal(await triggers.claimTimerOccurrence('contoso', 'hello-world', 'nightly', '2026-01-10T03:00Z'), true);
      // 01-01 is now over a week old and gone (claimable again); 01-05 is within the week and kept.
      assert.equal(await triggers.claimTimerOccurrence('contoso', 'hello-world', 'nightly', '2026-01-05T03:00Z'), false);
      assert.equal(await triggers.claimTimerOccurrence('contoso', 'hello-world', 'nightly', '2026-01-01T03:00Z'), true);
      assert.equal(await triggers.claimTimerOccurrence('contoso', 'api', 'nightly', '2026-01-01T03:00Z'), false, "another task's are kept");
    });

    it('removes the trigger state with its task and with its registry', async () => {
      const triggers = store.triggers;
      for (const [registry, name] of [['contoso', 'hello-world'], ['contoso', 'api'], ['fabrikam', 'web']] as const) {
        assert.equal(await triggers.advanceCommitCursor(registry, name, null, 'c1'), true);
        await triggers.replaceBaseImageDependencies(registry, name, [image(), external]);
        assert.equal(await triggers.claimTimerOccurrence(registry, name, 'nightly', '2026-01-31T03:00Z'), true);
      }

      assert.equal(await store.tasks.deleteTask('contoso', 'hello-world'), true);
      assert.equal(await triggers.commitCursor('contoso', 'hello-world'), null);
      assert.deepEqual(await triggers.baseImageDependencies('contoso', 'hello-world'), []);
      assert.deepEqual((await triggers.dependentsOf('baseartifacts', 'node', '15-alpine')).map((d) => `${d.registry}/${d.task}`), ['contoso/api', 'fabrikam/web']);
      // A task created again under the name starts afresh.
      await store.tasks.createTask(task('contoso', 'hello-world'));
      assert.equal(await triggers.commitCursor('contoso', 'hello-world'), null);
      assert.equal(await triggers.claimTimerOccurrence('contoso', 'hello-world', 'nightly', '2026-01-31T03:00Z'), true);

      assert.equal(await store.deleteRegistry('contoso'), true);
      assert.deepEqual((await triggers.dependentsOf('baseartifacts', 'node', '15-alpine')).map((d) => `${d.registry}/${d.task}`), ['fabrikam/web']);
      assert.deepEqual((await triggers.externalDependencies()).map((d) => `${d.registry}/${d.task}`), ['fabrikam/web']);
      await store.createRegistry('contoso');
      await store.tasks.createTask(task('contoso', 'api'));
      assert.equal(await triggers.commitCursor('contoso', 'api'), null);
      assert.deepEqual(await triggers.baseImageDependencies('contoso', 'api'), []);
      assert.equal(await triggers.commitCursor('fabrikam', 'web'), 'c1');
    });
  });
}

triggerStoreContract('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-triggers-'));
  const url = `sqlite:${join(dir, 'berth.db')}`;
  return { open: () => openMetaStore({ url }), multiNode: false, cleanup: () => rm(dir, { recursive: true, force: true }) };
});

let cluster: PostgresCluster | undefined;

before(async () => {
  cluster = await startPostgres();
});

after(async () => {
  await cluster?.stop();
});

triggerStoreContract('postgres', async () => {
  const url = await cluster!.createDatabase();
  return { open: () => openMetaStore({ url }), multiNode: true, cleanup: async () => {} };
});
