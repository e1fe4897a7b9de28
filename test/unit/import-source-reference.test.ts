import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatSourceImage, isLoopbackHost, parseSourceImage, resolveTargets, sourceBaseUrl, sourceManifestReference } from '../../src/import/source-reference.ts';
import { RegistryError } from '../../src/oci/errors.ts';

const digest = `sha256:${'ab'.repeat(32)}`;

describe('parseSourceImage (--source)', () => {
  it('reads fully qualified sources, defaulting the tag to latest', () => {
    assert.deepEqual(parseSourceImage('127.0.0.1:5000/team/app:1.2', false), { host: '127.0.0.1:5000', repository: 'team/app', tag: '1.2', digest: null });
    assert.deepEqual(parseSourceImage('mcr.microsoft.com/dotnet/runtime', false), { host: 'mcr.microsoft.com', repository: 'dotnet/runtime', tag: 'latest', digest: null });
    assert.deepEqual(parseSourceImage(`localhost:5000/app@${digest}`, false), { host: 'localhost:5000', repository: 'app', tag: null, digest });
  });

  it("resolves Docker Hub's names to its API host and library/ namespace", () => {
    assert.deepEqual(parseSourceImage('docker.io/hello-world:latest', false), { host: 'registry-1.docker.io', repository: 'library/hello-world', tag: 'latest', digest: null });
    assert.deepEqual(parseSourceImage('docker.io/bitnami/redis:7', false), { host: 'registry-1.docker.io', repository: 'bitnami/redis', tag: '7', digest: null });
  });

  it('needs a host for a remote source and none with a source registry', () => {
    assert.throws(() => parseSourceImage('app:1', false), /names no registry/);
    assert.deepEqual(parseSourceImage('app:1', true), { host: null, repository: 'app', tag: '1', digest: null });
    assert.throws(() => parseSourceImage('example.com/app:1', true), /repository:tag or repository@digest/);
  });

  it('refuses malformed names with an OCI error', () => {
    for (const bad of ['example.com/UPPER:1', 'example.com/app:bad tag', 'example.com/app@sha256:short']) {
      assert.throws(() => parseSourceImage(bad, false), RegistryError, bad);
    }
  });

  it('asks the manifest endpoint for the digest when pinned, else the tag', () => {
    assert.equal(sourceManifestReference(parseSourceImage(`h.io/a:1@${digest}`, false)), digest);
    assert.equal(sourceManifestReference(parseSourceImage('h.io/a:1', false)), '1');
    assert.equal(formatSourceImage(parseSourceImage(`h.io/a@${digest}`, false)), `h.io/a@${digest}`);
    assert.equal(formatSourceImage(parseSourceImage('a:2', true)), 'a:2');
  });
});

describe('resolveTargets (--image, --repository)', () => {
  const source = parseSourceImage('h.io/team/app:3', false);

  it('groups tags by repository; a target without a tag is :latest', () => {
    assert.deepEqual(resolveTargets(['app:1', 'app:2', 'other', 'ns/x:y'], [], source), [
      { repository: 'app', tags: ['1', '2'] },
      { repository: 'other', tags: ['latest'] },
      { repository: 'ns/x', tags: ['y'] },
    ]);
  });

  it('adds untagged repositories and defaults to the source repository and tag', () => {
    assert.deepEqual(resolveTargets([], ['plain'], source), [{ repository: 'plain', tags: [] }]);
    assert.deepEqual(resolveTargets([], [], source), [{ repository: 'team/app', tags: ['3'] }]);
    assert.deepEqual(resolveTargets([], [], parseSourceImage(`h.io/a@${digest}`, false)), [{ repository: 'a', tags: [] }]);
  });

  it('refuses digests and bad names as targets', () => {
    assert.throws(() => resolveTargets([`app@${digest}`], [], source), /must be repository:tag/);
    assert.throws(() => resolveTargets(['App:1'], [], source), RegistryError);
    assert.throws(() => resolveTargets(['app:-bad'], [], source), RegistryError);
  });
});

describe('sourceBaseUrl: http for loopback, https elsewhere', () => {
  it('uses plain http for loopback names and addresses, as registry clients do', () => {
    for (const host of ['localhost:5000', 'contoso.localhost:5000', '127.0.0.1:5000', '127.1.2.3', '[::1]:5000']) {
      assert.ok(isLoopbackHost(host), host);
      assert.equal(sourceBaseUrl(host).protocol, 'http:', host);
    }
  });

  it('uses https for every other host unless listed as insecure (by host or host:port)', () => {
    assert.equal(sourceBaseUrl('registry-1.docker.io').toString(), 'https://registry-1.docker.io/');
    assert.equal(sourceBaseUrl('10.0.0.5:5000').protocol, 'https:');
    assert.equal(sourceBaseUrl('10.0.0.5:5000', ['10.0.0.5:5000']).protocol, 'http:');
    assert.equal(sourceBaseUrl('Mirror.Example:443', ['mirror.example']).protocol, 'http:');
    assert.ok(!isLoopbackHost('localhost.example.com'));
  });
});
