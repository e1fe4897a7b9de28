import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lines, load, stepById } from './helpers.ts';

describe('task file defaults and step order', () => {
  it("applies ACR's defaults to a minimal file", () => {
    const task = load(lines('steps:', '  - cmd: busybox echo hi'));
    assert.deepEqual(task, {
      version: 'v1.0.0',
      stepTimeoutSeconds: 600,
      workingDirectory: '/workspace',
      env: [],
      secrets: [],
      volumes: [],
      networks: [],
      warnings: [],
      steps: [
        {
          id: 'acb_step_0',
          line: 2,
          dependsOn: [],
          env: [],
          ignoreErrors: false,
          startDelaySeconds: 0,
          timeoutSeconds: 600,
          detach: false,
          ports: [],
          expose: [],
          keep: false,
          privileged: false,
          pull: false,
          workingDirectory: '/workspace',
          disableWorkingDirectoryOverride: false,
          repeat: 0,
          retries: 0,
          retryDelaySeconds: 5,
          volumeMounts: [],
          kind: 'cmd',
          cmd: { type: 'container', image: 'busybox', args: ['echo', 'hi'], run: { env: [], ports: [], detach: false, remove: false } },
        },
      ],
    });
  });

  it('numbers generated ids by position from 0, counting steps with ids', () => {
    const task = load(lines('steps:', '  - cmd: a', '  - id: named', '    cmd: b', '  - cmd: c'));
    assert.deepEqual(task.steps.map((step) => step.id), ['acb_step_0', 'named', 'acb_step_2']);
  });

  it('makes a step without when wait for the one above it', () => {
    const task = load(lines('steps:', '  - cmd: a', '  - cmd: b', '  - cmd: c'));
    assert.deepEqual(task.steps.map((step) => step.dependsOn), [[], ['acb_step_0'], ['acb_step_1']]);
  });

  it("starts when: ['-'] steps at once and keeps explicit dependencies", () => {
    const task = load(lines(
      'steps:',
      '  - id: a',
      '    cmd: a',
      '  - id: b',
      "    when: ['-']",
      '    cmd: b',
      '  - id: c',
      '    cmd: c',
      '  - id: d',
      '    when: [a, c, a]',
      '    cmd: d',
    ));
    assert.deepEqual(Object.fromEntries(task.steps.map((step) => [step.id, step.dependsOn])), {
      a: [],
      b: [],
      c: ['b'],
      d: ['a', 'c'],
    });
  });

  it('allows waiting for a step written further down', () => {
    const task = load(lines('steps:', '  - id: a', '    when: [b]', '    cmd: a', '  - id: b', "    when: ['-']", '    cmd: b'));
    assert.deepEqual(stepById(task, 'a').dependsOn, ['b']);
  });

  it('uses stepTimeout as the default step timeout, and 600 when it is 0', () => {
    const task = load(lines('stepTimeout: 900', 'steps:', '  - cmd: a', '  - cmd: b', '    timeout: 30', '  - cmd: c', '    timeout: 0'));
    assert.equal(task.stepTimeoutSeconds, 900);
    assert.deepEqual(task.steps.map((step) => step.timeoutSeconds), [900, 30, 900]);
    assert.equal(load(lines('stepTimeout: 0', 'steps:', '  - cmd: a')).stepTimeoutSeconds, 600);
  });

  it('sets retryDelay to 5 seconds when it is not above 0, as ACR does', () => {
    const task = load(lines('steps:', '  - cmd: a', '    retries: 2', '  - cmd: b', '    retries: 2', '    retryDelay: 0', '  - cmd: c', '    retries: 1', '    retryDelay: 12'));
    assert.deepEqual(task.steps.map((step) => step.kind !== 'push' && step.retryDelaySeconds), [5, 5, 12]);
  });

  it('merges the task env into each step, the step winning', () => {
    const task = load(lines('env: ["A=task", "B=task"]', 'steps:', '  - cmd: a', '    env: ["B=step", "C=step"]', '  - push: x:1'));
    assert.deepEqual(task.env, ['A=task', 'B=task']);
    assert.deepEqual(task.steps[0]?.env, ['A=task', 'B=step', 'C=step']);
    assert.deepEqual(task.steps[1]?.env, ['A=task', 'B=task']);
  });

  it("gives steps the task's working directory unless they have their own", () => {
    const task = load(lines('workingDirectory: /src', 'steps:', '  - cmd: a', '  - cmd: b', '    workingDirectory: /other'));
    assert.equal(task.workingDirectory, '/src');
    assert.deepEqual(task.steps.map((step) => step.kind !== 'push' && step.workingDirectory), ['/src', '/other']);
  });

  it('takes the default working directory from the options', () => {
    const task = load(lines('steps:', '  - cmd: a'), { options: { defaultWorkingDirectory: '/ws' } });
    assert.equal(task.workingDirectory, '/ws');
  });

  it('accepts push as a string or a list, adding :latest and dropping duplicates', () => {
    const single = load(lines('steps:', '  - push: reg/web')).steps[0];
    assert.ok(single?.kind === 'push');
    assert.deepEqual(single.push, ['reg/web:latest']);
    const list = load(lines('steps:', '  - push:', '    - reg:5000/web', '    - reg:5000/web:latest', '    - reg/web@sha256:abc', '    - "reg/web:v1"')).steps[0];
    assert.ok(list?.kind === 'push');
    assert.deepEqual(list.push, ['reg:5000/web:latest', 'reg/web@sha256:abc', 'reg/web:v1']);
  });

  it('reads folded and quoted build and cmd values', () => {
    const task = load(lines('steps:', '  - build: >', '      -t web:v1', '      -f Dockerfile', '      .', '  - cmd: "docker push web:v1"'));
    const build = task.steps[0];
    assert.ok(build?.kind === 'build');
    assert.deepEqual(build.build.tags, ['web:v1']);
    assert.deepEqual(task.steps[1]?.kind === 'cmd' && task.steps[1].cmd, { type: 'push', image: 'web:v1' });
  });

  it('reads every container step option', () => {
    const step = load(lines(
      'steps:',
      '  - id: web',
      '    cmd: busybox httpd -f',
      '    detach: true',
      '    entryPoint: /bin/sh',
      '    ports: ["8080:80"]',
      '    expose: ["80"]',
      '    keep: true',
      '    privileged: true',
      '    pull: true',
      '    user: root',
      '    disableWorkingDirectoryOverride: true',
      '    repeat: 1',
      '    retries: 3',
      '    retryDelay: 2',
      '    startDelay: 4',
      '    ignoreErrors: true',
      '    exitedWith: [0, 1]',
      '    exitedWithout: [2]',
      '    cmdDownloadRetryDelay: 7',
    )).steps[0];
    assert.ok(step?.kind === 'cmd');
    assert.deepEqual(
      {
        detach: step.detach, entryPoint: step.entryPoint, ports: step.ports, expose: step.expose, keep: step.keep,
        privileged: step.privileged, pull: step.pull, user: step.user, dwo: step.disableWorkingDirectoryOverride,
        repeat: step.repeat, retries: step.retries, retryDelay: step.retryDelaySeconds, startDelay: step.startDelaySeconds,
        ignoreErrors: step.ignoreErrors, exitedWith: step.exitedWith, exitedWithout: step.exitedWithout,
        downloadDelay: step.cmdDownloadRetryDelaySeconds,
      },
      {
        detach: true, entryPoint: '/bin/sh', ports: ['8080:80'], expose: ['80'], keep: true, privileged: true, pull: true,
        user: 'root', dwo: true, repeat: 1, retries: 3, retryDelay: 2, startDelay: 4, ignoreErrors: true,
        exitedWith: [0, 1], exitedWithout: [2], downloadDelay: 7,
      },
    );
  });

  it('passes a bare --build-arg the value from the step environment', () => {
    const step = load(lines('env: ["TOKEN=abc"]', 'steps:', '  - build: --build-arg TOKEN -t a .')).steps[0];
    assert.ok(step?.kind === 'build');
    assert.deepEqual(step.build.buildArgs, [['TOKEN', 'abc']]);
  });

  it('resolves YAML anchors and aliases', () => {
    const task = load(lines('env: &common ["A=1"]', 'steps:', '  - cmd: a', '    env: *common'));
    assert.deepEqual(task.steps[0]?.env, ['A=1']);
  });
});
