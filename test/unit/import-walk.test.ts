/** walkImage over an in-memory source: what an import reads before it writes anything. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { ImportError, type FetchedManifest, type SourceReader } from '../../src/import/source-reader.ts';
import { MAX_MANIFESTS, walkImage } from '../../src/import/walk.ts';

const sha256 = (data: string | Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

/** A source holding manifests by digest (and tags pointing at them). */
class MemorySource implements SourceReader {
  readonly description = 'memory';
  readonly manifests = new Map<string, FetchedManifest>();
  readonly tags = new Map<string, string>();
  readonly fetched: string[] = [];

  add(document: object, tag?: string): FetchedManifest & { size: number } {
    const content = Buffer.from(JSON.stringify(document));
    const manifest = { digest: sha256(content), mediaType: (document as { mediaType: string }).mediaType, content };
    this.manifests.set(manifest.digest, manifest);
    if (tag) this.tags.set(tag, manifest.digest);
    return { ...manifest, size: content.length };
  }

  async manifest(reference: string): Promise<FetchedManifest> {
    this.fetched.push(reference);
    const found = this.manifests.get(this.tags.get(reference) ?? reference);
    if (!found) throw new ImportError(`manifest ${reference} is missing at the source`);
    return found;
  }

  async deliverBlob(): Promise<'copied'> {
    throw new Error('not used');
  }
}

function image(source: MemorySource, layers: string[], architecture = 'amd64') {
  const config = `{"architecture":"${architecture}","os":"linux"}`;
  return source.add({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: layers.map((layer) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(layer), size: layer.length })),
  });
}

function index(source: MemorySource, children: { digest: string; size: number; mediaType: string }[], tag?: string) {
  return source.add(
    {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: children.map((child, position) => ({ mediaType: child.mediaType, digest: child.digest, size: child.size, platform: { os: 'linux', architecture: position % 2 ? 'arm64' : 'amd64' } })),
    },
    tag,
  );
}

describe('walkImage', () => {
  it('reads a single image: no children, its config and layers', async () => {
    const source = new MemorySource();
    const single = image(source, ['layer-a', 'layer-b']);
    const walk = await walkImage(source, single.digest);
    assert.equal(walk.top.digest, single.digest);
    assert.equal(walk.top.label, `image ${single.digest}`);
    assert.deepEqual(walk.children, []);
    assert.equal(walk.blobs.length, 3);
  });

  it('lists every platform before its index, nested indexes too, and each shared blob once', async () => {
    const source = new MemorySource();
    const amd64 = image(source, ['shared', 'amd64-only']);
    const arm64 = image(source, ['shared', 'arm64-only'], 'arm64');
    const inner = index(source, [amd64, arm64]);
    const top = index(source, [{ ...inner, mediaType: OCI_INDEX }, amd64], 'multi');
    const walk = await walkImage(source, 'multi');
    assert.equal(walk.top.digest, top.digest);
    assert.deepEqual(walk.children.map((child) => child.digest), [amd64.digest, arm64.digest, inner.digest]);
    assert.equal(walk.children[1]!.label, `linux/arm64 image ${arm64.digest}`);
    const layers = ['shared', 'amd64-only', 'arm64-only'].map((layer) => sha256(layer));
    for (const layer of layers) assert.equal(walk.blobs.filter((blob) => blob.digest === layer).length, 1, layer);
    assert.equal(walk.blobs.length, 5, 'two configs, the shared layer once, two own layers');
    assert.equal(walk.blobs.find((blob) => blob.digest === sha256('arm64-only'))!.of, `linux/arm64 image ${arm64.digest}`);
    assert.equal(source.fetched.filter((reference) => reference === amd64.digest).length, 2, 'a repeated child is fetched but walked once');
  });

  it('refuses an index whose entry size does not match the child', async () => {
    const source = new MemorySource();
    const child = image(source, ['x']);
    index(source, [{ ...child, size: child.size + 1 }], 'bad');
    await assert.rejects(walkImage(source, 'bad'), /gives linux\/amd64 image sha256:[0-9a-f]+ a size of \d+ bytes, but it has \d+/);
  });

  it('names a missing child, and refuses invalid manifests and too many manifests', async () => {
    const source = new MemorySource();
    index(source, [{ digest: sha256('nothing'), size: 7, mediaType: OCI_MANIFEST }], 'dangling');
    await assert.rejects(walkImage(source, 'dangling'), /manifest sha256:[0-9a-f]+ is missing at the source/);

    source.manifests.set(sha256('{}'), { digest: sha256('{}'), mediaType: OCI_MANIFEST, content: Buffer.from('{}') });
    await assert.rejects(walkImage(source, sha256('{}')), /cannot be imported: schemaVersion must be 2/);

    const many = Array.from({ length: MAX_MANIFESTS }, (_, position) => image(source, [`layer-${position}`]));
    index(source, many, 'huge');
    await assert.rejects(walkImage(source, 'huge'), new RegExp(`more than ${MAX_MANIFESTS} manifests`));
  });
});
