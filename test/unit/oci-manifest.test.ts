import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { digestOf } from '../../src/oci/digest.ts';
import { RegistryError } from '../../src/oci/errors.ts';
import {
  MAX_MANIFEST_BYTES,
  acceptsMediaType,
  parseManifest,
  selectPlatform,
  type Descriptor,
} from '../../src/oci/manifest.ts';
import {
  DOCKER_CONTAINER_CONFIG,
  DOCKER_FOREIGN_LAYER,
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  DOCKER_SCHEMA1_SIGNED_MANIFEST,
  OCI_EMPTY,
  OCI_IMAGE_CONFIG,
  OCI_INDEX,
  OCI_MANIFEST,
  OCI_NONDISTRIBUTABLE_LAYER_GZIP,
  OCI_NONDISTRIBUTABLE_LAYER_ZSTD,
} from '../../src/oci/media-types.ts';

const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
const DOCKER_LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
const HELM_CONFIG = 'application/vnd.cncf.helm.config.v1+json';
const HELM_CHART = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';
const SBOM = 'application/spdx+json';

function descriptor(mediaType: string, content: string, extra: Partial<Descriptor> = {}): Descriptor {
  return { mediaType, digest: digestOf(content), size: Buffer.byteLength(content), ...extra };
}

const imageConfig = descriptor(DOCKER_CONTAINER_CONFIG, '{"architecture":"amd64","os":"linux"}');
const layer1 = descriptor(DOCKER_LAYER_GZIP, 'layer one');
const layer2 = descriptor(DOCKER_LAYER_GZIP, 'layer two');
const ociConfig = descriptor(OCI_IMAGE_CONFIG, '{"architecture":"arm64","os":"linux"}');
const ociLayer = descriptor(OCI_LAYER_GZIP, 'oci layer');
const emptyConfig: Descriptor = { mediaType: OCI_EMPTY, digest: digestOf('{}'), size: 2, data: 'e30=' } as Descriptor;

function dockerManifest(): Record<string, unknown> {
  return { schemaVersion: 2, mediaType: DOCKER_MANIFEST, config: imageConfig, layers: [layer1, layer2] };
}

function ociManifest(): Record<string, unknown> {
  return { schemaVersion: 2, mediaType: OCI_MANIFEST, config: ociConfig, layers: [ociLayer] };
}

const amd64Child = descriptor(OCI_MANIFEST, 'amd64 manifest', { platform: { architecture: 'amd64', os: 'linux' } });
const arm64Child = descriptor(OCI_MANIFEST, 'arm64 manifest', {
  platform: { architecture: 'arm64', os: 'linux', variant: 'v8' },
});
const armv7Child = descriptor(OCI_MANIFEST, 'armv7 manifest', { platform: { architecture: 'arm', os: 'linux', variant: 'v7' } });
const armv6Child = descriptor(OCI_MANIFEST, 'armv6 manifest', { platform: { architecture: 'arm', os: 'linux', variant: 'v6' } });
const attestation = descriptor(OCI_MANIFEST, 'attestation', {
  platform: { architecture: 'unknown', os: 'unknown' },
  annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': amd64Child.digest },
});

function ociIndex(): Record<string, unknown> {
  return { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [amd64Child, arm64Child, attestation] };
}

function body(document: unknown): Buffer {
  return Buffer.from(JSON.stringify(document));
}

function assertInvalid(document: unknown, contentType: string | undefined, message: RegExp): void {
  const bytes = Buffer.isBuffer(document) ? document : body(document);
  assert.throws(() => parseManifest(bytes, contentType), (error: unknown) => {
    assert.ok(error instanceof RegistryError, 'not a RegistryError');
    assert.equal(error.code, 'MANIFEST_INVALID');
    assert.match(error.message, message);
    return true;
  });
}

