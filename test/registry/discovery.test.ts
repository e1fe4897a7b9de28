import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestBerth, type TestBerth } from '../helper.ts';
import { assertError, blobOf, imageOf, OCI_INDEX, OCI_MANIFEST, pushBlob, pushImage, putManifest, sha256 } from '../helpers/oci-http.ts';

describe('discovery: tags/list, _catalog, referrers', () => {
  let server: TestBerth;
  before(async () => {
    server = await startTestBerth();
  });
  after(() => server.close());

  it('tags/list is in lexical order and paginates with n, last and Link', async () => {
    const image = await pushImage(server, 'paged', 'b');
    for (const tag of ['a', 'C', 'a-1', 'a.1', 'z', '_x']) await putManifest(server, 'paged', tag, image.manifest, OCI_MANIFEST);
    const all = (await (await server.request('/v2/paged/tags/list')).json()) as { tags: string[] };
    assert.deepEqual(all.tags, ['C', '_x', 'a', 'a-1', 'a.1', 'b', 'z']);
    const first = await server.request('/v2/paged/tags/list?n=3');
    assert.deepEqual(((await first.json()) as { tags: string[] }).tags, ['C', '_x', 'a']);
    assert.equal(first.headers.get('link'), '</v2/paged/tags/list?n=3&last=a>; rel="next"');
    const next = await server.request('/v2/paged/tags/list?n=3&last=a');
    assert.deepEqual(((await next.json()) as { tags: string[] }).tags, ['a-1', 'a.1', 'b']);
    const end = await server.request('/v2/paged/tags/list?n=3&last=b');
    assert.deepEqual(((await end.json()) as { tags: string[] }).tags, ['z']);
    assert.equal(end.headers.get('link'), null);
    const exact = await server.request('/v2/paged/tags/list?n=7');
    assert.equal(((await exact.json()) as { tags: string[] }).tags.length, 7);
    assert.equal(exact.headers.get('link'), null, 'a full last page has no next link');
    const none = await server.request('/v2/paged/tags/list?n=0');
    assert.deepEqual(((await none.json()) as { tags: string[] }).tags, []);
    await assertError(await server.request('/v2/paged/tags/list?n=-1'), 400, 'PAGINATION_NUMBER_INVALID');
    await assertError(await server.request('/v2/paged/tags/list?n=abc'), 400, 'PAGINATION_NUMBER_INVALID');
  });

  it('tags/list of an unknown repository is NAME_UNKNOWN', async () => {
    await assertError(await server.request('/v2/never/pushed/tags/list'), 404, 'NAME_UNKNOWN');
  });

  it('_catalog lists repositories in order with n/last/Link', async () => {
    for (const repo of ['cat/b', 'cat/a', 'cat/a/sub']) await pushImage(server, repo, 'v1');
    const response = await server.request('/v2/_catalog?n=2&last=cat');
    assert.deepEqual(await response.json(), { repositories: ['cat/a', 'cat/a/sub'] });
    assert.equal(response.headers.get('link'), '</v2/_catalog?n=2&last=cat%2Fa%2Fsub>; rel="next"');
    const rest = (await (await server.request('/v2/_catalog?n=2&last=cat%2Fa%2Fsub')).json()) as { repositories: string[] };
    assert.equal(rest.repositories[0], 'cat/b');
  });

  it('referrers lists manifests with a subject, filtered by artifactType', async () => {
    const subject = await pushImage(server, 'refs', 'v1');
    const empty = blobOf('{}');
    await pushBlob(server, 'refs', empty);
    const pushArtifact = async (artifactType: string, annotation: string) => {
      const body = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          artifactType,
          config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: empty.digest, size: empty.size },
          layers: [{ mediaType: 'application/vnd.oci.empty.v1+json', digest: empty.digest, size: empty.size }],
          subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.manifest.length },
          annotations: { 'org.example.note': annotation },
        }),
      );
      const response = await putManifest(server, 'refs', sha256(body), body, OCI_MANIFEST);
      assert.equal(response.status, 201);
      assert.equal(response.headers.get('oci-subject'), subject.digest);
      return sha256(body);
    };
    const sbom = await pushArtifact('application/spdx+json', 'sbom');
    const signature = await pushArtifact('application/vnd.dev.cosign.sig', 'sig');
    const response = await server.request(`/v2/refs/referrers/${subject.digest}`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), OCI_INDEX);
    const index = (await response.json()) as { schemaVersion: number; mediaType: string; manifests: { digest: string; artifactType: string; annotations: Record<string, string> }[] };
    assert.equal(index.schemaVersion, 2);
    assert.deepEqual(index.manifests.map((entry) => entry.digest).sort(), [sbom, signature].sort());
    assert.equal(index.manifests.find((entry) => entry.digest === sbom)?.annotations['org.example.note'], 'sbom');

    const filtered = await server.request(`/v2/refs/referrers/${subject.digest}?artifactType=${encodeURIComponent('application/spdx+json')}`);
    assert.equal(filtered.headers.get('oci-filters-applied'), 'artifactType');
    const filteredIndex = (await filtered.json()) as { manifests: { digest: string }[] };
    assert.deepEqual(filteredIndex.manifests.map((entry) => entry.digest), [sbom]);

    const none = await server.request(`/v2/refs/referrers/${sha256('no subject')}`);
    assert.equal(none.status, 200);
    assert.deepEqual(((await none.json()) as { manifests: unknown[] }).manifests, []);
    await assertError(await server.request('/v2/refs/referrers/latest'), 400, 'DIGEST_INVALID');
  });

  it('a referrer may be pushed before its subject exists', async () => {
    const empty = blobOf('{}');
    await pushBlob(server, 'early', empty);
    const absent = imageOf();
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/x-test', config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: empty.digest, size: empty.size }, layers: [], subject: { mediaType: OCI_MANIFEST, digest: absent.digest, size: absent.manifest.length } }));
    assert.equal((await putManifest(server, 'early', sha256(body), body, OCI_MANIFEST)).status, 201);
    const listed = (await (await server.request(`/v2/early/referrers/${absent.digest}`)).json()) as { manifests: unknown[] };
    assert.equal(listed.manifests.length, 1);
  });
});
