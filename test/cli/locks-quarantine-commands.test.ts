import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { imageOf, pushImage, putManifest, type Image } from '../helpers/oci-http.ts';
import { assertCliError, startCliBerth, type CliBerth } from './cli-harness.ts';

describe('berth repository update / show (locks) and berth config quarantine', () => {
  let cli: CliBerth;
  let image: Image;
  const registry = ['-n', 'contoso'];

  before(async () => {
    cli = await startCliBerth();
    await cli.berth(['create', '-n', 'contoso']);
    image = await pushImage(cli.server, 'app', 'v1', imageOf(), cli.loginServer('contoso'));
  });
  after(() => cli.close());

  it('update --image locks a tag; show --image prints its attributes; true unlocks', async () => {
    const updated = await cli.json<{ tag: { changeableAttributes: Record<string, boolean> } }>(['repository', 'update', ...registry, '--image', 'app:v1', '--write-enabled', 'false']);
    assert.equal(updated.tag.changeableAttributes.writeEnabled, false);
    const shown = await cli.json<{ tag: { name: string; changeableAttributes: Record<string, boolean> } }>(['repository', 'show', ...registry, '--image', 'app:v1']);
    assert.equal(shown.tag.name, 'v1');
    assert.deepEqual(shown.tag.changeableAttributes, { deleteEnabled: true, writeEnabled: false, readEnabled: true, listEnabled: true });
    const other = imageOf();
    await pushImage(cli.server, 'app', 'other', other, cli.loginServer('contoso'));
    assert.equal((await putManifest(cli.server, 'app', 'v1', other.manifest, other.mediaType, cli.loginServer('contoso'))).status, 403);
    assertCliError(await cli.berth(['repository', 'untag', ...registry, '--image', 'app:v1'], { allowFailure: true }), /write-locked/);
    await cli.berth(['repository', 'update', ...registry, '--image', 'app:v1', '--write-enabled', 'true']);
    assert.equal((await cli.json<{ tag: { changeableAttributes: Record<string, boolean> } }>(['repository', 'show', ...registry, '--image', 'app:v1'])).tag.changeableAttributes.writeEnabled, true);
  });

  it('update -t repo@digest and --repository; show --repository', async () => {
    const manifest = await cli.json<{ manifest: { changeableAttributes: Record<string, unknown> } }>(['repository', 'update', ...registry, '-t', `app@${image.digest}`, '--delete-enabled', 'false', '--read-enabled', 'false']);
    assert.equal(manifest.manifest.changeableAttributes.deleteEnabled, false);
    assert.equal(manifest.manifest.changeableAttributes.readEnabled, false);
    assertCliError(await cli.berth(['repository', 'delete', ...registry, '-t', `app@${image.digest}`, '--yes'], { allowFailure: true }), /delete-locked/);
    await cli.berth(['repository', 'update', ...registry, '-t', `app@${image.digest}`, '--delete-enabled', 'true', '--read-enabled', 'true']);

    await cli.berth(['repository', 'update', ...registry, '--repository', 'app', '--list-enabled', 'false']);
    const repository = await cli.json<{ changeableAttributes: Record<string, boolean> }>(['repository', 'show', ...registry, '--repository', 'app']);
    assert.equal(repository.changeableAttributes.listEnabled, false);
    assert.deepEqual(await cli.json(['repository', 'list', ...registry]), []);
    await cli.berth(['repository', 'update', ...registry, '--repository', 'app', '--list-enabled', 'true']);
  });

  it('update refuses no target, two targets, or no attribute', async () => {
    assertCliError(await cli.berth(['repository', 'update', ...registry, '--write-enabled', 'false'], { allowFailure: true }), /one of --repository, --image/);
    assertCliError(await cli.berth(['repository', 'update', ...registry, '--repository', 'app', '--image', 'app:v1', '--write-enabled', 'false'], { allowFailure: true }), /one of/);
    assertCliError(await cli.berth(['repository', 'update', ...registry, '--repository', 'app'], { allowFailure: true }), /at least one of/);
  });

  it('config quarantine show|update', async () => {
    assert.deepEqual(await cli.json(['config', 'quarantine', 'show', '-r', 'contoso']), { status: 'disabled' });
    assert.deepEqual(await cli.json(['config', 'quarantine', 'update', '-r', 'contoso', '--status', 'enabled']), { status: 'enabled' });
    assert.deepEqual(await cli.json(['config', 'quarantine', 'show', '-r', 'contoso']), { status: 'enabled' });
  });
});
