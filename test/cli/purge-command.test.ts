import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pushImage } from '../helpers/oci-http.ts';
import { assertCliError, startCliBerth, type CliBerth } from './cli-harness.ts';

interface Report {
  dryRun: boolean;
  tags: { repository: string; tag: string }[];
  manifests: { repository: string; digest: string; reason: string }[];
  failed: unknown[];
}

describe('berth purge', () => {
  let cli: CliBerth;
  before(async () => {
    cli = await startCliBerth();
  });
  after(() => cli.close());

  it('--dry-run lists what the real run then deletes', async () => {
    const first = await pushImage(cli.server, 'app', 'latest');
    await pushImage(cli.server, 'app', 'latest');
    const args = ['purge', '-r', 'default', '--filter', 'app:.*', '--ago', '0d', '--untagged-only'];
    const dry = await cli.json<Report>([...args, '--dry-run']);
    assert.equal(dry.dryRun, true);
    assert.deepEqual(dry.manifests.map((m) => m.digest), [first.digest]);
    const real = await cli.json<Report>(args);
    assert.deepEqual(real.manifests, dry.manifests);
    assert.deepEqual(real.failed, []);
  });

  it('refuses a filter that does not compile, and --untagged with --untagged-only', async () => {
    assertCliError(await cli.berth(['purge', '-r', 'default', '--filter', 'app:v(', '--ago', '0d'], { allowFailure: true }), /tag regex does not compile/);
    assertCliError(await cli.berth(['purge', '-r', 'default', '--filter', 'app:.*', '--ago', '0d', '--untagged', '--untagged-only'], { allowFailure: true }), /cannot be used with/);
  });
});
