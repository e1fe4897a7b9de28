import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertIssue, lines, load, loadError } from './helpers.ts';

describe('task file templates', () => {
  it('renders Run, the legacy Build.ID, Values and Secrets', () => {
    const task = load(
      lines('steps:', '  - cmd: busybox {{.Run.ID}} {{.Build.ID}} {{.Values.greeting}} {{.Secrets.pw}} {{.Run.TaskName}}'),
      { values: { greeting: 'hi' }, secrets: { pw: 's3cret' } },
    );
    const step = task.steps[0];
    assert.deepEqual(step?.kind === 'cmd' && step.cmd.type === 'container' && step.cmd.args, ['ca1', 'ca1', 'hi', 's3cret', 'gate']);
  });

  it('renders conditionals before the YAML is read', () => {
    const text = lines('steps:', '  - cmd: busybox', '{{ if eq .Values.push "yes" }}', '  - push: reg/app:v1', '{{ end }}');
    assert.equal(load(text, { values: { push: 'yes' } }).steps.length, 2);
    assert.equal(load(text, { values: { push: 'no' } }).steps.length, 1);
  });

  it('reports a template error on its line', () => {
    const error = loadError(lines('version: v1.1.0', 'steps:', '  - cmd: busybox', '  - cmd: busybox {{.Values.missing}}'));
    assert.equal(error.issues.length, 1);
    assertIssue(error, 4, /^template: \.Values\.missing is not defined$/);
    assert.equal(error.message, 'acr-task.yaml:4: template: .Values.missing is not defined');
  });

  it('reports an unknown template function on its line', () => {
    assertIssue(loadError(lines('steps:', '', '  - cmd: busybox {{ shout "x" }}')), 3, /function "shout" not defined/);
  });

  it('reports a YAML error in the rendered text on its line', () => {
    const error = loadError(lines('steps:', '  - cmd: busybox', '  - cmd: {{.Values.value}}'), { values: { value: 'a: b' } });
    assertIssue(error, 3, /^invalid YAML: /);
  });

  it('reports a template error in the alias section on its line', () => {
    const error = loadError(lines('version: v1.1.0', 'alias:', '  values:', '    x: "{{.Values.nope}}"', 'steps:', '  - cmd: busybox'));
    assertIssue(error, 4, /^template: \.Values\.nope is not defined/);
  });
});
