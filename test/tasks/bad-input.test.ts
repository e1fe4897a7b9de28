/**
 * Bad input and faults, through the `berth` commands: broken task files (YAML, unknown
 * properties, `when` cycles and missing steps, unknown template values), a context over the size
 * limit, a failing Dockerfile, a step past its timeout, a push the run's credential may not make,
 * an unreachable git context and a wrong git token. Each ends with a clear status and message and
 * leaves the server working: a good run afterwards still succeeds.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertCliError, startCliBerth, type CliBerth } from '../cli/cli-harness.ts';
import type { CommandResult } from '../helpers/exec.ts';
import { startGitServer, type GitServer } from '../helpers/git-server.ts';
import { skopeoCopy, testImages } from '../helpers/images.ts';
import { OWNER } from '../helper.ts';
import { closedPort } from './context/closed-port.ts';
import { makeFolder } from './context/archives.ts';

interface RunJson {
  runId: string;
  status: string;
  runErrorMessage: string | null;
}

const GIT_TOKEN = 'right-git-token-4b1d';
const WRONG_TOKEN = 'wrong-git-token-9c2e';

describe('bad input and faults end runs clearly and leave the server working', () => {
  let cli: CliBerth;
  let git: GitServer;
  let registry: string;
  let scratch: string;

  /** `berth ... --no-logs`: the run as JSON once finished, and the command's exit code. */
  const finishedRun = async (args: string[]): Promise<{ run: RunJson; result: CommandResult }> => {
    const result = await cli.berth([...args, '--no-logs'], { allowFailure: true });
    assert.ok(result.stdout.trim().startsWith('{'), `expected the finished run as JSON:\n${result.stdout}\n${result.stderr}`);
    return { run: JSON.parse(result.stdout) as RunJson, result };
  };
  const logOf = async (runId: string) => (await cli.berth(['task', 'logs', '-r', 'contoso', '--run-id', runId])).stdout;
  /** Runs `args`, expects a Failed run whose message and log both match `message`; answers the log. */
  const expectFailed = async (args: string[], message: RegExp): Promise<string> => {
    const { run, result } = await finishedRun(args);
    assert.equal(run.status, 'Failed', JSON.stringify(run));
    assertCliError(result, new RegExp(`Run ID: ${run.runId} ended with status Failed`));
    assert.match(run.runErrorMessage ?? '', message);
    const log = await logOf(run.runId);
    assert.match(log, message);
    assert.match(log, new RegExp(`Run ID: ${run.runId} failed after \\d+s\\. Error: `));
    return log;
  };
  const taskFile = async (name: string, lines: string[]): Promise<string> => {
    const file = path.join(scratch, name);
    await writeFile(file, `${lines.join('\n')}\n`);
    return file;
  };
  const runFile = (file: string) => ['run', '-r', 'contoso', '-f', file, '/dev/null'];

  before(async () => {
    const [started, images, server] = await Promise.all([startCliBerth({ tasks: { maxContextMiB: 1 } }), testImages(), startGitServer({ token: GIT_TOKEN })]);
    cli = started;
    git = server;
    scratch = await mkdtemp(path.join(tmpdir(), 'berth-bad-input-'));
    await cli.berth(['create', '-n', 'contoso']);
    await cli.berth(['create', '-n', 'baseartifacts']);
    registry = cli.loginServer('contoso');
    await skopeoCopy(images.single.ref, `docker://${registry}/base:1`, ['--dest-creds', `${OWNER.username}:${OWNER.password}`]);
  });

  after(async () => {
    await git?.stop();
    await cli?.close();
  });

  test('invalid YAML names its line', async () => {
    const file = await taskFile('invalid.yaml', ['version: v1.1.0', 'steps:', '  - id: a', '    cmd: [unclosed', '  - id: b']);
    await expectFailed(runFile(file), /acr-task\.yaml:5: invalid YAML/);
  });

  test('an unknown step property names the property and its line', async () => {
    const file = await taskFile('unknown.yaml', ['version: v1.1.0', 'steps:', '  - cmd: {{.Run.Registry}}/base:1 true', '    colour: blue']);
    await expectFailed(runFile(file), /acr-task\.yaml:4: unknown property 'colour'/);
  });

  test('a cycle in when names the steps and a line', async () => {
    const file = await taskFile('cycle.yaml', [
      'version: v1.1.0',
      'steps:',
      '  - id: a',
      '    cmd: {{.Run.Registry}}/base:1 true',
      '    when: [b]',
      '  - id: b',
      '    cmd: {{.Run.Registry}}/base:1 true',
      '    when: [a]',
    ]);
    await expectFailed(runFile(file), /acr-task\.yaml:3: .*cycle: a → b → a/);
  });

  test('a when naming a missing step names it and its line', async () => {
    const file = await taskFile('missing.yaml', ['version: v1.1.0', 'steps:', '  - id: a', '    cmd: {{.Run.Registry}}/base:1 true', '    when: [nowhere]']);
    await expectFailed(runFile(file), /acr-task\.yaml:5: .*'nowhere', which does not exist/);
  });

  test('a template referencing an unknown value names the value and its line', async () => {
    const file = await taskFile('template.yaml', ['version: v1.1.0', 'steps:', '  - cmd: {{.Run.Registry}}/base:1 echo {{.Values.NOPE}}']);
    await expectFailed(runFile(file), /acr-task\.yaml:3: .*\.Values\.NOPE is not defined/);
  });

  test('a build context over the size limit is refused before anything is queued', async () => {
    const folder = await makeFolder({ Dockerfile: `FROM ${registry}/base:1\n` });
    await writeFile(path.join(folder, 'big.bin'), randomBytes(2 * 1024 * 1024));
    const before = await cli.json<RunJson[]>(['task', 'list-runs', '-r', 'contoso']);
    const result = await cli.berth(['build', '-r', 'contoso', '-t', 'big:1', folder], { allowFailure: true });
    assertCliError(result, /1 MiB|too large|size limit/i);
    const afterwards = await cli.json<RunJson[]>(['task', 'list-runs', '-r', 'contoso']);
    assert.deepEqual(afterwards.map((run) => run.runId), before.map((run) => run.runId), 'nothing was queued');
    // The refused upload's connection is not left hanging on its unread rest.
    const server = cli.server.berth.app.server;
    const deadline = Date.now() + 5000;
    let open = -1;
    while (open !== 0 && Date.now() < deadline) {
      open = await new Promise<number>((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
      if (open !== 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(open, 0, 'the server holds no connection of the refused upload');
  });

  test("a failing Dockerfile fails the run with the step's message", async () => {
    const folder = await makeFolder({ Dockerfile: `FROM ${registry}/base:1\nRUN exit 7\n` });
    const log = await expectFailed(['build', '-r', 'contoso', '-t', 'broken:1', folder], /exit (status )?7|exited with status 7|exit code 7/);
    assert.match(log, /Step ID: build marked as failed/);
  });

  test('a step that hangs past its timeout fails the run while another run succeeds', async () => {
    const file = await taskFile('hang.yaml', ['version: v1.1.0', 'steps:', '  - id: hang', '    cmd: {{.Run.Registry}}/base:1 sleep 60', '    timeout: 3']);
    const started = Date.now();
    const [, other] = await Promise.all([
      expectFailed(runFile(file), /hang timed out after 3s/),
      cli.berth(['run', '-r', 'contoso', '--cmd', '{{.Run.Registry}}/base:1 echo meanwhile', '/dev/null']),
    ]);
    assert.match(other.stdout, /^meanwhile$/m);
    assert.ok(Date.now() - started < 30_000);
  });

  test("a push to another registry is denied to the run's credential", async () => {
    const other = cli.loginServer('baseartifacts');
    const folder = await makeFolder({
      Dockerfile: `FROM ${registry}/base:1\n`,
      'acr-task.yaml': ['version: v1.1.0', 'steps:', `  - build: -t ${other}/x:1 .`, `  - push: ["${other}/x:1"]`, ''].join('\n'),
    });
    await expectFailed(['run', '-r', 'contoso', '-f', 'acr-task.yaml', folder], /denied|unauthorized/i);
    const tags = await cli.berth(['repository', 'show-tags', '-n', 'baseartifacts', '--repository', 'x'], { allowFailure: true });
    assert.notEqual(tags.code, 0, 'nothing was pushed to baseartifacts');
  });

  test('an unreachable git context fails the run clearly', async () => {
    const url = `http://127.0.0.1:${closedPort()}/x.git`;
    await expectFailed(['build', '-r', 'contoso', '-t', 'fromgit:1', url], /127\.0\.0\.1|connect|unreachable|refused/i);
    await expectFailed(['run', '-r', 'contoso', '-f', 'acr-task.yaml', url], /127\.0\.0\.1|connect|unreachable|refused/i);
  });

  test('a wrong git token fails the run clearly and never appears in the log', async () => {
    await git.createRepo('app', { Dockerfile: `FROM ${registry}/base:1\n` });
    const url = `${git.url('app')}#main`;
    const built = await expectFailed(['build', '-r', 'contoso', '-t', 'fromgit:1', '--git-access-token', WRONG_TOKEN, url], /auth|401|denied|credential/i);
    assert.ok(!built.includes(WRONG_TOKEN), built);

    await cli.berth(['task', 'create', '-n', 'gittask', '-r', 'contoso', '-c', url, '-f', 'Dockerfile', '-t', 'fromgit:{{.Run.ID}}', '--git-access-token', WRONG_TOKEN]);
    const ran = await expectFailed(['task', 'run', '-n', 'gittask', '-r', 'contoso'], /auth|401|denied|credential/i);
    assert.ok(!ran.includes(WRONG_TOKEN), ran);
    const shown = await cli.berth(['task', 'show', '-n', 'gittask', '-r', 'contoso']);
    assert.ok(!shown.stdout.includes(WRONG_TOKEN));

    // With the right token the same task builds.
    await cli.berth(['task', 'update', '-n', 'gittask', '-r', 'contoso', '--git-access-token', GIT_TOKEN]);
    const { run } = await finishedRun(['task', 'run', '-n', 'gittask', '-r', 'contoso']);
    assert.equal(run.status, 'Succeeded', await logOf(run.runId));
    assert.ok(!(await logOf(run.runId)).includes(GIT_TOKEN));
  });

  test('after all of that the server still runs a good run', async () => {
    const result = await cli.berth(['run', '-r', 'contoso', '--cmd', '{{.Run.Registry}}/base:1 echo still-working', '/dev/null']);
    assert.match(result.stdout, /^still-working$/m);
    const runs = await cli.json<RunJson[]>(['task', 'list-runs', '-r', 'contoso', '--run-status', 'Running']);
    assert.deepEqual(runs, [], 'no run was left running');
  });
});
