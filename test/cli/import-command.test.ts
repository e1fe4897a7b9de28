import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { splitImportCredentials } from '../../src/cli/commands/import.ts';
import { startReferenceRegistry, type RegistryProcess } from '../helpers/berth-process.ts';
import { imageOf, pushImage, type Image } from '../helpers/oci-http.ts';
import { skopeoCopy, testImages, type TestImages } from '../helpers/images.ts';
import { servedDigest } from '../import/import-fixture.ts';
import { assertCliError, OWNER, startCliBerth, type CliBerth } from './cli-harness.ts';

const SOURCE_USER = { username: 'puller', password: 'puller-secret-3d1' };

describe('splitImportCredentials: -u/-p before "import" are the caller, after it the source', () => {
  it('splits every spelling', () => {
    assert.deepEqual(splitImportCredentials(['-u', 'me', '--password=pw', 'import', '--source', 'x', '--username', 'src', '-psecret']), {
      caller: { username: 'me', password: 'pw' },
      source: { username: 'src', password: 'secret' },
    });
    assert.deepEqual(splitImportCredentials(['--server', 'import', 'import', '-n', 'r', '-u', 'a', '-p', 'b']), {
      caller: {},
      source: { username: 'a', password: 'b' },
    });
    assert.deepEqual(splitImportCredentials(['import', '--source', 'x']), { caller: {}, source: {} });
  });
});

describe('berth import', () => {
  let cli: CliBerth;
  let images: TestImages;
  let secured: RegistryProcess;
  let pushed: Image;

  before(async () => {
    images = await testImages();
    [cli, secured] = await Promise.all([startCliBerth(), startReferenceRegistry({ htpasswdUser: SOURCE_USER })]);
    await cli.berth(['create', '-n', 'contoso']);
    await skopeoCopy(images.ociIndex.ref, `docker://${secured.host}/upstream/multi:1`, ['--all', '--dest-creds', `${SOURCE_USER.username}:${SOURCE_USER.password}`]);
    pushed = await pushImage(cli.server, 'base/app', '1', imageOf());
  });

  after(async () => {
    await cli?.close();
    await secured?.stop();
  });

  it('berth import -n contoso --source <host>/upstream/multi:1 --image multi:1 --username --password waits and prints the job', async () => {
    const job = await cli.json<{ status: string; digest: string; progress: { blobs: { copied: number; total: number } } }>([
      'import', '-n', 'contoso', '--source', `${secured.host}/upstream/multi:1`, '--image', 'multi:1', '-t', 'multi:latest',
      '--username', SOURCE_USER.username, '--password', SOURCE_USER.password,
    ]);
    assert.equal(job.status, 'Succeeded');
    assert.equal(job.digest, images.ociIndex.digest);
    assert.equal(job.progress.blobs.copied, job.progress.blobs.total);
    for (const tag of ['1', 'latest']) assert.equal(await servedDigest(cli.server, 'multi', tag, cli.loginServer('contoso')), images.ociIndex.digest);
  });

  it('refuses an existing tag without --force, and overwrites it with --force', async () => {
    const args = ['import', '-n', 'contoso', '--registry', 'default', '--source', 'base/app:1', '--image', 'multi:1'];
    assertCliError(await cli.berth(args, { allowFailure: true }), /multi:1 already exists in registry contoso.*--force/);
    const job = await cli.json<{ status: string; sourceRegistry: string; progress: { bytes: { copied: number } } }>([...args, '--force']);
    assert.equal(job.status, 'Succeeded');
    assert.equal(job.sourceRegistry, 'default');
    assert.equal(job.progress.bytes.copied, 0, 'inside the installation nothing is copied');
    assert.equal(await servedDigest(cli.server, 'multi', '1', cli.loginServer('contoso')), pushed.digest);
  });

  it('--no-wait returns the running job at once; -o table shows it', async () => {
    const started = await cli.json<{ id: string; status: string }>(['import', '-n', 'contoso', '-r', '/registries/default', '--source', 'base/app:1', '--image', 'nowait:1', '--no-wait']);
    assert.match(started.id, /^[0-9a-f-]{36}$/);
    assert.ok(['Running', 'Succeeded'].includes(started.status));
    const table = await cli.berth(['import', '-n', 'contoso', '-r', 'default', '--source', 'base/app:1', '--image', 'table:1', '-o', 'table']);
    assert.match(table.stdout, /STATUS\s+DIGEST\s+TARGETS\s+ID/);
    assert.match(table.stdout, /Succeeded\s+sha256:[0-9a-f]{64}\s+table:1/);
  });

  it('the caller is still the Berth credential from the environment when -u/-p name the source', async () => {
    const result = await cli.berth(
      ['import', '-n', 'contoso', '--source', `${secured.host}/upstream/multi:1`, '--image', 'wrongsource:1', '-u', SOURCE_USER.username, '-p', 'wrong'],
      { allowFailure: true, env: { BERTH_USERNAME: OWNER.username, BERTH_PASSWORD: OWNER.password } },
    );
    assertCliError(result, /the import failed: .*refused the user name and password \(401/);
  });

  it('reports a bad source and a missing --source as az does', async () => {
    assertCliError(await cli.berth(['import', '-n', 'contoso', '--source', 'app:1'], { allowFailure: true }), /names no registry/);
    assertCliError(await cli.berth(['import', '-n', 'contoso'], { allowFailure: true }), /required option '--source <image>' not specified/);
    assertCliError(await cli.berth(['import', '-n', 'contoso', '--source', `${secured.host}/a:1`, '-u', 'only-user'], { allowFailure: true }), /both --username and --password/);
  });

  it('--help shows the flags and examples', async () => {
    const { stdout } = await cli.berth(['import', '--help']);
    for (const text of ['--source <image>', '--image <repo:tag>', '--registry <registry>', '--force', '--no-wait', '--username <name>', 'Examples:', 'berth import -n contoso --registry publicregistry']) {
      assert.ok(stdout.includes(text), `help mentions ${text}`);
    }
  });
});
