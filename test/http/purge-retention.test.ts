import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PurgeReport } from '../../src/purge/purge-service.ts';
import { startTestBerth, type TestBerth } from '../helper.ts';
import { mgmt, mgmtOk } from '../helpers/identity.ts';
import { imageOf, OCI_INDEX, pushImage, putManifest, sha256, type Image } from '../helpers/oci-http.ts';

const purgePath = '/registries/default/purge';

async function purge(server: TestBerth, body: Record<string, unknown>): Promise<PurgeReport> {
  return mgmtOk<PurgeReport>(server, 200, 'POST', purgePath, body);
}

async function manifestDigests(server: TestBerth, repo: string): Promise<string[]> {
  const response = await server.request(`/acr/v1/${repo}/_manifests`);
  if (response.status === 404) return [];
  assert.equal(response.status, 200, await response.clone().text());
  const body = (await response.json()) as { manifests: { digest: string }[] };
  return body.manifests.map((m) => m.digest).sort();
}

const manifestsOf = (report: PurgeReport) => report.manifests.map((m) => `${m.repository}@${m.digest}`).sort();
const tagsOf = (report: PurgeReport) => report.tags.map((t) => `${t.repository}:${t.tag}`).sort();

/** Pushes an index of two platform images (untagged) under `tag`, or untagged when `tag` is undefined. */
async function pushIndex(server: TestBerth, repo: string, tag?: string): Promise<{ index: string; children: string[] }> {
  const children: Image[] = [];
  for (let i = 0; i < 2; i++) {
    const image = imageOf();
    await pushImage(server, repo, `tmp${i}`, image);
    const untag = await server.request(`/v2/${repo}/manifests/tmp${i}`, { method: 'DELETE' });
    assert.equal(untag.status, 202);
    children.push(image);
  }
  const body = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: children.map((child, i) => ({ mediaType: child.mediaType, digest: child.digest, size: child.manifest.length, platform: { os: 'linux', architecture: i ? 'arm64' : 'amd64' } })),
    }),
  );
  const response = await putManifest(server, repo, tag ?? sha256(body), body, OCI_INDEX);
  assert.equal(response.status, 201, await response.text());
  return { index: sha256(body), children: children.map((child) => child.digest) };
}

describe('berth purge (acr purge semantics)', () => {
  let server: TestBerth;
  before(async () => {
    server = await startTestBerth();
  });
  after(async () => server?.close());

  it('S3: --untagged-only lists exactly the untagged manifests a real run deletes; --untagged lists the tag too', async () => {
    const images: Image[] = [];
    for (let i = 0; i < 10; i++) images.push(await pushImage(server, 'app', 'latest'));
    const untagged = images.slice(0, 9).map((image) => `app@${image.digest}`).sort();

    const dry = await purge(server, { filters: ['app:.*'], ago: '0d', untaggedOnly: true, dryRun: true });
    assert.equal(dry.dryRun, true);
    assert.deepEqual(tagsOf(dry), []);
    assert.deepEqual(manifestsOf(dry), untagged);
    assert.equal((await manifestDigests(server, 'app')).length, 10, 'a dry run deletes nothing');

    const withTags = await purge(server, { filters: ['app:.*'], ago: '0d', untagged: true, dryRun: true });
    assert.deepEqual(tagsOf(withTags), ['app:latest']);
    assert.deepEqual(manifestsOf(withTags), [...untagged, `app@${images[9]!.digest}`].sort());

    const real = await purge(server, { filters: ['app:.*'], ago: '0d', untaggedOnly: true });
    assert.deepEqual(real.failed, []);
    assert.deepEqual(manifestsOf(real), manifestsOf(dry), 'the real run deletes what the dry run listed');
    assert.deepEqual(await manifestDigests(server, 'app'), [images[9]!.digest]);
    const pulled = await server.request('/v2/app/manifests/latest', { headers: { accept: images[9]!.mediaType } });
    assert.equal(pulled.status, 200);
  });

  it('--ago keeps recent tags; --keep spares the newest matching tags; the tag regex is searched, the repository anchored', async () => {
    for (const tag of ['v1', 'v2', 'v3', 'stable']) await pushImage(server, 'web', tag);
    await pushImage(server, 'web2', 'v1');
    assert.deepEqual(tagsOf(await purge(server, { filters: ['web:v'], ago: '1d', dryRun: true })), []);
    const kept = await purge(server, { filters: ['web:v'], ago: '0d', keep: 1 });
    assert.deepEqual(tagsOf(kept), ['web:v1', 'web:v2']);
    const left = await server.request('/v2/web/tags/list');
    assert.deepEqual(((await left.json()) as { tags: string[] }).tags.sort(), ['stable', 'v3']);
    const other = await server.request('/v2/web2/tags/list');
    assert.deepEqual(((await other.json()) as { tags: string[] }).tags, ['v1']);
  });

  it("keeps an untagged index's children while it lives, deletes referrers with their subject, and a dry run equals the real run", async () => {
    const tagged = await pushIndex(server, 'multi', 'latest');
    const loose = await pushIndex(server, 'multi');
    const subject = imageOf();
    await pushImage(server, 'multi', 'subject', subject);
    const signature = imageOf({ extra: { subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.manifest.length }, artifactType: 'application/vnd.example.sig' } });
    await pushImage(server, 'multi', 'tmpsig', signature);
    assert.equal((await server.request('/v2/multi/manifests/tmpsig', { method: 'DELETE' })).status, 202);
    assert.equal((await server.request('/v2/multi/manifests/subject', { method: 'DELETE' })).status, 202);

    const request = { filters: ['multi:.*'], untaggedOnly: true, concurrency: 8 };
    const dry = await purge(server, { ...request, dryRun: true });
    const expected = [loose.index, ...loose.children, subject.digest, signature.digest].map((digest) => `multi@${digest}`).sort();
    assert.deepEqual(manifestsOf(dry), expected);
    assert.equal(dry.manifests.find((m) => m.digest === signature.digest)?.reason, 'referrer');

    const real = await purge(server, request);
    assert.deepEqual(real.failed, []);
    assert.deepEqual(manifestsOf(real), manifestsOf(dry));
    assert.deepEqual(await manifestDigests(server, 'multi'), [tagged.index, ...tagged.children].sort());
  });

  it('refuses bad input with a clear error before deleting anything', async () => {
    await pushImage(server, 'safe', 'v1');
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ filters: ['safe:v(1'], ago: '0d' }, /tag regex does not compile/],
      [{ filters: ['sa[fe:.*'], ago: '0d' }, /repository regex does not compile/],
      [{ filters: ['safe'], ago: '0d' }, /expected <repository-regex>:<tag-regex>/],
      [{ filters: ['safe:.*', 'safe:(('], ago: '0d' }, /does not compile/],
      [{ filters: ['safe:.*'] }, /--ago is required/],
      [{ filters: ['safe:.*'], ago: '1y' }, /--ago/],
      [{ filters: ['safe:.*'], ago: '0d', untagged: true, untaggedOnly: true }, /cannot be used together/],
    ];
    for (const [body, message] of cases) {
      const response = await mgmt<{ detail: string }>(server, 'POST', purgePath, body);
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.match(response.body.detail, message);
    }
    const left = await server.request('/v2/safe/tags/list');
    assert.deepEqual(((await left.json()) as { tags: string[] }).tags, ['v1']);
    assert.equal((await mgmt(server, 'POST', '/registries/nosuchregistry/purge', { filters: ['a:b'], ago: '0d' })).status, 404);
  });
});