describe('parseManifest: image manifests', () => {
  it('parses a Docker schema 2 manifest', () => {
    const parsed = parseManifest(body(dockerManifest()), DOCKER_MANIFEST);
    assert.deepEqual(parsed, {
      mediaType: DOCKER_MANIFEST,
      kind: 'image',
      artifactType: DOCKER_CONTAINER_CONFIG,
      subject: null,
      blobs: [imageConfig, layer1, layer2],
      manifests: [],
      annotations: null,
      config: imageConfig,
      contentSize: imageConfig.size + layer1.size + layer2.size,
    });
  });

  it('parses an OCI manifest with artifactType, subject and annotations (an SBOM referrer)', () => {
    const subject = descriptor(OCI_MANIFEST, 'the image');
    const sbom = descriptor(SBOM, '{"spdxVersion":"SPDX-2.3"}', { annotations: { 'org.opencontainers.image.title': 'sbom.spdx.json' } });
    const manifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: 'application/vnd.example.sbom.v1',
      config: emptyConfig,
      layers: [sbom],
      subject,
      annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' },
    };
    const parsed = parseManifest(body(manifest), OCI_MANIFEST);
    assert.equal(parsed.kind, 'image');
    assert.equal(parsed.artifactType, 'application/vnd.example.sbom.v1');
    assert.deepEqual(parsed.subject, subject);
    assert.deepEqual(parsed.blobs, [{ mediaType: OCI_EMPTY, digest: digestOf('{}'), size: 2 }, sbom]);
    assert.deepEqual(parsed.annotations, { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' });
  });

  it('takes a Helm chart artifactType from its config media type', () => {
    const manifest = {
      schemaVersion: 2,
      config: descriptor(HELM_CONFIG, '{"name":"mychart","version":"0.1.0"}'),
      layers: [descriptor(HELM_CHART, 'chart tarball')],
      annotations: { 'org.opencontainers.image.title': 'mychart', 'org.opencontainers.image.version': '0.1.0' },
    };
    const parsed = parseManifest(body(manifest), OCI_MANIFEST);
    assert.equal(parsed.mediaType, OCI_MANIFEST);
    assert.equal(parsed.artifactType, HELM_CONFIG);
    assert.equal(parsed.blobs.length, 2);
  });

  it('accepts an empty layers array', () => {
    const parsed = parseManifest(body({ ...ociManifest(), artifactType: 'application/vnd.example+type', config: emptyConfig, layers: [] }), undefined);
    assert.equal(parsed.blobs.length, 1);
    assert.equal(parsed.artifactType, 'application/vnd.example+type');
  });

  it('leaves non-distributable layers out of the blobs', () => {
    const foreign = descriptor(DOCKER_FOREIGN_LAYER, 'windows base', { urls: ['https://mcr.microsoft.com/v2/windows/blobs/x'] });
    const docker = parseManifest(body({ ...dockerManifest(), layers: [foreign, layer1] }), DOCKER_MANIFEST);
    assert.deepEqual(docker.blobs, [imageConfig, layer1]);
    assert.deepEqual(foreign.urls, ['https://mcr.microsoft.com/v2/windows/blobs/x']);

    const gzip = descriptor(OCI_NONDISTRIBUTABLE_LAYER_GZIP, 'restricted');
    const zstd = descriptor(OCI_NONDISTRIBUTABLE_LAYER_ZSTD, 'restricted zstd');
    const oci = parseManifest(body({ ...ociManifest(), layers: [gzip, ociLayer, zstd] }), OCI_MANIFEST);
    assert.deepEqual(oci.blobs, [ociConfig, ociLayer]);
  });

  it('accepts sha512 descriptors and keeps only known descriptor fields', () => {
    const layer = { mediaType: OCI_LAYER_GZIP, digest: digestOf('big', 'sha512'), size: 3, unknownField: true };
    const parsed = parseManifest(body({ ...ociManifest(), layers: [layer] }), OCI_MANIFEST);
    assert.deepEqual(parsed.blobs[1], { mediaType: OCI_LAYER_GZIP, digest: digestOf('big', 'sha512'), size: 3 });
  });

  it('accepts a subject on a Docker manifest', () => {
    const subject = descriptor(DOCKER_MANIFEST, 'other');
    assert.deepEqual(parseManifest(body({ ...dockerManifest(), subject }), DOCKER_MANIFEST).subject, subject);
  });
});

describe('parseManifest: indexes', () => {
  it('parses an OCI index with platforms and annotations', () => {
    const parsed = parseManifest(body({ ...ociIndex(), annotations: { a: 'b' } }), OCI_INDEX);
    assert.deepEqual(parsed, {
      mediaType: OCI_INDEX,
      kind: 'index',
      artifactType: null,
      subject: null,
      blobs: [],
      manifests: [amd64Child, arm64Child, attestation],
      annotations: { a: 'b' },
      config: null,
      contentSize: amd64Child.size + arm64Child.size + attestation.size,
    });
  });

  it('parses a Docker manifest list', () => {
    const entries = [
      descriptor(DOCKER_MANIFEST, 'amd64', { platform: { architecture: 'amd64', os: 'linux' } }),
      descriptor(DOCKER_MANIFEST, 'windows', {
        platform: { architecture: 'amd64', os: 'windows', 'os.version': '10.0.20348.2113', 'os.features': ['win32k'] },
      }),
    ];
    const parsed = parseManifest(body({ schemaVersion: 2, mediaType: DOCKER_MANIFEST_LIST, manifests: entries }), DOCKER_MANIFEST_LIST);
    assert.equal(parsed.kind, 'index');
    assert.deepEqual(parsed.manifests, entries);
  });

  it('keeps an index artifactType and subject', () => {
    const subject = descriptor(OCI_INDEX, 'subject index');
    const parsed = parseManifest(body({ ...ociIndex(), artifactType: 'application/vnd.example.bundle', subject }), OCI_INDEX);
    assert.equal(parsed.artifactType, 'application/vnd.example.bundle');
    assert.deepEqual(parsed.subject, subject);
  });

  it('accepts an empty index', () => {
    assert.deepEqual(parseManifest(body({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] }), OCI_INDEX).manifests, []);
  });
});

