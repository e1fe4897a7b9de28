import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RunStop } from '../../../src/tasks/engine/abort-reasons.ts';
import { commandTaskFile } from '../../../src/tasks/engine/run-request.ts';
import { taskFileLoader } from '../../../src/tasks/engine/task-file-loader.ts';
import { cmdStep, encoded, engineFixture, RUN_PASSWORD, secretValue, taskFile, type EngineFixture } from './fakes.ts';

describe('run engine', () => {
  let fx: EngineFixture;
  before(async () => {
    fx = await engineFixture({ secrets: { 'vault://kv/token': 'vault-token-value-42' } });
  });
  after(async () => {
    await fx.close();
  });

  it('runs independent steps in parallel and a joining step after both', async () => {
    fx.executor.calls.length = 0;
    await fx.queue(encoded(taskFile([cmdStep('left', [], 'sleep', ['300']), cmdStep('right', [], 'sleep', ['300']), cmdStep('join', ['left', 'right'], 'hello')])));
    const run = await fx.execute();
    assert.equal(run.status, 'Succeeded');
    const left = fx.executor.call('left')!;
    const right = fx.executor.call('right')!;
    const join = fx.executor.call('join')!;
    assert.ok(Math.abs(left.start - right.start) < 150, 'left and right start together');
    assert.ok(join.start >= Math.max(left.end!, right.end!), 'join starts after both ended');
    const log = await fx.logOf(run.runId);
    assert.match(log, /^Queued a run with ID: \w+\nWaiting for an agent\.\.\.\n/);
    assert.match(log, /Executing step ID: join\. Timeout\(sec\): 600, Working directory: '', Network: ''/);
    assert.match(log, /Step ID: left marked as successful \(elapsed time in seconds: \d+\.\d\d\)/);
    assert.match(log, new RegExp(`Run ID: ${run.runId} was successful after \\d+s\\n$`));
    assert.deepEqual(fx.revoked.at(-1), run.runId, 'the run credential is revoked');
    assert.equal(fx.executor.sessions.at(-1)!.credentials[0]!.password, RUN_PASSWORD, 'the run credential comes first');
  });

  it('fails the run when a gate fails and never starts its dependants', async () => {
    fx.executor.calls.length = 0;
    await fx.queue(
      encoded(
        taskFile([
          cmdStep('gate', [], 'exit', ['3']),
          cmdStep('after-gate', ['gate'], 'hello'),
          cmdStep('further', ['after-gate'], 'hello'),
          cmdStep('independent', [], 'sleep', ['100']),
        ]),
      ),
    );
    const run = await fx.execute();
    assert.equal(run.status, 'Failed');
    assert.equal(run.errorMessage, 'step gate exited with status 3');
    assert.deepEqual(fx.executor.runs().map((call) => call.name).sort(), ['gate', 'independent']);
    const log = await fx.logOf(run.runId);
    assert.match(log, /Step ID: after-gate skipped: step gate did not succeed/);
    assert.match(log, /Step ID: further skipped: step after-gate did not succeed/);
    assert.match(log, /failed after \d+s\. Error: step gate exited with status 3/);
  });

  it('marks a failing step with ignoreErrors as successful', async () => {
    fx.executor.calls.length = 0;
    await fx.queue(encoded(taskFile([cmdStep('tolerated', [], 'exit', ['1'], { ignoreErrors: true }), cmdStep('next', ['tolerated'], 'hello')])));
    const run = await fx.execute();
    assert.equal(run.status, 'Succeeded');
    assert.ok(fx.executor.call('next'));
  });

  it('retries a failing step and repeats a succeeding one', async () => {
    fx.executor.calls.length = 0;
    await fx.queue(encoded(taskFile([cmdStep('flaky-step', [], 'flaky', ['2'], { retries: 2, retryDelaySeconds: 0 }), cmdStep('again', ['flaky-step'], 'hello', [], { repeat: 2 })])));
    const run = await fx.execute();
    assert.equal(run.status, 'Succeeded');
    assert.equal(fx.executor.runs().filter((call) => call.name === 'flaky-step').length, 3);
    assert.equal(fx.executor.runs().filter((call) => call.name === 'again').length, 3);
  });

  it('fails when retries run out, and honours exitedWith', async () => {
    fx.executor.calls.length = 0;
    await fx.queue(encoded(taskFile([cmdStep('accepted', [], 'exit', ['2'], { exitedWith: [0, 2] }), cmdStep('worn', ['accepted'], 'flaky', ['5'], { retries: 1, retryDelaySeconds: 0 })])));
    const run = await fx.execute();
    assert.equal(run.status, 'Failed');
    assert.equal(run.errorMessage, 'step worn exited with status 1');
    assert.equal(fx.executor.runs().filter((call) => call.name === 'worn').length, 2);
  });

  it('fails a step that runs past its timeout', async () => {
    const started = Date.now();
    await fx.queue(encoded(taskFile([cmdStep('hang', [], 'sleep', ['30000'], { timeoutSeconds: 1 })])));
    const run = await fx.execute();
    assert.equal(run.status, 'Failed');
    assert.equal(run.errorMessage, 'step hang timed out after 1s');
    assert.ok(Date.now() - started < 3000);
  });

  it('ends a run past its own timeout as Timeout', async () => {
    await fx.queue({ ...encoded(taskFile([cmdStep('hang', [], 'sleep', ['30000'])])), timeoutSeconds: 1 });
    const run = await fx.execute();
    assert.equal(run.status, 'Timeout');
    assert.match(await fx.logOf(run.runId), /timed out after \d+s/);
  });

  it('cancels a run at once and cleans up', async () => {
    const closedBefore = fx.executor.closed;
    await fx.queue(encoded(taskFile([cmdStep('hang', [], 'sleep', ['30000']), cmdStep('never', ['hang'], 'hello')])));
    const controller = new AbortController();
    setTimeout(() => controller.abort(new RunStop('canceled', 'the run was canceled')), 300);
    const started = Date.now();
    const run = await fx.execute(controller.signal);
    assert.equal(run.status, 'Canceled');
    assert.ok(Date.now() - started < 1500);
    assert.equal(fx.executor.closed, closedBefore + 1, 'the session is closed');
    assert.match(await fx.logOf(run.runId), /was canceled after/);
  });

  it('masks secrets in the log, also when split across output chunks', async () => {
    const file = taskFile([cmdStep('talk', [], 'print', ['the value is hun', 'ter2-sec', 'ret; token vault-tok', 'en-value-42 and ', `${RUN_PASSWORD}\n`])], {
      secrets: [{ id: 'tok', keyvault: 'vault://kv/token' }],
    });
    await fx.queue({ ...encoded(file), values: [secretValue(fx.vault, 'pw', 'hunter2-secret'), { name: 'plain', value: 'visible', isSecret: false }] });
    const run = await fx.execute();
    assert.equal(run.status, 'Succeeded');
    const log = await fx.logOf(run.runId);
    assert.match(log, /the value is \*\*\*\*\*; token \*\*\*\*\* and \*\*\*\*\*\n/);
    assert.doesNotMatch(log, /hunter2|vault-token|credential-password/);
  });

  it('synthesises a quick build: tags rendered and qualified, every tag pushed with its digest', async () => {
    fx.executor.calls.length = 0;
    await fx.queue(
      {
        source: 'upload:11111111-1111-1111-1111-111111111111',
        work: {
          kind: 'build',
          dockerfile: 'Dockerfile',
          imageNames: ['hello:{{.Run.ID}}', 'elsewhere.example/x:1'],
          buildArgs: [{ name: 'A', value: 'b', isSecret: false }, secretValue(fx.vault, 'S', 'build-secret-77')],
          noPush: false,
          noCache: true,
        },
      },
      { runType: 'QuickBuild' },
    );
    const run = await fx.execute();
    assert.equal(run.status, 'Succeeded');
    const build = fx.executor.calls.find((call) => call.kind === 'build')!;
    const request = build.detail as { tags: string[]; buildArgs: Array<[string, string]>; noCache: boolean };
    assert.deepEqual(request.tags, [`contoso.localhost:5000/hello:${run.runId}`, 'elsewhere.example/x:1']);
    assert.deepEqual(request.buildArgs, [
      ['A', 'b'],
      ['S', 'build-secret-77'],
    ]);
    assert.equal(request.noCache, true);
    assert.deepEqual(
      fx.executor.calls.filter((call) => call.kind === 'push').map((call) => call.name),
      request.tags,
    );
    assert.deepEqual(run.outputImages[0], { registry: 'contoso.localhost:5000', repository: 'hello', tag: run.runId, digest: `sha256:${'a'.repeat(64)}` });
    assert.equal(run.outputImages.length, 2);
    assert.ok(fx.removedUploads.includes('upload:11111111-1111-1111-1111-111111111111'), 'the uploaded source is removed');
  });

  it('does not push a quick build with noPush', async () => {
    fx.executor.calls.length = 0;
    await fx.queue({ source: '/srv/x', work: { kind: 'build', dockerfile: 'Dockerfile', imageNames: ['hello:1'], buildArgs: [], noPush: true, noCache: false } });
    const run = await fx.execute();
    assert.equal(run.status, 'Succeeded');
    assert.equal(fx.executor.calls.filter((call) => call.kind === 'push').length, 0);
    assert.deepEqual(run.outputImages, []);
  });

  it('fails a run whose task file cannot be loaded, with the message in the log', async () => {
    await fx.queue({ work: { kind: 'encoded', content: '{ not json' } });
    const run = await fx.execute();
    assert.equal(run.status, 'Failed');
    assert.ok(run.errorMessage);
    assert.match(await fx.logOf(run.runId), /failed after \d+s\. Error: /);
  });

  it('fails a run whose secret reference does not resolve', async () => {
    await fx.queue(encoded(taskFile([cmdStep('a', [], 'hello')], { secrets: [{ id: 'gone', keyvault: 'vault://kv/missing' }] })));
    const run = await fx.execute();
    assert.equal(run.status, 'Failed');
    assert.match(run.errorMessage!, /secret vault:\/\/kv\/missing was not found/);
  });

  it('writes task file warnings to the log', async () => {
    await fx.queue(encoded(taskFile([cmdStep('a', [], 'hello')], { warnings: [{ line: 4, message: 'isolation is not supported here; ignored' }] })));
    const run = await fx.execute();
    assert.match(await fx.logOf(run.runId), /Warning: line 4: isolation is not supported here; ignored/);
  });
});

