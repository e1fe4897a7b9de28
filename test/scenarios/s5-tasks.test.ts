/**
 * S5 — Tasks build and test, through the `berth` commands a user types: a quick build of a local
 * folder (honouring `.dockerignore`, with ARG/FROM/ENV/RUN) pushed and run back; a multi-step task
 * file with parallel steps, values, a masked secret and a failing gate that skips the push; a named
 * task; the list-runs table; log replay; cancel and timeout. Builds run with buildah and podman.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startCliBerth, type CliBerth } from '../cli/cli-harness.ts';
import type { CommandResult } from '../helpers/exec.ts';
import { skopeoCopy, testImages } from '../helpers/images.ts';
import { OWNER } from '../helper.ts';
import { makeFolder } from '../tasks/context/archives.ts';

interface RunJson {
  runId: string;
  task: string | null;
  status: string;
  trigger: string;
  runErrorMessage?: string | null;
}

/** The run ID `berth build|run` announces on its first line. */
function queuedRunId(result: CommandResult): string {
  const match = /^Queued a run with ID: (\S+)$/m.exec(result.stdout);
  assert.ok(match, `no run ID in:\n${result.stdout}\n${result.stderr}`);
  return match[1]!;
}

describe('S5: tasks build and test, through the berth CLI', () => {
  let cli: CliBerth;
  let registry: string;
  /** Runs of this journey, in the order they were queued: [run ID, status]. */
  const runs: [string, string][] = [];
  let buildRunId = '';
  let taskRunId = '';

  const berth = (args: string[]) => cli.berth(args, { allowFailure: true });
  const status = async (runId: string) => (await cli.json<RunJson>(['task', 'show-run', '-r', 'contoso', '--run-id', runId])).status;
  /** Polls until `check` holds for the run's status (at most `seconds`). */
  const waitForStatus = async (runId: string, check: (status: string) => boolean, seconds: number): Promise<string> => {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
      const current = await status(runId);
      if (check(current)) return current;
      if (Date.now() > deadline) throw new Error(`run ${runId} is still ${current} after ${seconds}s`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };
  const tags = async (repository: string) => cli.json<string[]>(['repository', 'show-tags', '-n', 'contoso', '--repository', repository]);

  before(async () => {
    const [started, images] = await Promise.all([startCliBerth(), testImages()]);
    cli = started;
    await cli.berth(['create', '-n', 'contoso']);
    registry = cli.loginServer('contoso');
    await skopeoCopy(images.single.ref, `docker://${registry}/base:1`, ['--dest-creds', `${OWNER.username}:${OWNER.password}`]);
  });

  after(async () => {
    await cli?.close();
  });

  test('berth build packs the folder without what .dockerignore excludes, builds ARG/FROM/ENV/RUN, pushes both tags and streams the log', async () => {
    const folder = await makeFolder({
      Dockerfile: [
        'ARG BASE',
        'FROM ${BASE}',
        'ARG GREETING=unset',
        'ENV NAME=berth',
        'COPY . /app',
        'RUN test ! -e /app/secret.txt && test -e /app/kept.txt && echo "$GREETING from $NAME" > /greeting && echo "wrote the greeting of $NAME"',
        'CMD ["cat", "/greeting"]',
        '',
      ].join('\n'),
      '.dockerignore': 'secret.txt\n',
      'secret.txt': 'never sent\n',
      'kept.txt': 'sent\n',
    });
    const result = await berth(['build', '-r', 'contoso', '-t', 'hello:{{.Run.ID}}', '-t', 'hello:latest', '--build-arg', 'GREETING=hi', '--build-arg', `BASE=${registry}/base:1`, folder]);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    buildRunId = queuedRunId(result);
    runs.push([buildRunId, 'Succeeded']);
    assert.equal(result.stdout.split('Queued a run with ID').length, 2, 'the run is announced once');
    assert.match(result.stdout, /Executing step ID: build/);
    assert.match(result.stdout, /STEP \d\/\d: RUN test ! -e \/app\/secret.txt/);
    assert.match(result.stdout, /^wrote the greeting of berth$/m);
    assert.match(result.stdout, new RegExp(`Run ID: ${buildRunId} was successful after \\d+s`));

    const pushed = await tags('hello');
    assert.ok(pushed.includes(buildRunId) && pushed.includes('latest'), `tags: ${pushed.join(', ')}`);

    const shown = await berth(['run', '-r', 'contoso', '--cmd', `{{.Run.Registry}}/hello:${buildRunId} cat /greeting`, '/dev/null']);
    assert.equal(shown.code, 0, `${shown.stdout}\n${shown.stderr}`);
    runs.push([queuedRunId(shown), 'Succeeded']);
    assert.match(shown.stdout, /hi from berth/);
  });

  test('berth run executes a task file: a build, parallel steps, values, a masked secret, and a gate that decides the push', async () => {
    const secret = 'sup3r-secret';
    const folder = await makeFolder({
      Dockerfile: ['ARG BASE', 'FROM ${BASE}', 'COPY message.txt /message.txt', ''].join('\n'),
      'message.txt': 'built by a task file\n',
      'acr-task.yaml': [
        'version: v1.1.0',
        'steps:',
        '  - id: build',
        `    build: -t {{.Run.Registry}}/app:{{.Run.ID}} --build-arg BASE={{.Run.Registry}}/base:1 .`,
        '  - id: greet',
        `    cmd: {{.Run.Registry}}/app:{{.Run.ID}} sh -c 'sleep 1; echo "{{.Values.GREETING}} with {{.Values.PW}}"'`,
        '    when: [build]',
        '  - id: message',
        `    cmd: {{.Run.Registry}}/app:{{.Run.ID}} sh -c 'sleep 1; cat /message.txt'`,
        '    when: [build]',
        '  - id: gate',
        `    cmd: {{.Run.Registry}}/base:1 sh -c 'test "{{.Values.MODE}}" != fail'`,
        '    when: [greet, message]',
        '  - id: publish',
        '    push:',
        '      - {{.Run.Registry}}/app:{{.Run.ID}}',
        '    when: [gate]',
        '',
      ].join('\n'),
    });
    const runFile = (mode: string) =>
      berth(['run', '-r', 'contoso', '-f', 'acr-task.yaml', '--set', 'GREETING=hello', '--set', `MODE=${mode}`, '--set-secret', `PW=${secret}`, folder]);

    const passed = await runFile('pass');
    assert.equal(passed.code, 0, `${passed.stdout}\n${passed.stderr}`);
    const passedId = queuedRunId(passed);
    runs.push([passedId, 'Succeeded']);
    assert.match(passed.stdout, /hello with \*\*\*\*\*/);
    assert.match(passed.stdout, /built by a task file/);
    assert.ok(!passed.stdout.includes(secret) && !passed.stderr.includes(secret), 'the secret never appears in clear');
    // The two parallel steps both started before either finished.
    const firstEnd = Math.min(passed.stdout.indexOf('Step ID: greet marked as successful'), passed.stdout.indexOf('Step ID: message marked as successful'));
    assert.ok(passed.stdout.indexOf('Executing step ID: greet') < firstEnd && passed.stdout.indexOf('Executing step ID: message') < firstEnd, passed.stdout);
    assert.ok((await tags('app')).includes(passedId));
    const replayed = await cli.berth(['task', 'logs', '-r', 'contoso', '--run-id', passedId]);
    assert.match(replayed.stdout, /hello with \*\*\*\*\*/);
    assert.ok(!replayed.stdout.includes(secret));

    const failed = await runFile('fail');
    assert.notEqual(failed.code, 0);
    const failedId = queuedRunId(failed);
    runs.push([failedId, 'Failed']);
    assert.match(failed.stderr, new RegExp(`ERROR: Run ID: ${failedId} ended with status Failed: .*gate`));
    assert.match(failed.stdout, /Step ID: gate marked as failed/);
    assert.match(failed.stdout, /Step ID: publish skipped: step gate did not succeed/);
    assert.ok(!failed.stdout.includes(secret));
    assert.ok(!(await tags('app')).includes(failedId), 'the failed run pushed nothing');
  });

  test('a named task is created, listed and run', async () => {
    const created = await cli.json<{ name: string }>(['task', 'create', '-n', 'hellotask', '-r', 'contoso', '-c', '/dev/null', '--cmd', '{{.Run.Registry}}/base:1 echo from-task']);
    assert.equal(created.name, 'hellotask');
    const result = await berth(['task', 'run', '-n', 'hellotask', '-r', 'contoso']);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /^from-task$/m);
    taskRunId = queuedRunId(result);
    runs.push([taskRunId, 'Succeeded']);
    const newest = await cli.berth(['task', 'logs', '-r', 'contoso', '-n', 'hellotask']);
    assert.match(newest.stdout, /^from-task$/m);
    const listed = await cli.berth(['task', 'list', '-r', 'contoso', '-o', 'table']);
    assert.match(listed.stdout, /^hellotask\s+linux\s+Enabled/m);
  });

  test('berth task list-runs shows the runs, newest first, in az\'s columns; --query and --top work', async () => {
    const table = await cli.berth(['task', 'list-runs', '-r', 'contoso', '-o', 'table']);
    const lines = table.stdout.trimEnd().split('\n');
    assert.deepEqual(lines[0]!.trim().split(/\s{2,}/), ['RUN ID', 'TASK', 'PLATFORM', 'STATUS', 'TRIGGER', 'STARTED', 'DURATION']);
    assert.match(lines[1]!, /^-+(\s+-+){6}$/);
    // Cells by the columns the dashes mark (TASK is empty for quick runs).
    const columns = [...lines[1]!.matchAll(/-+/g)].map((dashes) => dashes.index!);
    const rows = lines.slice(2).map((row) => columns.map((start, index) => row.slice(start, columns[index + 1]).trim()));
    const expected = [...runs].reverse();
    assert.deepEqual(rows.map((row) => row[0]), expected.map(([id]) => id));
    for (const [row, [id, runStatus]] of rows.map((row, index) => [row, expected[index]!] as const)) {
      assert.deepEqual(row.slice(1, 5), [id === taskRunId ? 'hellotask' : '', 'linux', runStatus, 'Manual'], row.join(' | '));
      assert.match(row[5]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.match(row[6]!, /^\d\d:\d\d:\d\d$/);
    }

    const failedIds = await cli.berth(['task', 'list-runs', '-r', 'contoso', '--query', "[?status=='Failed'].runId", '-o', 'tsv']);
    assert.deepEqual(failedIds.stdout.trim().split('\n'), runs.filter(([, runStatus]) => runStatus === 'Failed').map(([id]) => id));
    const top = await cli.json<RunJson[]>(['task', 'list-runs', '-r', 'contoso', '--top', '1']);
    assert.deepEqual(top.map((run) => run.runId), [taskRunId]);
    assert.equal(top[0]!.trigger, 'Manual');
  });

  test('berth task logs replays a finished run and show-run shows it', async () => {
    const replay = await cli.berth(['task', 'logs', '-r', 'contoso', '--run-id', buildRunId]);
    assert.match(replay.stdout, /Executing step ID: build/);
    assert.match(replay.stdout, new RegExp(`Run ID: ${buildRunId} was successful after \\d+s`));
    const shown = await cli.json<RunJson & { outputImages: { repository: string; tag: string }[] }>(['task', 'show-run', '-r', 'contoso', '--run-id', buildRunId]);
    assert.equal(shown.status, 'Succeeded');
    assert.deepEqual(shown.outputImages.map((image) => `${image.repository}:${image.tag}`).sort(), [`hello:${buildRunId}`, 'hello:latest'].sort());
  });

  test('cancel-run stops a running run, and --all every running and queued one', async () => {
    const queue = async () => {
      const queued = await cli.json<RunJson>(['run', '-r', 'contoso', '--no-wait', '--cmd', '{{.Run.Registry}}/base:1 sleep 120', '/dev/null']);
      return queued.runId;
    };
    const first = await queue();
    await waitForStatus(first, (current) => current === 'Running', 30);
    // `task logs` follows the running run live and returns when it ends.
    const following = cli.berth(['task', 'logs', '-r', 'contoso', '--run-id', first]);
    const canceled = await cli.json<RunJson>(['task', 'cancel-run', '-r', 'contoso', '--run-id', first]);
    assert.equal(canceled.runId, first);
    assert.equal(await waitForStatus(first, (current) => current !== 'Running', 10), 'Canceled');
    const followed = await following;
    assert.match(followed.stdout, /Executing step ID: acb_step_0/);
    assert.match(followed.stdout, new RegExp(`Run ID: ${first} was canceled after \\d+s`));

    // Two runs take both workers; a third waits in the queue.
    const both = [await queue(), await queue()];
    for (const runId of both) await waitForStatus(runId, (current) => current === 'Running', 30);
    const waiting = await queue();
    assert.equal(await status(waiting), 'Queued');
    await cli.berth(['task', 'cancel-run', '-r', 'contoso', '--all']);
    for (const runId of [...both, waiting]) assert.equal(await waitForStatus(runId, (current) => current !== 'Running', 10), 'Canceled');
    const canceledRuns = await cli.berth(['task', 'list-runs', '-r', 'contoso', '--run-status', 'Canceled', '--query', '[].runId', '-o', 'tsv']);
    assert.deepEqual(canceledRuns.stdout.trim().split('\n').sort(), [first, ...both, waiting].sort());
    const neverStarted = await cli.berth(['task', 'logs', '-r', 'contoso', '--run-id', waiting]);
    assert.match(neverStarted.stdout, new RegExp(`Run ID: ${waiting} was canceled before it started`));
  });

  test('a step that runs past its timeout fails the run quickly', async () => {
    const folder = await makeFolder({
      'acr-task.yaml': ['version: v1.1.0', 'steps:', '  - id: slow', '    cmd: {{.Run.Registry}}/base:1 sleep 60', '    timeout: 2', ''].join('\n'),
    });
    const started = Date.now();
    const result = await berth(['run', '-r', 'contoso', '-f', path.join(folder, 'acr-task.yaml'), '/dev/null']);
    assert.notEqual(result.code, 0);
    assert.ok(Date.now() - started < 30_000, 'the run ended long before the command would have');
    const runId = queuedRunId(result);
    assert.equal(await status(runId), 'Failed');
    assert.match(result.stdout, /timed out/);
    assert.match(result.stderr, /timed out/);
  });
});
