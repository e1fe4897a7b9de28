/** Rendering whole task files as the seed walkthrough writes them. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertFails, render } from './render-helpers.ts';

/** The gating acr-task.yaml of consuming-public-content-walkthrough.md, unchanged. */
const WALKTHROUGH_TASK = `version: v1.1.0
steps:
  - id: build-test-base-image
    # Build off the base image we'll track
    # Add a test script to do unit test validations
    # Note: the test validation image isn't saved to the registry
    # but the task logs captures log validation results
    build: >
      --build-arg REGISTRY_FROM_URL={{.Values.REGISTRY_FROM_URL}}
      -f ./Dockerfile
      -t {{.Run.Registry}}/node-import:test
      .
  - id: validate-base-image
    # only continues if node-import:test returns a non-zero code
    when: ['build-test-base-image']
    cmd: "{{.Run.Registry}}/node-import:test"
  - id: pull-base-image
    # import the public image to base-artifacts
    # Override the stable tag,
    # and create a unique tag to enable rollback
    # to a previously working image
    when: ['validate-base-image']
    cmd: >
        docker pull {{.Values.REGISTRY_FROM_URL}}node:15-alpine
  - id: retag-base-image
    when: ['pull-base-image']
    cmd: docker tag {{.Values.REGISTRY_FROM_URL}}node:15-alpine {{.Run.Registry}}/node:15-alpine
  - id: retag-base-image-unique-tag
    when: ['pull-base-image']
    cmd: docker tag {{.Values.REGISTRY_FROM_URL}}node:15-alpine {{.Run.Registry}}/node:15-alpine-{{.Run.ID}}
  - id: push-base-image
    when: ['retag-base-image', 'retag-base-image-unique-tag']
    push:
    - "{{.Run.Registry}}/node:15-alpine"
    - "{{.Run.Registry}}/node:15-alpine-{{.Run.ID}}"
`;

const runData = {
  Run: { ID: 'ca7', Registry: 'baseartifacts.localhost', RegistryName: 'baseartifacts', TaskName: 'node-import-base-image' },
  Values: { REGISTRY_FROM_URL: 'publicregistry.localhost/' },
};

describe('seed task files', () => {
  it('renders the walkthrough gating task with run values', () => {
    const rendered = render(WALKTHROUGH_TASK, runData);
    assert.ok(rendered.includes('--build-arg REGISTRY_FROM_URL=publicregistry.localhost/\n'));
    assert.ok(rendered.includes('-t baseartifacts.localhost/node-import:test\n'));
    assert.ok(rendered.includes('cmd: "baseartifacts.localhost/node-import:test"'));
    assert.ok(rendered.includes('docker pull publicregistry.localhost/node:15-alpine\n'));
    assert.ok(rendered.includes('cmd: docker tag publicregistry.localhost/node:15-alpine baseartifacts.localhost/node:15-alpine-ca7\n'));
    assert.ok(rendered.includes('- "baseartifacts.localhost/node:15-alpine-ca7"'));
    assert.ok(!rendered.includes('{{'));
    assert.equal(rendered.split('\n').length, WALKTHROUGH_TASK.split('\n').length);
  });

  it('reports the first line using REGISTRY_FROM_URL when the value is not set', () => {
    assertFails(WALKTHROUGH_TASK, { ...runData, Values: {} }, 'acr-task.yaml:9: .Values.REGISTRY_FROM_URL is not defined');
  });

  it('renders a unique tag from the run ID', () => {
    assert.equal(render('-t node:{{.Run.ID}} -t node:15-alpine', runData), '-t node:ca7 -t node:15-alpine');
  });

  it('lets an optional value fall back with default', () => {
    const source = 'cmd: docker pull {{ .Values.REGISTRY_FROM_URL | default "docker.io/library/" }}node:15-alpine';
    assert.equal(render(source, { Values: {} }), 'cmd: docker pull docker.io/library/node:15-alpine');
  });

  it('includes a step only when a value is set, with trimmed blank lines', () => {
    const source = [
      'steps:',
      '  - cmd: echo build',
      '{{- if .Values.DEPLOY }}',
      '  - cmd: echo deploy to {{ .Values.DEPLOY | lower | quote }}',
      '{{- end }}',
      '',
    ].join('\n');
    assert.equal(render(source, { Values: {} }), 'steps:\n  - cmd: echo build\n');
    assert.equal(render(source, { Values: { DEPLOY: 'West' } }), 'steps:\n  - cmd: echo build\n  - cmd: echo deploy to "west"\n');
  });

  it('generates steps with range', () => {
    const source = 'push:\n{{- range .Values.TAGS }}\n  - "{{ $.Run.Registry }}/app:{{ . }}"\n{{- end }}\n';
    assert.equal(render(source, { ...runData, Values: { TAGS: ['latest', 'v1'] } }), 'push:\n  - "baseartifacts.localhost/app:latest"\n  - "baseartifacts.localhost/app:v1"\n');
  });
});
