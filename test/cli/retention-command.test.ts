import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertCliError, startCliBerth, type CliBerth } from './cli-harness.ts';

describe('berth config retention', () => {
  let cli: CliBerth;

  before(async () => {
    cli = await startCliBerth();
    await cli.berth(['create', '-n', 'contoso']);
  });
  after(() => cli.close());

  it('show|update', async () => {
    const shown = await cli.json<Record<string, unknown>>(['config', 'retention', 'show', '-r', 'contoso']);
    assert.deepEqual(shown, { status: 'disabled', days: 7, type: 'UntaggedManifests', includeExisting: false, enabledAt: null });
    const updated = await cli.json<Record<string, unknown>>([
      'config', 'retention', 'update', '-r', 'contoso', '--status', 'enabled', '--days', '0', '--type', 'UntaggedManifests', '--include-existing',
    ]);
    assert.equal(updated.status, 'enabled');
    assert.equal(updated.days, 0);
    assert.equal(updated.includeExisting, true);
    const narrowed = await cli.json<Record<string, unknown>>(['config', 'retention', 'update', '-r', 'contoso', '--include-existing', 'false']);
    assert.equal(narrowed.includeExisting, false);
    assert.equal(narrowed.status, 'enabled');
  });

  it('refuses days outside 0..365', async () => {
    assertCliError(await cli.berth(['config', 'retention', 'update', '-r', 'contoso', '--days', '400'], { allowFailure: true }), /0 to 365/);
  });
});
