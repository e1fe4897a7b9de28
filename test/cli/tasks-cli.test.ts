/**
 * `berth build|run|task|secret`: the commands and flags, argument checks, the list-runs table,
 * and the commands' requests, log streaming and exit codes against the management API with
 * doubles of the task engine and vault (the engine's end-to-end tests run real builds).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import type { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import * as tar from 'tar';
import { enabledTriggers, taskTable } from '../../src/cli/commands/task.ts';
import { formatTable } from '../../src/cli/output.ts';
import { buildProgram } from '../../src/cli/program.ts';
import { formatDuration, runTable } from '../../src/cli/task-runs.ts';
import type { QuickBuildInput, QuickRunInput } from '../../src/tasks/task-service.ts';
import { run } from '../helpers/exec.ts';
import { buildApi, FakeTasks, FakeVault, OWNER } from '../helpers/task-api-doubles.ts';

const mainScript = path.resolve(import.meta.dirname, '../../src/cli/main.ts');

function find(program: Command, words: string[]): Command | undefined {
  let command: Command | undefined = program;
  for (const word of words) command = command?.commands.find((child) => child.name() === word);
  return command;
}

function helpOf(command: Command): string {
  let text = '';
  command.configureOutput({ writeOut: (chunk) => (text += chunk) });
  command.outputHelp();
  return text;
}

/** Parses a command line in process; answers the error commander or the command raised. */
async function parseError(args: string[]): Promise<string> {
  const program = buildProgram();
  let written = '';
  const quiet = (command: Command) => {
    command.exitOverride().configureOutput({ writeErr: (text) => (written += text), writeOut: () => {} });
    command.commands.forEach(quiet);
  };
  quiet(program);
  try {
    await program.parseAsync(['node', 'berth', ...args]);
  } catch (error) {
    return `${written}${(error as Error).message}`;
  }
  throw new Error(`berth ${args.join(' ')} did not fail`);
}

describe('berth build, run, task and secret: commands and flags', () => {
  const program = buildProgram();

  it('has every command of the issue', () => {
    for (const words of [
      ['build'],
      ['run'],
      ...['create', 'update', 'show', 'list', 'delete', 'run', 'list-runs', 'logs', 'show-run', 'cancel-run', 'stop-detached'].map((verb) => ['task', verb]),
      ...['add', 'update', 'list', 'remove'].map((verb) => ['task', 'credential', verb]),
      ...['set', 'show', 'list', 'delete'].map((verb) => ['secret', verb]),
    ]) {
      assert.ok(find(program, words), `berth ${words.join(' ')} exists`);
    }
  });

  it("takes az acr's flags", () => {
    const expectations: [string[], string[]][] = [
      [['build'], ['-t, --image', '-f, --file', '--build-arg', '--secret-build-arg', '--target', '--platform', '--no-push', '--no-cache', '--no-logs', '--no-wait', '--timeout', '--git-access-token', '<source>']],
      [['run'], ['-f, --file', '--cmd', '--set <', '--set-secret', '--values', '--platform', '--timeout', '--no-logs', '--no-wait', '<source>']],
      [['task', 'create'], ['-n, --name', '-r, --registry', '-c, --context', '-f, --file', '--cmd', '-t, --image', '--arg', '--secret-arg', '--set <', '--set-secret', '--platform', '--timeout', '--no-push', '--no-cache', '--target', '--status', '--assign-identity', '--git-access-token']],
      [['task', 'list-runs'], ['-n, --name', '--run-status', '--top']],
      [['task', 'logs'], ['-n, --name', '--run-id']],
      [['task', 'cancel-run'], ['--run-id', '--all']],
      [['task', 'credential', 'add'], ['--login-server', '-u, --username', '-p, --password', '--use-identity']],
      [['secret', 'set'], ['--vault-name', '-n, --name', '--value', '--content-type']],
    ];
    for (const [words, flags] of expectations) {
      const help = helpOf(find(program, words)!);
      for (const flag of flags) assert.ok(help.includes(flag), `berth ${words.join(' ')} --help shows ${flag}`);
      assert.match(help, /\nExamples:\n/);
    }
  });
});