describe('parseManifest: the effective media type', () => {
  it('uses the Content-Type when it is a manifest type, ignoring its parameters and case', () => {
    const { mediaType: _, ...withoutMediaType } = dockerManifest();
    assert.equal(parseManifest(body(withoutMediaType), DOCKER_MANIFEST).mediaType, DOCKER_MANIFEST);
    assert.equal(parseManifest(body(dockerManifest()), `${DOCKER_MANIFEST.toUpperCase()}; charset=utf-8`).mediaType, DOCKER_MANIFEST);
  });

  it('falls back to the body mediaType for a generic or missing Content-Type', () => {
    for (const contentType of [undefined, '', 'application/json', 'application/octet-stream', 'text/plain']) {
      assert.equal(parseManifest(body(dockerManifest()), contentType).mediaType, DOCKER_MANIFEST, String(contentType));
      assert.equal(parseManifest(body(ociIndex()), contentType).mediaType, OCI_INDEX, String(contentType));
    }
  });

  it('infers OCI types from the shape when nothing names one', () => {
    const { mediaType: _m, ...image } = ociManifest();
    const { mediaType: _i, ...index } = ociIndex();
    assert.equal(parseManifest(body(image), 'application/octet-stream').mediaType, OCI_MANIFEST);
    assert.equal(parseManifest(body(index), undefined).mediaType, OCI_INDEX);
    assert.equal(parseManifest(body(index), undefined).kind, 'index');
  });

  it('rejects a body mediaType that contradicts the Content-Type', () => {
    assertInvalid(dockerManifest(), OCI_MANIFEST, /mediaType "application\/vnd\.docker\.distribution\.manifest\.v2\+json" does not match Content-Type/);
    assertInvalid(ociIndex(), DOCKER_MANIFEST_LIST, /does not match Content-Type/);
  });

  it('rejects a shape that names no type or both', () => {
    assertInvalid({ schemaVersion: 2 }, undefined, /cannot tell the manifest type/);
    assertInvalid({ schemaVersion: 2, config: ociConfig, layers: [], manifests: [] }, 'application/json', /cannot tell/);
  });

  it('rejects unsupported and non-string body media types', () => {
    assertInvalid({ ...ociManifest(), mediaType: 'application/vnd.oci.artifact.manifest.v1+json' }, undefined, /unsupported manifest mediaType/);
    assertInvalid({ ...ociManifest(), mediaType: 7 }, undefined, /mediaType must be a string/);
  });

  it('requires the fields of the type it was declared as', () => {
    assertInvalid(ociManifest(), OCI_INDEX, /does not match/);
    const { mediaType: _m, ...image } = ociManifest();
    assertInvalid(image, OCI_INDEX, /manifests is required in an index/);
    const { mediaType: _i, ...index } = ociIndex();
    assertInvalid(index, OCI_MANIFEST, /config is required/);
    assertInvalid({ schemaVersion: 2, config: ociConfig }, OCI_MANIFEST, /layers is required/);
  });
});

