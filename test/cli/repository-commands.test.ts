import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { imageOf, OCI_INDEX, pushBlob, pushImage, putManifest, type Image } from '../helpers/oci-http.ts';
import { assertCliError, startCliBerth, type CliBerth } from './cli-harness.ts';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('berth repository', () => {
  let cli: CliBerth;
  let first: Image;
  let second: Image;
  let third: Image;
  const registry = ['-n', 'contoso'];

  before(async () => {
    cli = await startCliBerth();
    await cli.berth(['create', '-n', 'contoso']);
    const host = cli.loginServer('contoso');
    // x: an untagged manifest (first, then retagged away), two tags on second, one on third.
    first = await pushImage(cli.server, 'x', 'v1', imageOf(), host);
    await pause(20);
    second = await pushImage(cli.server, 'x', 'v1', imageOf(), host);
    await pause(20);
    assert.equal((await putManifest(cli.server, 'x', 'latest', second.manifest, second.mediaType, host)).status, 201);
    await pause(20);
    third = await pushImage(cli.server, 'x', 'v2', imageOf(), host);
    await pushImage(cli.server, 'samples/hello', '1.0', imageOf(), host);
    // multi: an index tagged v1 over two untagged platform manifests.
    const platforms = [imageOf(), imageOf()];
    for (const image of platforms) {
      for (const blob of [image.config, ...image.layers]) await pushBlob(cli.server, 'multi', blob, host);
      assert.equal((await putManifest(cli.server, 'multi', image.digest, image.manifest, image.mediaType, host)).status, 201);
    }
    const index = {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: platforms.map((image, i) => ({ mediaType: image.mediaType, digest: image.digest, size: image.manifest.length, platform: { os: 'linux', architecture: i === 0 ? 'amd64' : 'arm64' } })),
    };
    assert.equal((await putManifest(cli.server, 'multi', 'v1', Buffer.from(JSON.stringify(index)), OCI_INDEX, host)).status, 201);
    const many = imageOf();
    await pushImage(cli.server, 'many', 'tag000', many, host);
    for (let i = 1; i < 130; i++) {
      const response = await putManifest(cli.server, 'many', `tag${String(i).padStart(3, '0')}`, many.manifest, many.mediaType, host);
      assert.equal(response.status, 201);
    }
  });
  after(() => cli.close());

  it('list prints repository names; -o tsv one per line', async () => {
    assert.deepEqual(await cli.json(['repository', 'list', ...registry]), ['many', 'multi', 'samples/hello', 'x']);
    assert.equal((await cli.berth(['repository', 'list', ...registry, '-o', 'tsv'])).stdout, 'many\nmulti\nsamples/hello\nx\n');
    assert.deepEqual(await cli.json(['repository', 'list', ...registry, '--top', '2']), ['many', 'multi']);
  });

  it('show-tags lists names, follows pages, orders by time, and shows details', async () => {
    assert.deepEqual(await cli.json(['repository', 'show-tags', ...registry, '--repository', 'x']), ['latest', 'v1', 'v2']);
    const many = await cli.json<string[]>(['repository', 'show-tags', ...registry, '--repository', 'many']);
    assert.equal(many.length, 130, 'every page is read');
    assert.equal(many.at(-1), 'tag129');
    assert.deepEqual(await cli.json(['repository', 'show-tags', ...registry, '--repository', 'many', '--top', '3']), ['tag000', 'tag001', 'tag002']);
    assert.deepEqual(await cli.json(['repository', 'show-tags', ...registry, '--repository', 'x', '--orderby', 'time_desc', '--top', '1']), ['v2']);
    assert.deepEqual((await cli.json<string[]>(['repository', 'show-tags', ...registry, '--repository', 'x', '--orderby', 'time_asc'])).at(-1), 'v2');
    const detail = await cli.json<{ name: string; digest: string; createdTime: string; lastUpdateTime: string }[]>(['repository', 'show-tags', ...registry, '--repository', 'x', '--detail']);
    assert.deepEqual(
      detail.map((tag) => [tag.name, tag.digest]),
      [
        ['latest', second.digest],
        ['v1', second.digest],
        ['v2', third.digest],
      ],
    );
    const table = (await cli.berth(['repository', 'show-tags', ...registry, '--repository', 'x', '--detail', '-o', 'table'])).stdout.split('\n');
    assert.match(table[0]!, /^NAME\s+DIGEST\s+CREATED TIME\s+LAST UPDATE TIME$/);
    assert.match(table[2]!, new RegExp(`^latest\\s+${second.digest}\\s+\\d{4}-`));
    assert.equal((await cli.berth(['repository', 'show-tags', ...registry, '--repository', 'x', '-o', 'table'])).stdout, 'Result\n------\nlatest\nv1\nv2\n');
  });

  it('show-manifests prints {digest, tags, timestamp}; the az FAQ query lists the untagged ones', async () => {
    const manifests = await cli.json<{ digest: string; tags: string[]; timestamp: string }[]>(['repository', 'show-manifests', ...registry, '--repository', 'x', '--orderby', 'time_asc']);
    assert.deepEqual(
      manifests.map((manifest) => [manifest.digest, [...manifest.tags].sort()]),
      [
        [first.digest, []],
        [second.digest, ['latest', 'v1']],
        [third.digest, ['v2']],
      ],
    );
    assert.deepEqual(Object.keys(manifests[0]!), ['digest', 'tags', 'timestamp']);
    const untagged = await cli.berth(['repository', 'show-manifests', ...registry, '--repository', 'x', '--query', '[?tags[0]==null].digest', '-o', 'tsv']);
    assert.equal(untagged.stdout, `${first.digest}\n`);
    const detail = await cli.json<{ digest: string; imageSize: number; architecture: string | null; os: string | null; mediaType: string }[]>([
      'repository',
      'show-manifests',
      ...registry,
      '--repository',
      'x',
      '--detail',
      '--orderby',
      'time_desc',
      '--top',
      '1',
    ]);
    assert.equal(detail.length, 1);
    assert.equal(detail[0]!.digest, third.digest);
    assert.equal(detail[0]!.mediaType, third.mediaType);
    assert.ok(detail[0]!.imageSize > 0);
    const table = (await cli.berth(['repository', 'show-manifests', ...registry, '--repository', 'x', '--orderby', 'time_asc', '-o', 'table'])).stdout.split('\n');
    assert.match(table[0]!, /^DIGEST\s+TAGS\s+TIMESTAMP$/);
    assert.match(table[4]!, new RegExp(`^${third.digest}\\s+v2\\s+\\d{4}-`));
  });

  it('show describes a repository, a tag or a manifest', async () => {
    const repository = await cli.json<{ registry: string; imageName: string; manifestCount: number; tagCount: number }>(['repository', 'show', ...registry, '--repository', 'x']);
    assert.equal(repository.registry, cli.loginServer('contoso'));
    assert.equal(repository.imageName, 'x');
    assert.equal(repository.manifestCount, 3);
    assert.equal(repository.tagCount, 3);
    const tag = await cli.json<{ imageName: string; tag: { name: string; digest: string } }>(['repository', 'show', ...registry, '--image', 'x:latest']);
    assert.equal(tag.imageName, 'x');
    assert.deepEqual([tag.tag.name, tag.tag.digest], ['latest', second.digest]);
    const manifest = await cli.json<{ manifest: { digest: string; tags: string[] } }>(['repository', 'show', ...registry, '-t', `x@${third.digest}`]);
    assert.deepEqual(manifest.manifest.tags, ['v2']);
    assertCliError(await cli.berth(['repository', 'show', ...registry, '--image', 'x:nosuchtag'], { allowFailure: true }), /nosuchtag/);
    assertCliError(await cli.berth(['repository', 'show', ...registry, '--repository', 'nosuchrepo'], { allowFailure: true }), /nosuchrepo|not known|unknown/i);
    assertCliError(await cli.berth(['repository', 'show', ...registry], { allowFailure: true }), /--repository or --image/);
  });

  it('untag removes only the tag; delete --image repo:tag removes the manifest and all its tags', async () => {
    await cli.berth(['repository', 'untag', ...registry, '--image', 'x:latest']);
    assert.deepEqual(await cli.json(['repository', 'show-tags', ...registry, '--repository', 'x']), ['v1', 'v2']);
    assertCliError(await cli.berth(['repository', 'untag', ...registry, '--image', `x@${second.digest}`], { allowFailure: true }), /repo:tag/);

    await cli.berth(['repository', 'delete', ...registry, '--image', 'x:v1', '--yes']);
    assert.deepEqual(await cli.json(['repository', 'show-tags', ...registry, '--repository', 'x']), ['v2']);
    assert.ok(!(await cli.json<{ digest: string }[]>(['repository', 'show-manifests', ...registry, '--repository', 'x'])).some((entry) => entry.digest === second.digest));
  });

  it('delete -t repo@digest, fed by show-manifests, removes the untagged manifests (the az FAQ pipeline)', async () => {
    const untagged = (await cli.berth(['repository', 'show-manifests', ...registry, '--repository', 'x', '--query', '[?tags[0]==null].digest', '-o', 'tsv'])).stdout.split('\n').filter(Boolean);
    assert.deepEqual(untagged, [first.digest]);
    assertCliError(await cli.berth(['repository', 'delete', ...registry, '-t', `x@${untagged[0]}`], { allowFailure: true }), /Use --yes/);
    for (const digest of untagged) await cli.berth(['repository', 'delete', ...registry, '-t', `x@${digest}`, '--yes']);
    assert.deepEqual(await cli.json<{ digest: string }[]>(['repository', 'show-manifests', ...registry, '--repository', 'x', '--query', '[].digest']), [third.digest]);
  });

  it('delete --repository removes the repository with all its images, an index before its children', async () => {
    assert.equal((await cli.json<unknown[]>(['repository', 'show-manifests', ...registry, '--repository', 'multi'])).length, 3);
    await cli.berth(['repository', 'delete', ...registry, '--repository', 'multi', '--yes']);
    await cli.berth(['repository', 'delete', ...registry, '--repository', 'many', '--yes']);
    assert.deepEqual(await cli.json(['repository', 'list', ...registry]), ['samples/hello', 'x']);
    assertCliError(await cli.berth(['repository', 'delete', ...registry, '--repository', 'x', '--image', 'x:v2', '--yes'], { allowFailure: true }), /either --repository or --image/);
  });
});