describe('run engine with the task file parser', () => {
  let fx: EngineFixture;
  before(async () => {
    fx = await engineFixture({ taskFiles: taskFileLoader });
  });
  after(async () => {
    await fx.close();
  });

  it('fails a run whose template names an unknown value, naming the line', async () => {
    const file = ['version: v1.1.0', 'steps:', '  - id: hello', '    cmd: busybox echo {{.Values.missing}}', ''].join('\n');
    await fx.queue({ work: { kind: 'encoded', content: file } });
    const run = await fx.execute();
    assert.equal(run.status, 'Failed');
    assert.match(run.errorMessage!, /acr-task\.yaml:4: /);
    assert.match(await fx.logOf(run.runId), /acr-task\.yaml:4: .*missing/);
  });

  it('fails a run whose steps depend on each other in a cycle', async () => {
    const file = ['version: v1.1.0', 'steps:', '  - id: a', '    cmd: busybox', "    when: ['b']", '  - id: b', '    cmd: busybox', "    when: ['a']", ''].join('\n');
    await fx.queue({ work: { kind: 'encoded', content: file } });
    const run = await fx.execute();
    assert.equal(run.status, 'Failed');
    assert.match(run.errorMessage!, /acr-task\.yaml:\d+: /);
  });

  it('runs a --cmd run as one step with {{.Run.ID}} rendered', async () => {
    fx.executor.calls.length = 0;
    await fx.queue({ work: { kind: 'encoded', content: commandTaskFile('busybox echo run {{.Run.ID}}') } });
    const run = await fx.execute();
    assert.equal(run.status, 'Succeeded', await fx.logOf(run.runId));
    const [call] = fx.executor.runs();
    const request = call!.detail as { image: string; args: string[] };
    assert.equal(request.image, 'busybox');
    assert.deepEqual(request.args, ['echo', 'run', run.runId]);
  });
});