describe('parseManifest: rejected bodies', () => {
  it('rejects what is not a JSON object', () => {
    assertInvalid(Buffer.from('not json'), OCI_MANIFEST, /not valid JSON/);
    assertInvalid(Buffer.from(''), OCI_MANIFEST, /not valid JSON/);
    for (const document of [[], null, 'string', 2]) assertInvalid(document, OCI_MANIFEST, /must be a JSON object/);
  });

  it('rejects schema 1, by version or by media type', () => {
    const schema1 = { schemaVersion: 1, name: 'library/hello', tag: 'latest', architecture: 'amd64', fsLayers: [], history: [] };
    assertInvalid(schema1, DOCKER_SCHEMA1_SIGNED_MANIFEST, /schema version 1 is not supported/);
    assertInvalid(schema1, undefined, /schema version 1 is not supported/);
    assertInvalid(dockerManifest(), 'application/vnd.docker.distribution.manifest.v1+json', /schema version 1 is not supported/);
    assertInvalid({ ...dockerManifest(), mediaType: DOCKER_SCHEMA1_SIGNED_MANIFEST }, undefined, /schema version 1 is not supported/);
  });

  it('rejects a missing or other schemaVersion', () => {
    const { schemaVersion: _, ...noVersion } = ociManifest();
    assertInvalid(noVersion, OCI_MANIFEST, /schemaVersion must be 2/);
    assertInvalid({ ...ociManifest(), schemaVersion: '2' }, OCI_MANIFEST, /schemaVersion must be 2/);
    assertInvalid({ ...ociManifest(), schemaVersion: 3 }, OCI_MANIFEST, /schemaVersion must be 2/);
  });

  it('rejects a body over 4 MiB with status 413', () => {
    const huge = Buffer.alloc(MAX_MANIFEST_BYTES + 1, 0x20);
    assert.throws(() => parseManifest(huge, OCI_MANIFEST), (error: unknown) => {
      assert.ok(error instanceof RegistryError);
      assert.equal(error.code, 'MANIFEST_INVALID');
      assert.equal(error.status, 413);
      return true;
    });
  });

  it('rejects a non-array layers or manifests', () => {
    assertInvalid({ ...ociManifest(), layers: {} }, OCI_MANIFEST, /^layers must be an array$/);
    assertInvalid({ ...ociIndex(), manifests: 'x' }, OCI_INDEX, /^manifests must be an array$/);
  });

  it('rejects invalid artifactType, annotations and subject', () => {
    assertInvalid({ ...ociManifest(), artifactType: 'not a media type' }, OCI_MANIFEST, /^artifactType "not a media type" is not a valid media type$/);
    assertInvalid({ ...ociIndex(), artifactType: 42 }, OCI_INDEX, /^artifactType must be a string$/);
    assertInvalid({ ...ociManifest(), annotations: { a: 1 } }, OCI_MANIFEST, /^annotations must be an object of strings$/);
    assertInvalid({ ...ociManifest(), annotations: ['a'] }, OCI_MANIFEST, /^annotations must be an object of strings$/);
    assertInvalid({ ...ociManifest(), subject: 'sha256:abc' }, OCI_MANIFEST, /^subject must be a descriptor object$/);
    assertInvalid({ ...ociManifest(), subject: { ...ociConfig, digest: 'sha256:abc' } }, OCI_MANIFEST, /^subject\.digest: invalid sha256 digest/);
  });
});

