import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import { startTestBerth, type TestBerth } from '../helper.ts';
import {
  assertError,
  blobOf,
  DOCKER_LIST,
  DOCKER_MANIFEST,
  imageOf,
  type Image,
  OCI_INDEX,
  OCI_MANIFEST,
  pushBlob,
  pushImage,
  putManifest,
  randomBlob,
  sha256,
} from '../helpers/oci-http.ts';

describe('manifests: /v2/<name>/manifests/<reference>', () => {
  let server: TestBerth;
  before(async () => {
    server = await startTestBerth();
  });
  after(() => server.close());

  it('PUT by tag, then GET/HEAD by tag and digest return the exact bytes', async () => {
    const image = await pushImage(server, 'app', 'v1');
    for (const reference of ['v1', image.digest]) {
      const get = await server.request(`/v2/app/manifests/${reference}`, { headers: { accept: OCI_MANIFEST } });
      assert.equal(get.status, 200);
      assert.equal(get.headers.get('content-type'), OCI_MANIFEST);
      assert.equal(get.headers.get('docker-content-digest'), image.digest);
      assert.deepEqual(Buffer.from(await get.arrayBuffer()), image.manifest);
      const head = await server.request(`/v2/app/manifests/${reference}`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), String(image.manifest.length));
      assert.equal(head.headers.get('docker-content-digest'), image.digest);
    }
  });

  it('PUT answers 201 with Location and Docker-Content-Digest', async () => {
    const image = imageOf();
    for (const blob of [image.config, ...image.layers]) await pushBlob(server, 'app', blob);
    const response = await putManifest(server, 'app', 'v2', image.manifest, OCI_MANIFEST);
    assert.equal(response.status, 201);
    assert.equal(response.headers.get('location'), `/v2/app/manifests/${image.digest}`);
    assert.equal(response.headers.get('docker-content-digest'), image.digest);
  });

  it('PUT by digest verifies the digest (sha256 and sha512) and ?tag= adds tags', async () => {
    const image = imageOf();
    for (const blob of [image.config, ...image.layers]) await pushBlob(server, 'bydigest', blob);
    await assertError(await putManifest(server, 'bydigest', sha256('other'), image.manifest, OCI_MANIFEST), 400, 'DIGEST_INVALID');
    const response = await server.request(`/v2/bydigest/manifests/${image.digest}?tag=a&tag=b`, { method: 'PUT', body: image.manifest, headers: { 'content-type': OCI_MANIFEST } });
    assert.equal(response.status, 201);
    const tags = await (await server.request('/v2/bydigest/tags/list')).json();
    assert.deepEqual(tags, { name: 'bydigest', tags: ['a', 'b'] });
    const sha512 = `sha512:${createHash('sha512').update(image.manifest).digest('hex')}`;
    assert.equal((await putManifest(server, 'bydigest', sha512, image.manifest, OCI_MANIFEST)).status, 201);
    const get = await server.request(`/v2/bydigest/manifests/${sha512}`);
    assert.equal(get.headers.get('docker-content-digest'), sha512);
  });

  it('a manifest referencing a missing blob is MANIFEST_BLOB_UNKNOWN and nothing is stored', async () => {
    const image = imageOf();
    await pushBlob(server, 'missing', image.config);
    await assertError(await putManifest(server, 'missing', 'v1', image.manifest, OCI_MANIFEST), 400, 'MANIFEST_BLOB_UNKNOWN');
    await assertError(await server.request('/v2/missing/manifests/v1'), 404, 'MANIFEST_UNKNOWN');
  });

  it('blobs of another repository do not satisfy a manifest', async () => {
    const image = imageOf();
    for (const blob of [image.config, ...image.layers]) await pushBlob(server, 'elsewhere', blob);
    await assertError(await putManifest(server, 'notmine', 'v1', image.manifest, OCI_MANIFEST), 400, 'MANIFEST_BLOB_UNKNOWN');
  });

  it('invalid manifests are MANIFEST_INVALID; oversized ones 413', async () => {
    await assertError(await putManifest(server, 'bad', 'v1', Buffer.from('{not json'), OCI_MANIFEST), 400, 'MANIFEST_INVALID');
    await assertError(await putManifest(server, 'bad', 'v1', Buffer.from('{"schemaVersion":1}'), OCI_MANIFEST), 400, 'MANIFEST_INVALID');
    await assertError(await putManifest(server, 'bad', 'v1', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'x/y', digest: 'sha256:1', size: 1 }, layers: [] })), OCI_MANIFEST), 400, 'MANIFEST_INVALID');
    const mismatch = imageOf({ mediaType: DOCKER_MANIFEST });
    await assertError(await putManifest(server, 'bad', 'v1', mismatch.manifest, OCI_MANIFEST), 400, 'MANIFEST_INVALID');
    const huge = Buffer.alloc(4 * 1024 * 1024 + 1, 0x20);
    const response = await putManifest(server, 'bad', 'v1', huge, OCI_MANIFEST);
    assert.equal(response.status, 413);
    await assertError(await putManifest(server, 'bad', 'in%20valid', imageOf().manifest, OCI_MANIFEST), 400, 'MANIFEST_INVALID');
  });

  it('unknown manifests are MANIFEST_UNKNOWN (404) by tag and digest', async () => {
    await assertError(await server.request('/v2/app/manifests/nope'), 404, 'MANIFEST_UNKNOWN');
    await assertError(await server.request(`/v2/app/manifests/${sha256('nope')}`), 404, 'MANIFEST_UNKNOWN');
    assert.equal((await server.request('/v2/app/manifests/nope', { method: 'HEAD' })).status, 404);
  });

  it('a reference that cannot be a tag is MANIFEST_UNKNOWN (404) to GET, HEAD and DELETE', async () => {
    await pushImage(server, 'oddref', 'v1', imageOf());
    await assertError(await server.request('/v2/oddref/manifests/.INVALID_MANIFEST_NAME'), 404, 'MANIFEST_UNKNOWN');
    assert.equal((await server.request('/v2/oddref/manifests/.INVALID_MANIFEST_NAME', { method: 'HEAD' })).status, 404);
    await assertError(await server.request('/v2/oddref/manifests/-x', { method: 'DELETE' }), 404, 'MANIFEST_UNKNOWN');
    assert.equal((await server.request('/v2/oddref/manifests/v1')).status, 200, 'the repository is untouched');
  });

  it('Docker schema 2 manifests and manifest lists round-trip', async () => {
    const amd = await pushImage(server, 'docker/img', 'amd', imageOf({ mediaType: DOCKER_MANIFEST }));
    const arm = await pushImage(server, 'docker/img', 'arm', imageOf({ mediaType: DOCKER_MANIFEST }));
    const list = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: DOCKER_LIST,
        manifests: [
          { mediaType: DOCKER_MANIFEST, digest: amd.digest, size: amd.manifest.length, platform: { architecture: 'amd64', os: 'linux' } },
          { mediaType: DOCKER_MANIFEST, digest: arm.digest, size: arm.manifest.length, platform: { architecture: 'arm64', os: 'linux' } },
        ],
      }),
    );
    assert.equal((await putManifest(server, 'docker/img', 'multi', list, DOCKER_LIST)).status, 201);
    const get = await server.request('/v2/docker/img/manifests/multi', { headers: { accept: `${DOCKER_MANIFEST}, ${DOCKER_LIST}` } });
    assert.equal(get.headers.get('content-type'), DOCKER_LIST);
    assert.deepEqual(Buffer.from(await get.arrayBuffer()), list);

    const old = await server.request('/v2/docker/img/manifests/multi', { headers: { accept: DOCKER_MANIFEST } });
    assert.equal(old.status, 200, 'a client that cannot read lists gets the host platform image');
    assert.equal(old.headers.get('content-type'), DOCKER_MANIFEST);

    const refused = await server.request('/v2/docker/img/manifests/amd', { headers: { accept: OCI_MANIFEST } });
    await assertError(refused, 404, 'MANIFEST_UNKNOWN');
  });

  it('an OCI index needs its children in the repository; a child of an index cannot be deleted first', async () => {
    const child = await pushImage(server, 'oci/idx', 'child');
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: child.digest, size: child.manifest.length }] }));
    await assertError(await putManifest(server, 'oci/other', 'idx', index, OCI_INDEX), 400, 'MANIFEST_BLOB_UNKNOWN');
    assert.equal((await putManifest(server, 'oci/idx', 'idx', index, OCI_INDEX)).status, 201);
    const refused = await server.request(`/v2/oci/idx/manifests/${child.digest}`, { method: 'DELETE' });
    assert.equal(refused.status, 409);
    assert.equal((await server.request(`/v2/oci/idx/manifests/${sha256(index)}`, { method: 'DELETE' })).status, 202);
    assert.equal((await server.request(`/v2/oci/idx/manifests/${child.digest}`, { method: 'DELETE' })).status, 202);
  });

  it('an artifact (Helm chart) with artifactType and a subject answers OCI-Subject', async () => {
    const subject = await pushImage(server, 'charts/app', 'v1');
    const config = blobOf('{}');
    const chart = randomBlob(300);
    await pushBlob(server, 'charts/app', config);
    await pushBlob(server, 'charts/app', chart);
    const artifact = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        artifactType: 'application/vnd.cncf.helm.config.v1+json',
        config: { mediaType: 'application/vnd.cncf.helm.config.v1+json', digest: config.digest, size: config.size },
        layers: [{ mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip', digest: chart.digest, size: chart.size }],
        subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.manifest.length },
      }),
    );
    const response = await putManifest(server, 'charts/app', sha256(artifact), artifact, OCI_MANIFEST);
    assert.equal(response.status, 201);
    assert.equal(response.headers.get('oci-subject'), subject.digest);
  });

  it('DELETE by tag removes only the tag; DELETE by digest removes the manifest and its tags', async () => {
    const image = await pushImage(server, 'del', 'one');
    await putManifest(server, 'del', 'two', image.manifest, OCI_MANIFEST);
    assert.equal((await server.request('/v2/del/manifests/one', { method: 'DELETE' })).status, 202);
    await assertError(await server.request('/v2/del/manifests/one'), 404, 'MANIFEST_UNKNOWN');
    assert.equal((await server.request('/v2/del/manifests/two')).status, 200);
    assert.equal((await server.request(`/v2/del/manifests/${image.digest}`, { method: 'DELETE' })).status, 202);
    await assertError(await server.request('/v2/del/manifests/two'), 404, 'MANIFEST_UNKNOWN');
    await assertError(await server.request(`/v2/del/manifests/${image.digest}`, { method: 'DELETE' }), 404, 'MANIFEST_UNKNOWN');
  });

  it('concurrent tag moves leave the tag on one intact manifest', async () => {
    const images: Image[] = [];
    for (let index = 0; index < 5; index++) images.push(await pushImage(server, 'moves', `v${index}`));
    await Promise.all(Array.from({ length: 40 }, (_, index) => putManifest(server, 'moves', 'latest', images[index % 5]!.manifest, OCI_MANIFEST)));
    const latest = await server.request('/v2/moves/manifests/latest');
    const digest = latest.headers.get('docker-content-digest');
    assert.ok(images.some((image) => image.digest === digest));
    for (const image of images) assert.equal((await server.request(`/v2/moves/manifests/${image.digest}`)).status, 200);
  });
});
