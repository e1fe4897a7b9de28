import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assignRole, createUser } from '../helpers/identity.ts';
import { imageOf, pushBlob, pushImage, randomBlob } from '../helpers/oci-http.ts';
import { assertCliError, startCliBerth, type CliBerth } from './cli-harness.ts';

interface GcReport {
  dryRun: boolean;
  unlinkedBlobs: { registry: string; repository: string; digest: string; size: number }[];
  deletedBlobs: { digest: string; size: number }[];
  expiredUploads: unknown[];
  reclaimedBytes: number;
}

interface Usage {
  value: { name: string; limit: number | null; currentValue: number; unit: string }[];
}

const GRACE_SECONDS = 1;

describe('berth gc run, berth show-usage, berth update --storage-quota', () => {
  let cli: CliBerth;
  before(async () => {
    cli = await startCliBerth({ gc: { enabled: false, gracePeriodSeconds: GRACE_SECONDS } });
  });
  after(() => cli.close());

  it('berth gc run --dry-run lists what berth gc run then reclaims', async () => {
    const shared = randomBlob(2000);
    const gone = await pushImage(cli.server, 'cli/app', 'old', imageOf({ layers: [shared, randomBlob(1000)] }));
    await pushImage(cli.server, 'cli/app', 'new', imageOf({ layers: [shared] }));
    await pushBlob(cli.server, 'cli/loose', randomBlob(500));
    await cli.berth(['repository', 'delete', '-n', 'default', '--image', `cli/app@${gone.digest}`, '--yes']);
    await new Promise((resolve) => setTimeout(resolve, GRACE_SECONDS * 1000 + 100));

    const dry = await cli.json<GcReport>(['gc', 'run', '--dry-run']);
    assert.equal(dry.dryRun, true);
    assert.equal(dry.deletedBlobs.length, 3, 'the deleted image config and own layer, and the loose blob');
    assert.ok(dry.deletedBlobs.some((blob) => blob.digest === gone.layers[1]!.digest));
    assert.ok(!dry.deletedBlobs.some((blob) => blob.digest === shared.digest));
    assert.equal((await cli.berth(['gc', 'run', '--dry-run', '--query', 'reclaimedBytes', '-o', 'tsv'])).stdout, `${dry.reclaimedBytes}\n`);

    const table = (await cli.berth(['gc', 'run', '-o', 'table'])).stdout.split('\n');
    assert.match(table[0]!, /^DRY RUN\s+UNLINKED BLOBS\s+DELETED BLOBS\s+EXPIRED UPLOADS\s+RECLAIMED BYTES\s+STARTED\s+FINISHED$/);
    assert.match(table[2]!, new RegExp(`^false\\s+3\\s+3\\s+0\\s+${dry.reclaimedBytes}\\s`));
    const again = await cli.json<GcReport>(['gc', 'run']);
    assert.deepEqual([again.deletedBlobs, again.reclaimedBytes], [[], 0]);
  });

  it('berth show-usage -n prints ACR\'s usage list, as JSON and as a table', async () => {
    const usage = await cli.json<Usage>(['show-usage', '-n', 'default']);
    assert.deepEqual(
      usage.value.map((item) => item.name),
      ['Size', 'Webhooks', 'ScopeMaps', 'Tokens', 'Repositories', 'Manifests', 'Tags'],
    );
    const size = usage.value[0]!;
    assert.equal(size.unit, 'Bytes');
    assert.equal(size.limit, 100 * 1024 ** 3);
    assert.ok(size.currentValue > 2000);
    const table = (await cli.berth(['show-usage', '-n', 'default', '-o', 'table'])).stdout.split('\n');
    assert.match(table[0]!, /^NAME\s+LIMIT\s+CURRENT VALUE\s+UNIT$/);
    assert.match(table[2]!, new RegExp(`^Size\\s+${100 * 1024 ** 3}\\s+${size.currentValue}\\s+Bytes$`));
    assert.match(table[6]!, /^Repositories\s+1\s+Count$/);
    assertCliError(await cli.berth(['show-usage', '-n', 'nosuchregistry'], { allowFailure: true }), /nosuchregistry/);
  });

  it('berth update -n --storage-quota 50GiB sets the limit that show-usage reports', async () => {
    const updated = await cli.json<{ name: string }>(['update', '-n', 'default', '--storage-quota', '50GiB']);
    assert.equal(updated.name, 'default');
    const size = () => cli.json<number>(['show-usage', '-n', 'default', '--query', "value[?name=='Size'].limit | [0]"]);
    assert.equal(await size(), 50 * 1024 ** 3);
    await cli.berth(['update', '-n', 'default', '--sku', 'Premium', '--storage-quota', '1.5TB']);
    assert.equal(await size(), 1.5e12);
    await cli.berth(['update', '-n', 'default', '--sku', 'Basic']);
    assert.equal(await size(), 10 * 1024 ** 3, 'a SKU change brings its own quota');
    assertCliError(await cli.berth(['update', '-n', 'default', '--storage-quota', 'lots'], { allowFailure: true }), /expected a size such as 50GiB/);
  });

  it('refuses gc run and --storage-quota to anyone but the installation owner', async () => {
    await createUser(cli.server, 'gcclient', 'gc-client-password-1');
    await assignRole(cli.server, 'gcclient', 'Owner', '/registries/default');
    const env = { BERTH_USERNAME: 'gcclient', BERTH_PASSWORD: 'gc-client-password-1' };
    assertCliError(await cli.berth(['gc', 'run'], { env, allowFailure: true }), /not allowed/);
    assertCliError(await cli.berth(['update', '-n', 'default', '--storage-quota', '1GiB'], { env, allowFailure: true }), /not allowed/);
    assert.equal((await cli.json<Usage>(['show-usage', '-n', 'default'], { env })).value.length, 7);
  });
});