describe('parseManifest: descriptors', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['missing mediaType', { digest: ociLayer.digest, size: 1 }, /^layers\[0\]\.mediaType must be a string$/],
    ['mediaType with parameters', { ...ociLayer, mediaType: 'text/plain; charset=utf-8' }, /^layers\[0\]\.mediaType "text\/plain; charset=utf-8" is not a valid media type$/],
    ['mediaType without subtype', { ...ociLayer, mediaType: 'application' }, /not a valid media type/],
    ['mediaType with a space', { ...ociLayer, mediaType: 'application/x y' }, /not a valid media type/],
    ['mediaType too long', { ...ociLayer, mediaType: `application/${'x'.repeat(128)}` }, /not a valid media type/],
    ['missing digest', { mediaType: OCI_LAYER_GZIP, size: 1 }, /^layers\[0\]\.digest must be a string$/],
    ['upper-case digest', { ...ociLayer, digest: ociLayer.digest.toUpperCase() }, /^layers\[0\]\.digest: invalid digest/],
    ['short digest', { ...ociLayer, digest: 'sha256:abcd' }, /^layers\[0\]\.digest: invalid sha256 digest/],
    ['unknown algorithm', { ...ociLayer, digest: `md5:${'a'.repeat(32)}` }, /^layers\[0\]\.digest: unsupported digest algorithm "md5"/],
    ['missing size', { mediaType: OCI_LAYER_GZIP, digest: ociLayer.digest }, /^layers\[0\]\.size must be a non-negative integer$/],
    ['negative size', { ...ociLayer, size: -1 }, /size must be a non-negative integer/],
    ['fractional size', { ...ociLayer, size: 1.5 }, /size must be a non-negative integer/],
    ['string size', { ...ociLayer, size: '10' }, /size must be a non-negative integer/],
    ['unsafe size', { ...ociLayer, size: 2 ** 53 }, /size must be a non-negative integer/],
    ['urls not strings', { ...ociLayer, urls: [1] }, /^layers\[0\]\.urls must be an array of strings$/],
    ['annotations not strings', { ...ociLayer, annotations: { a: true } }, /^layers\[0\]\.annotations must be an object of strings$/],
    ['bad artifactType', { ...ociLayer, artifactType: 'nope' }, /^layers\[0\]\.artifactType "nope" is not a valid media type$/],
    ['data not a string', { ...ociLayer, data: 5 }, /^layers\[0\]\.data must be a base64 string$/],
  ];
  for (const [label, layer, message] of cases) {
    it(`rejects a layer with ${label}`, () => {
      assertInvalid({ ...ociManifest(), layers: [layer] }, OCI_MANIFEST, message);
    });
  }

  it('names the config and index entries in messages', () => {
    assertInvalid({ ...ociManifest(), config: { ...ociConfig, size: -5 } }, OCI_MANIFEST, /^config\.size/);
    assertInvalid({ ...ociManifest(), config: [] }, OCI_MANIFEST, /^config must be a descriptor object$/);
    assertInvalid({ ...ociIndex(), manifests: [amd64Child, { ...arm64Child, digest: 'x' }] }, OCI_INDEX, /^manifests\[1\]\.digest/);
  });

  it('checks platforms of index entries', () => {
    const entry = (platform: unknown) => ({ ...ociIndex(), manifests: [{ ...amd64Child, platform }] });
    assertInvalid(entry('linux/amd64'), OCI_INDEX, /^manifests\[0\]\.platform must be an object$/);
    assertInvalid(entry({ os: 'linux' }), OCI_INDEX, /^manifests\[0\]\.platform\.architecture is required$/);
    assertInvalid(entry({ architecture: 'amd64' }), OCI_INDEX, /^manifests\[0\]\.platform\.os is required$/);
    assertInvalid(entry({ architecture: 'amd64', os: 'linux', variant: 8 }), OCI_INDEX, /^manifests\[0\]\.platform\.variant must be a string$/);
    assertInvalid(entry({ architecture: 'amd64', os: 'linux', features: 'sse4' }), OCI_INDEX, /platform\.features must be an array of strings$/);
  });

  it('treats null optional fields as absent', () => {
    const parsed = parseManifest(body({ ...ociManifest(), subject: null, annotations: null, artifactType: null, layers: [{ ...ociLayer, urls: null }] }), OCI_MANIFEST);
    assert.equal(parsed.subject, null);
    assert.equal(parsed.annotations, null);
    assert.equal(parsed.artifactType, OCI_IMAGE_CONFIG);
    assert.deepEqual(parsed.blobs[1], ociLayer);
  });
});