describe('argument checks', () => {
  let home: string;
  let savedHome: string | undefined;
  before(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'berth-cli-args-'));
    savedHome = process.env.HOME;
    process.env.HOME = home;
  });
  after(async () => {
    process.env.HOME = savedHome;
    await rm(home, { recursive: true, force: true });
  });

  it('refuses malformed values before contacting the server', async () => {
    assert.match(await parseError(['task', 'run', '-n', 'hello', '-r', 'contoso', '--set', 'NOEQUALS']), /--set <name=value>' argument 'NOEQUALS' is invalid. expected NAME=value/);
    assert.match(await parseError(['run', '-r', 'contoso', '--cmd', 'x', '--set-secret', '=v', '/dev/null']), /expected NAME=value/);
    assert.match(await parseError(['build', '-r', 'contoso', '-t', 'a:b', '--timeout', '100', '.']), /expected whole seconds from 300 to 28800/);
    assert.match(await parseError(['build', '-r', 'contoso', '-t', 'a:b', '--platform', 'linux amd64', '.']), /expected os\/architecture/);
    assert.match(await parseError(['task', 'list-runs', '-r', 'contoso', '--run-status', 'Done']), /Allowed choices are Queued, Running/);
    assert.match(await parseError(['task', 'create', '-n', 'hello', '-r', 'contoso']), /required option '-c, --context <location>' not specified/);
  });

  it('refuses contradictory or missing choices', async () => {
    assert.match(await parseError(['task', 'create', '-n', 'hello', '-r', 'contoso', '-c', '/dev/null']), /give -f\/--file \(a Dockerfile or task file\) or --cmd/);
    assert.match(await parseError(['task', 'cancel-run', '-r', 'contoso']), /give either --run-id or --all/);
    assert.match(await parseError(['task', 'cancel-run', '-r', 'contoso', '--run-id', 'ca1', '--all']), /give either --run-id or --all/);
    assert.match(await parseError(['run', '-r', 'contoso', '/dev/null']), /give either -f\/--file \(a task file\) or --cmd/);
    assert.match(await parseError(['run', '-r', 'contoso', '-f', 'a.yaml', '--cmd', 'x', '/dev/null']), /give either -f\/--file/);
    assert.match(await parseError(['build', '-r', 'contoso', '.']), /give -t\/--image to push, or --no-push/);
    assert.match(await parseError(['build', '-r', 'contoso', '-t', 'a:b', '-f', '../Dockerfile', '.']), /give a path inside the context folder/);
    assert.match(await parseError(['task', 'update', '-n', 'hello', '-r', 'contoso']), /nothing to update/);
    assert.match(await parseError(['task', 'create', '-n', 'hello', '-r', 'contoso', '-c', '/dev/null', '--cmd', 'x', '--assign-identity', '/sub/x']), /only the task's own identity/);
  });
});

describe('the list-runs and task list tables', () => {
  it('shows RUN ID, TASK, PLATFORM, STATUS, TRIGGER, STARTED and DURATION as az does', () => {
    const runs = [
      { runId: 'ca2', task: 'hello', status: 'Running', platform: { os: 'linux', architecture: 'amd64' }, trigger: 'Commit', startTime: '2024-05-01T10:01:00.250Z', finishTime: null },
      { runId: 'ca1', task: null, status: 'Succeeded', platform: { os: 'linux', architecture: 'amd64' }, trigger: 'Manual', startTime: '2024-05-01T10:00:00.900Z', finishTime: '2024-05-01T10:00:05.950Z' },
    ];
    assert.equal(
      formatTable(runs, runTable),
      [
        'RUN ID  TASK   PLATFORM  STATUS     TRIGGER  STARTED               DURATION',
        '------  -----  --------  ---------  -------  --------------------  --------',
        'ca2     hello  linux     Running    Commit   2024-05-01T10:01:00Z',
        'ca1            linux     Succeeded  Manual   2024-05-01T10:00:00Z  00:00:05',
        '',
      ].join('\n'),
    );
    assert.equal(formatDuration('2024-05-01T10:00:00Z', '2024-05-02T11:02:03Z'), '25:02:03', 'hours beyond a day');
    assert.equal(formatDuration(null, '2024-05-01T10:00:00Z'), '');
  });

  it('names the enabled triggers of a task', () => {
    assert.equal(enabledTriggers({ sourceTriggers: [{ status: 'Enabled' }], timerTriggers: [{ status: 'Disabled' }], baseImageTrigger: { status: 'Enabled' } }), 'SOURCE, BASE_IMAGE');
    assert.equal(enabledTriggers(null), '');
    const table = formatTable([{ name: 'hello', platform: { os: 'linux' }, status: 'Enabled', step: { contextPath: 'https://git.example.com/a.git' }, trigger: { timerTriggers: [{ status: 'Enabled' }] } }], taskTable);
    assert.match(table, /^NAME\s+PLATFORM\s+STATUS\s+SOURCE REPOSITORY\s+TRIGGERS\n/);
    assert.match(table, /hello\s+linux\s+Enabled\s+https:\/\/git\.example\.com\/a\.git\s+TIMER\n$/);
  });
});

