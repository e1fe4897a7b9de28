import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestBerth, type TestBerth } from '../helper.ts';
import { as, assignRole, createRegistry, createUser, mgmtOk, ociError } from '../helpers/identity.ts';
import { imageOf, OCI_MANIFEST, pushImage, putManifest, type Image } from '../helpers/oci-http.ts';

interface TagEntry {
  name: string;
  digest: string;
  createdTime: string;
  lastUpdateTime: string;
  signed: boolean;
  changeableAttributes: Record<string, boolean>;
}

interface ManifestEntry {
  digest: string;
  imageSize: number;
  createdTime: string;
  lastUpdateTime: string;
  architecture: string | null;
  os: string | null;
  mediaType: string;
  configMediaType: string | null;
  tags: string[];
  changeableAttributes: Record<string, boolean | string | null>;
}

const open = { deleteEnabled: true, writeEnabled: true, readEnabled: true, listEnabled: true };

describe('/acr/v1/: ACR data-plane listings', () => {
  let server: TestBerth;
  let contoso: string;
  let first: Image;
  let second: Image;
  let untagged: Image;

  const get = (path: string, auth?: Parameters<TestBerth['request']>[1]) => server.request(path, { host: contoso, ...auth });
  const json = async <T>(path: string): Promise<{ body: T; link: string | null }> => {
    const response = await get(path);
    const text = await response.text();
    assert.equal(response.status, 200, `${path}: ${text}`);
    return { body: JSON.parse(text) as T, link: response.headers.get('link') };
  };

  before(async () => {
    server = await startTestBerth();
    contoso = await createRegistry(server, 'contoso');
    first = await pushImage(server, 'app', 'v1', imageOf(), contoso);
    second = await pushImage(server, 'app', 'v2', imageOf(), contoso);
    assert.equal((await putManifest(server, 'app', 'latest', second.manifest, OCI_MANIFEST, contoso)).status, 201);
    untagged = imageOf();
    await pushImage(server, 'app', 'scratch', untagged, contoso);
    assert.equal((await server.request('/v2/app/manifests/scratch', { method: 'DELETE', host: contoso })).status, 202, 'untagged');
    for (const repository of ['samples/one', 'samples/two']) await pushImage(server, repository, 'v1', imageOf(), contoso);
  });
  after(() => server.close());

  it('GET /acr/v1/_catalog lists repositories with n, last and Link', async () => {
    const all = await json<{ repositories: string[] }>('/acr/v1/_catalog');
    assert.deepEqual(all.body.repositories, ['app', 'samples/one', 'samples/two']);
    const page = await json<{ repositories: string[] }>('/acr/v1/_catalog?n=2');
    assert.deepEqual(page.body.repositories, ['app', 'samples/one']);
    assert.equal(page.link, '</acr/v1/_catalog?n=2&last=samples%2Fone>; rel="next"');
    const rest = await json<{ repositories: string[] }>('/acr/v1/_catalog?n=2&last=samples%2Fone');
    assert.deepEqual(rest.body.repositories, ['samples/two']);
    assert.equal(rest.link, null);
  });

  it('GET /acr/v1/<repo> summarises the repository', async () => {
    const { body } = await json<Record<string, unknown>>('/acr/v1/app');
    assert.deepEqual(Object.keys(body), ['registry', 'imageName', 'createdTime', 'lastUpdateTime', 'manifestCount', 'tagCount', 'changeableAttributes']);
    assert.equal(body.registry, contoso);
    assert.equal(body.imageName, 'app');
    assert.equal(body.tagCount, 3);
    assert.equal(body.manifestCount, 3);
    assert.deepEqual(body.changeableAttributes, open);
    const nested = await json<{ imageName: string }>('/acr/v1/samples/one');
    assert.equal(nested.body.imageName, 'samples/one');
  });

  it('GET /acr/v1/<repo>/_tags: details, name order by default, time order on request, digest filter', async () => {
    const { body } = await json<{ registry: string; imageName: string; tags: TagEntry[] }>('/acr/v1/app/_tags');
    assert.equal(body.registry, contoso);
    assert.deepEqual(body.tags.map((tag) => tag.name), ['latest', 'v1', 'v2']);
    const latest = body.tags[0]!;
    assert.deepEqual(Object.keys(latest), ['name', 'digest', 'createdTime', 'lastUpdateTime', 'signed', 'changeableAttributes']);
    assert.equal(latest.digest, second.digest);
    assert.equal(latest.signed, false);
    assert.match(latest.createdTime, /^\d{4}-\d{2}-\d{2}T/);

    const newest = await json<{ tags: TagEntry[] }>('/acr/v1/app/_tags?orderby=timedesc&n=2');
    assert.deepEqual(newest.body.tags.map((tag) => tag.name), ['latest', 'v2']);
    assert.equal(newest.link, '</acr/v1/app/_tags?n=2&last=v2&orderby=timedesc>; rel="next"');
    const older = await json<{ tags: TagEntry[] }>('/acr/v1/app/_tags?orderby=timedesc&n=2&last=v2');
    assert.deepEqual(older.body.tags.map((tag) => tag.name), ['v1']);
    assert.equal(older.link, null);
    const oldest = await json<{ tags: TagEntry[] }>('/acr/v1/app/_tags?orderby=timeasc&n=1');
    assert.deepEqual(oldest.body.tags.map((tag) => tag.name), ['v1']);

    const onSecond = await json<{ tags: TagEntry[] }>(`/acr/v1/app/_tags?digest=${second.digest}`);
    assert.deepEqual(onSecond.body.tags.map((tag) => tag.name), ['latest', 'v2']);
  });

  it('GET /acr/v1/<repo>/_manifests: digests, sizes, media types and tags; untagged manifests have none', async () => {
    const { body } = await json<{ registry: string; imageName: string; manifests: ManifestEntry[] }>('/acr/v1/app/_manifests');
    assert.equal(body.imageName, 'app');
    const byDigest = new Map(body.manifests.map((manifest) => [manifest.digest, manifest]));
    const entry = byDigest.get(second.digest)!;
    assert.deepEqual(Object.keys(entry), [
      'digest',
      'imageSize',
      'createdTime',
      'lastUpdateTime',
      'architecture',
      'os',
      'mediaType',
      'configMediaType',
      'tags',
      'changeableAttributes',
    ]);
    assert.deepEqual(entry.tags, ['latest', 'v2']);
    assert.equal(entry.mediaType, OCI_MANIFEST);
    assert.equal(entry.imageSize, second.manifest.length + second.config.size + second.layers.reduce((sum, layer) => sum + layer.size, 0));
    assert.equal(entry.architecture, 'amd64', 'read from the image config at push time');
    assert.equal(entry.os, 'linux');
    assert.equal(entry.configMediaType, 'application/vnd.oci.image.config.v1+json');
    assert.deepEqual(entry.changeableAttributes, { ...open, quarantineState: null, quarantineDetails: null });
    const withoutTags = body.manifests.filter((manifest) => manifest.tags.length === 0).map((manifest) => manifest.digest);
    assert.deepEqual(withoutTags, [untagged.digest], 'what --query "[?tags[0]==null].digest" selects');

    const paged = await json<{ manifests: ManifestEntry[] }>('/acr/v1/app/_manifests?n=1&orderby=timeasc');
    assert.equal(paged.body.manifests[0]!.digest, first.digest);
    assert.match(paged.link ?? '', /^<\/acr\/v1\/app\/_manifests\?n=1&last=sha256%3A[0-9a-f]{64}&orderby=timeasc>; rel="next"$/);
  });

  it('errors are OCI error JSON: unknown repository, bad parameters, unsupported methods', async () => {
    await ociError(await get('/acr/v1/nothing/here'), 404, 'NAME_UNKNOWN');
    await ociError(await get('/acr/v1/nothing/_tags'), 404, 'NAME_UNKNOWN');
    await ociError(await get('/acr/v1/Bad_Name'), 400, 'NAME_INVALID');
    await ociError(await get('/acr/v1/app/_tags?orderby=sideways'), 400, 'UNSUPPORTED');
    await ociError(await get('/acr/v1/app/_tags?n=abc'), 400, 'PAGINATION_NUMBER_INVALID');
    await ociError(await get('/acr/v1/app/_tags?digest=nope'), 400, 'DIGEST_INVALID');
    await ociError(await server.request('/acr/v1/app/_tags', { method: 'DELETE', host: contoso }), 405, 'UNSUPPORTED');
  });

  it('authorized like /v2/: catalog and metadata_read, with the Bearer challenge for anonymous callers', async () => {
    const anonymous = await get('/acr/v1/app/_tags', { auth: 'none' });
    assert.equal(anonymous.headers.get('www-authenticate'), `Bearer realm="http://${contoso}/oauth2/token",service="${contoso}",scope="repository:app:metadata_read"`);
    await ociError(anonymous, 401, 'UNAUTHORIZED');
    const catalog = await get('/acr/v1/_catalog', { auth: 'none' });
    assert.match(catalog.headers.get('www-authenticate') ?? '', /scope="registry:catalog:\*"$/);

    await createUser(server, 'puller', 'puller-password-1');
    await assignRole(server, 'puller', 'AcrPull', '/registries/contoso');
    const puller = as(server, { username: 'puller', password: 'puller-password-1' });
    await ociError(await puller.request('/acr/v1/app/_tags', { host: contoso }), 403, 'DENIED');
    await ociError(await puller.request('/acr/v1/nothing/_tags', { host: contoso }), 403, 'DENIED');
    await ociError(await puller.request('/acr/v1/_catalog', { host: contoso }), 403, 'DENIED');

    await createUser(server, 'reader', 'reader-password-1');
    await assignRole(server, 'reader', 'Reader', '/registries/contoso');
    const reader = as(server, { username: 'reader', password: 'reader-password-1' });
    assert.equal((await reader.request('/acr/v1/_catalog', { host: contoso })).status, 200);
    assert.equal((await reader.request('/acr/v1/app/_manifests', { host: contoso })).status, 200);

    const token = await mgmtOk<{ credentials: { passwords: { value: string }[] } }>(server, 201, 'POST', '/registries/contoso/tokens', {
      name: 'samples-meta',
      actions: ['repositories/samples/*/metadata/read'],
    });
    const tokenAuth = as(server, { username: 'samples-meta', password: token.credentials.passwords[0]!.value });
    assert.equal((await tokenAuth.request('/acr/v1/samples/one/_tags', { host: contoso })).status, 200);
    await ociError(await tokenAuth.request('/acr/v1/app/_tags', { host: contoso }), 403, 'DENIED');
  });
});