describe('acceptsMediaType', () => {
  it('accepts anything without an Accept header', () => {
    assert.equal(acceptsMediaType(undefined, OCI_INDEX), true);
    assert.equal(acceptsMediaType('', OCI_INDEX), true);
    assert.equal(acceptsMediaType([], OCI_INDEX), true);
  });

  it('accepts through wildcards', () => {
    assert.equal(acceptsMediaType('*/*', OCI_INDEX), true);
    assert.equal(acceptsMediaType('application/*', OCI_INDEX), true);
    assert.equal(acceptsMediaType('text/*', OCI_INDEX), false);
  });

  it('reads comma-separated lists, parameters and repeated headers', () => {
    const docker = `${DOCKER_MANIFEST}, ${DOCKER_MANIFEST_LIST}, ${OCI_MANIFEST}, ${OCI_INDEX}`;
    assert.equal(acceptsMediaType(docker, OCI_INDEX), true);
    assert.equal(acceptsMediaType(`${OCI_MANIFEST};q=0.9,${DOCKER_MANIFEST} ; q=0.5`, DOCKER_MANIFEST), true);
    assert.equal(acceptsMediaType([OCI_MANIFEST, DOCKER_MANIFEST], DOCKER_MANIFEST), true);
    assert.equal(acceptsMediaType([OCI_MANIFEST, DOCKER_MANIFEST], OCI_INDEX), false);
    assert.equal(acceptsMediaType(OCI_MANIFEST, OCI_INDEX), false);
    assert.equal(acceptsMediaType(OCI_MANIFEST.toUpperCase(), OCI_MANIFEST), true);
  });

  it('treats q=0 as not acceptable, the most specific range deciding', () => {
    assert.equal(acceptsMediaType(`${OCI_INDEX};q=0`, OCI_INDEX), false);
    assert.equal(acceptsMediaType(`*/*, ${OCI_INDEX};q=0`, OCI_INDEX), false);
    assert.equal(acceptsMediaType(`*/*;q=0, ${OCI_INDEX}`, OCI_INDEX), true);
    assert.equal(acceptsMediaType(`application/*;q=0.0, */*`, OCI_INDEX), false);
    assert.equal(acceptsMediaType(`${OCI_INDEX};q=0.001`, OCI_INDEX), true);
    assert.equal(acceptsMediaType(`${OCI_INDEX};q=bogus`, OCI_INDEX), true);
  });
});

describe('selectPlatform', () => {
  const entries = [amd64Child, attestation, arm64Child, armv6Child, armv7Child];

  it('picks the entry of the same os and architecture', () => {
    assert.equal(selectPlatform(entries, { os: 'linux', architecture: 'amd64' }), amd64Child);
    assert.equal(selectPlatform(entries, { os: 'windows', architecture: 'amd64' }), undefined);
    assert.equal(selectPlatform(entries, { os: 'linux', architecture: 's390x' }), undefined);
  });

  it('understands node and uname architecture names', () => {
    assert.equal(selectPlatform(entries, { os: 'linux', architecture: 'x64' }), amd64Child);
    assert.equal(selectPlatform(entries, { os: 'linux', architecture: 'x86_64' }), amd64Child);
    assert.equal(selectPlatform(entries, { os: 'linux', architecture: 'aarch64' }), arm64Child);
  });

  it('matches variants, with arm64 meaning v8 and arm meaning v7 by default', () => {
    assert.equal(selectPlatform(entries, { os: 'linux', architecture: 'arm', variant: 'v6' }), armv6Child);
    assert.equal(selectPlatform(entries, { os: 'linux', architecture: 'arm' }), armv7Child);
    assert.equal(selectPlatform(entries, { os: 'linux', architecture: 'arm', variant: 'v5' }), undefined);
    const arm64NoVariant = descriptor(OCI_MANIFEST, 'arm64 plain', { platform: { architecture: 'arm64', os: 'linux' } });
    assert.equal(selectPlatform([arm64NoVariant], { os: 'linux', architecture: 'arm64', variant: 'v8' }), arm64NoVariant);
    assert.equal(selectPlatform([armv6Child], { os: 'linux', architecture: 'arm' }), armv6Child);
  });

  it('skips entries without a platform', () => {
    const bare = descriptor(OCI_MANIFEST, 'no platform');
    assert.equal(selectPlatform([bare], { os: 'linux', architecture: 'amd64' }), undefined);
  });
});