describe('the commands against the management API (task engine and vault doubles)', () => {
  let app: FastifyInstance;
  let tasks: FakeTasks;
  let vault: FakeVault;
  let url: string;
  let work: string;

  before(async () => {
    tasks = new FakeTasks();
    vault = new FakeVault();
    ({ app } = await buildApi(tasks, vault));
    url = await app.listen({ host: '127.0.0.1', port: 0 });
    work = await mkdtemp(path.join(tmpdir(), 'berth-tasks-cli-'));
  });
  after(async () => {
    await app.close();
    await rm(work, { recursive: true, force: true });
  });

  const berth = (args: string[], options: { allowFailure?: boolean; input?: string } = {}) =>
    run(process.execPath, ['--import', 'tsx', mainScript, ...args], {
      env: { HOME: work, BERTH_SERVER: url, BERTH_USERNAME: OWNER.username, BERTH_PASSWORD: OWNER.password, BERTH_REGISTRY: 'contoso', NO_COLOR: '1' },
      cwd: path.resolve(import.meta.dirname, '../..'),
      timeoutMs: 60_000,
      ...options,
    });

  it('berth build uploads the folder, streams the log and succeeds with the run', async () => {
    const folder = path.join(work, 'app');
    await rm(folder, { recursive: true, force: true });
    await import('node:fs/promises').then(({ mkdir }) => mkdir(path.join(folder, '.git'), { recursive: true }));
    await writeFile(path.join(folder, 'Dockerfile'), 'FROM busybox\n');
    await writeFile(path.join(folder, '.git', 'HEAD'), 'x');
    tasks.outcome = { status: 'Succeeded', log: 'Step ID: build marked as successful\nRun ID: ca1 was successful after 5s\n' };
    const result = await berth(['build', '-t', 'app:{{.Run.ID}}', '--build-arg', 'A=1', '--secret-build-arg', 'S=x', folder]);
    assert.match(result.stdout, /^Queued a run with ID: ca\d+\nStep ID: build marked as successful\nRun ID: ca1 was successful after 5s\n$/);
    const input = tasks.lastCall('quickBuild').args[1] as QuickBuildInput;
    assert.deepEqual(input, {
      sourceLocation: 'upload:u1',
      dockerFilePath: 'Dockerfile',
      imageNames: ['app:{{.Run.ID}}'],
      buildArgs: [{ name: 'A', value: '1', isSecret: false }, { name: 'S', value: 'x', isSecret: true }],
    });
    const names: string[] = [];
    await pipeline(Readable.from([tasks.uploaded!.data]), tar.t({ onReadEntry: (entry) => names.push(entry.path) }));
    assert.deepEqual(names, ['Dockerfile'], 'the uploaded archive holds the context without .git');
  });

  it('berth build exits 1 naming the status when the run fails; --no-wait and --no-logs print the run', async () => {
    tasks.outcome = { status: 'Failed', log: 'error: the Dockerfile failed\n' };
    const failed = await berth(['build', '-t', 'app:v1', 'https://git.example.com/app.git#main', '--git-access-token', 'tok'], { allowFailure: true });
    assert.equal(failed.code, 1);
    assert.match(failed.stdout, /error: the Dockerfile failed/);
    assert.match(failed.stderr, /^ERROR: Run ID: ca\d+ ended with status Failed\n$/);
    const input = tasks.lastCall('quickBuild').args[1] as QuickBuildInput;
    assert.equal(input.sourceLocation, 'https://git.example.com/app.git#main', 'a git context is passed through');
    assert.equal(input.contextAccessToken, 'tok');

    const queued = await berth(['build', '-t', 'app:v1', '--no-wait', '--query', 'runId', '-o', 'tsv', 'https://git.example.com/app.git']);
    assert.match(queued.stdout, /^ca\d+\n$/);

    tasks.outcome = { status: 'Succeeded', log: 'done\n' };
    const waited = await berth(['build', '-t', 'app:v1', '--no-logs', 'https://git.example.com/app.git']);
    assert.equal(JSON.parse(waited.stdout).status, 'Succeeded');
    assert.match(waited.stderr, /Queued a run with ID: ca\d+/);
  });

  it('berth run sends a local task file with /dev/null, or a command, with values', async () => {
    tasks.outcome = { status: 'Succeeded', log: 'hi\n' };
    const file = path.join(work, 'acr-task.yaml');
    await writeFile(file, 'version: v1.1.0\nsteps:\n  - cmd: busybox echo {{.Values.greeting}}\n');
    const values = path.join(work, 'values.yaml');
    await writeFile(values, 'greeting: hello\ncount: 2\n');
    await berth(['run', '-f', file, '--values', values, '--set', 'greeting=hi', '--set-secret', 'TOKEN=t', '/dev/null']);
    const input = tasks.lastCall('quickRun').args[1] as QuickRunInput;
    assert.deepEqual(input, {
      sourceLocation: null,
      taskFileContent: 'version: v1.1.0\nsteps:\n  - cmd: busybox echo {{.Values.greeting}}\n',
      values: [
        { name: 'greeting', value: 'hello', isSecret: false },
        { name: 'count', value: '2', isSecret: false },
        { name: 'greeting', value: 'hi', isSecret: false },
        { name: 'TOKEN', value: 't', isSecret: true },
      ],
    });
    await berth(['run', '--cmd', 'busybox echo hi', '--timeout', '600', '/dev/null']);
    assert.deepEqual(tasks.lastCall('quickRun').args[1], { sourceLocation: null, cmd: 'busybox echo hi', timeoutSeconds: 600 });
  });

  it('berth task create, list-runs, logs, cancel-run --all and credential add', async () => {
    const created = await berth(['task', 'create', '-n', 'hello', '-c', '/dev/null', '--cmd', 'busybox true', '--set', 'A=1', '--timeout', '900', '--assign-identity']);
    assert.equal(JSON.parse(created.stdout).name, 'hello');
    assert.deepEqual(tasks.lastCall('createTask').args[1], {
      name: 'hello',
      contextPath: '/dev/null',
      cmd: 'busybox true',
      values: [{ name: 'A', value: '1', isSecret: false }],
      timeoutSeconds: 900,
      status: 'Enabled',
      assignIdentity: true,
    });

    tasks.outcome = { status: 'Succeeded', log: 'task log\n' };
    const ran = await berth(['task', 'run', '-n', 'hello', '--set', 'A=2']);
    const runId = /Queued a run with ID: (ca\d+)/.exec(ran.stdout)![1]!;
    assert.match(ran.stdout, /task log\n$/);
    assert.equal((await berth(['task', 'logs', '-n', 'hello'])).stdout, 'task log\n', 'the newest run of the task');
    assert.equal((await berth(['task', 'logs', '--run-id', runId])).stdout, 'task log\n');

    const table = (await berth(['task', 'list-runs', '--top', '3', '-o', 'table'])).stdout;
    assert.match(table, /^RUN ID\s+TASK\s+PLATFORM\s+STATUS\s+TRIGGER\s+STARTED\s+DURATION\n/);
    assert.match(table, new RegExp(`${runId}\\s+hello\\s+linux\\s+Succeeded\\s+Manual\\s+2024-01-01T00:00:01Z\\s+00:00:05`));
    assert.deepEqual(tasks.lastCall('listRuns').args[1], { task: undefined, status: undefined, top: 3 });

    tasks.outcome = undefined;
    await berth(['task', 'run', '-n', 'hello', '--no-wait']);
    const cancelled = JSON.parse((await berth(['task', 'cancel-run', '--all'])).stdout) as { status: string }[];
    assert.ok(cancelled.length >= 1 && cancelled.every((item) => item.status === 'Canceled'));

    await berth(['-u', OWNER.username, 'task', 'credential', 'add', '-n', 'hello', '--login-server', 'docker.io', '-u', 'hubuser', '-p', 'vault://kv/hub']);
    assert.deepEqual(tasks.lastCall('addCredential').args, ['contoso', 'hello', { loginServer: 'docker.io', username: 'hubuser', password: 'vault://kv/hub' }]);
  });

  it('berth secret set, show --query value -o tsv, list and delete', async () => {
    await berth(['secret', 'set', '--vault-name', 'kv1', '--name', 'token', '--value', 's3cr3t value']);
    assert.equal((await berth(['secret', 'show', '--vault-name', 'kv1', '--name', 'token', '--query', 'value', '-o', 'tsv'])).stdout, 's3cr3t value\n');
    assert.deepEqual(JSON.parse((await berth(['secret', 'list', '--vault-name', 'kv1'])).stdout).map((secret: { name: string }) => secret.name), ['token']);
    await berth(['secret', 'delete', '--vault-name', 'kv1', '--name', 'token']);
    const missing = await berth(['secret', 'show', '--vault-name', 'kv1', '--name', 'token'], { allowFailure: true });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /ERROR: vault kv1 has no secret token/);
  });
});
