import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { TaskStep } from '../../../src/tasks/model.ts';
import { parseBuildArguments, secretReferences } from '../../../src/tasks/taskfile/index.ts';
import { load, RUN, stepById } from './helpers.ts';

function fixture(name: string): string {
  return readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8');
}

const CONTAINER_DEFAULTS = {
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
};

const COMMON_DEFAULTS = { env: [], ignoreErrors: false, startDelaySeconds: 0, timeoutSeconds: 600 };

describe('seed task files', () => {
  it("loads the walkthrough's gating acr-task.yaml unchanged to the expected model", () => {
    const publicRegistry = 'publicregistry.localhost:5000/';
    const task = load(fixture('gating-acr-task.yaml'), { values: { REGISTRY_FROM_URL: publicRegistry } });
    const registry = RUN.Registry;
    const expected: TaskStep[] = [
      {
        id: 'build-test-base-image',
        line: 3,
        dependsOn: [],
        ...COMMON_DEFAULTS,
        ...CONTAINER_DEFAULTS,
        kind: 'build',
        build: {
          tags: [`${registry}/node-import:test`],
          dockerfile: './Dockerfile',
          buildArgs: [['REGISTRY_FROM_URL', publicRegistry]],
          noCache: false,
          pull: false,
          labels: [],
          context: '.',
        },
      },
      {
        id: 'validate-base-image',
        line: 13,
        dependsOn: ['build-test-base-image'],
        ...COMMON_DEFAULTS,
        ...CONTAINER_DEFAULTS,
        kind: 'cmd',
        cmd: { type: 'container', image: `${registry}/node-import:test`, args: [], run: { env: [], ports: [], detach: false, remove: false } },
      },
      {
        id: 'pull-base-image',
        line: 17,
        dependsOn: ['validate-base-image'],
        ...COMMON_DEFAULTS,
        ...CONTAINER_DEFAULTS,
        kind: 'cmd',
        cmd: { type: 'pull', image: `${publicRegistry}node:15-alpine` },
      },
      {
        id: 'retag-base-image',
        line: 25,
        dependsOn: ['pull-base-image'],
        ...COMMON_DEFAULTS,
        ...CONTAINER_DEFAULTS,
        kind: 'cmd',
        cmd: { type: 'tag', source: `${publicRegistry}node:15-alpine`, target: `${registry}/node:15-alpine` },
      },
      {
        id: 'retag-base-image-unique-tag',
        line: 28,
        dependsOn: ['pull-base-image'],
        ...COMMON_DEFAULTS,
        ...CONTAINER_DEFAULTS,
        kind: 'cmd',
        cmd: { type: 'tag', source: `${publicRegistry}node:15-alpine`, target: `${registry}/node:15-alpine-ca1` },
      },
      {
        id: 'push-base-image',
        line: 31,
        dependsOn: ['retag-base-image', 'retag-base-image-unique-tag'],
        ...COMMON_DEFAULTS,
        kind: 'push',
        push: [`${registry}/node:15-alpine`, `${registry}/node:15-alpine-ca1`],
      },
    ];
    assert.deepEqual(task, {
      version: 'v1.1.0',
      stepTimeoutSeconds: 600,
      workingDirectory: '/workspace',
      env: [],
      secrets: [],
      volumes: [],
      networks: [],
      steps: expected,
      warnings: [],
    });
  });

  it('reports the missing REGISTRY_FROM_URL value of the walkthrough file on its first line of use', () => {
    assert.throws(() => load(fixture('gating-acr-task.yaml')), (error: Error) => /^acr-task\.yaml:9: template: /.test(error.message));
  });

  it('loads the §1.15 reference example with its aliases, graph and defaults', () => {
    const task = load(fixture('reference-example-acr-task.yaml'), { secrets: { pw: 'hunter2' } });
    const registry = RUN.Registry;
    assert.equal(task.stepTimeoutSeconds, 900);
    assert.deepEqual(task.env, ['APP=web']);
    assert.deepEqual(task.secrets, [{ id: 'pw', keyvault: 'https://kv.vault.azure.net/secrets/pw' }]);
    assert.deepEqual(task.steps.map((step) => [step.id, step.line, step.dependsOn]), [
      ['build-web', 8, []],
      ['build-tests', 11, []],
      ['run-web', 14, ['build-web']],
      ['test', 19, ['run-web', 'build-tests']],
      ['acb_step_4', 23, ['test']],
    ]);
    for (const step of task.steps) {
      assert.deepEqual(step.env, ['APP=web']);
      assert.equal(step.timeoutSeconds, 900);
    }

    const buildWeb = stepById(task, 'build-web');
    assert.ok(buildWeb.kind === 'build');
    assert.deepEqual(buildWeb.build.tags, [`${registry}/web:ca1`]);
    assert.equal(buildWeb.build.dockerfile, 'Dockerfile');
    const buildTests = stepById(task, 'build-tests');
    assert.ok(buildTests.kind === 'build');
    assert.deepEqual([buildTests.build.tags, buildTests.build.dockerfile, buildTests.build.context], [[`${registry}/web-test:ca1`], 'Dockerfile.test', '.']);

    const runWeb = stepById(task, 'run-web');
    assert.ok(runWeb.kind === 'cmd');
    assert.deepEqual(runWeb.cmd, { type: 'container', image: `${registry}/web:ca1`, args: [], run: { env: [], ports: [], detach: false, remove: false } });
    assert.equal(runWeb.detach, true);
    assert.deepEqual(runWeb.ports, ['8080:80']);

    const test = stepById(task, 'test');
    assert.ok(test.kind === 'cmd');
    assert.deepEqual([test.retries, test.retryDelaySeconds], [2, 5]);

    const push = stepById(task, 'acb_step_4');
    assert.ok(push.kind === 'push');
    assert.deepEqual(push.push, [`${registry}/web:ca1`, `${registry}/web:latest`]);
    assert.deepEqual(task.warnings, []);
  });

  it("reads the §1.15 example's secrets before they are resolved", () => {
    assert.deepEqual(secretReferences(fixture('reference-example-acr-task.yaml')), [{ id: 'pw', keyvault: 'https://kv.vault.azure.net/secrets/pw' }]);
  });

  it("loads the root-CA seed's scheduled purge as a host step", () => {
    const task = load(fixture('root-ca-purge-acr-task.yaml'));
    assert.deepEqual(task.steps.map((step) => step.kind === 'cmd' && step.cmd), [
      { type: 'host', program: 'acr', args: ['purge', '--filter', 'YourApp:.*', '--untagged', '--ago', '0d'] },
    ]);
  });

  it("parses the root-CA seed's Dockerfile task as a build of its image", () => {
    assert.deepEqual(parseBuildArguments('-t YourApp:latest -f Dockerfile-YourApp .'), {
      spec: { tags: ['YourApp:latest'], dockerfile: 'Dockerfile-YourApp', buildArgs: [], noCache: false, pull: false, labels: [], context: '.' },
      warnings: [],
    });
  });
});
