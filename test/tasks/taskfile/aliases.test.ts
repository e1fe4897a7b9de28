import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertIssue, assertWarning, lines, load, loadError, RUN } from './helpers.ts';

function firstCmd(text: string): unknown {
  const step = load(text).steps[0];
  assert.ok(step?.kind === 'cmd');
  return step.cmd;
}

describe('task file aliases (v1.1.0)', () => {
  it('replaces every predefined alias with its run variable', () => {
    const cmd = firstCmd(lines('version: v1.1.0', 'steps:', '  - cmd: busybox $ID $SharedVolume $Registry $RegistryName $Date $OS $Architecture $Commit $Branch'));
    assert.deepEqual(cmd, {
      type: 'container',
      image: 'busybox',
      args: [RUN.ID, RUN.SharedVolume, RUN.Registry, RUN.RegistryName, RUN.Date, RUN.OS, RUN.Architecture, RUN.Commit, RUN.Branch],
      run: { env: [], ports: [], detach: false, remove: false },
    });
  });

  it('replaces custom alias values, back to back and inside words', () => {
    const text = lines('version: v1.1.0', 'alias:', '  values:', '    repo: web', '    tag: v1', 'steps:', '  - push: ["$Registry/$repo:$tag$tag"]');
    const step = load(text).steps[0];
    assert.deepEqual(step?.kind === 'push' && step.push, [`${RUN.Registry}/web:v1v1`]);
  });

  it('keeps unknown aliases and a doubled directive as written', () => {
    const cmd = firstCmd(lines('version: v1.1.0', 'steps:', "  - cmd: busybox sh -c 'echo $HOME $$ID'"));
    assert.deepEqual(cmd, { type: 'container', image: 'busybox', args: ['sh', '-c', 'echo $HOME $ID'], run: { env: [], ports: [], detach: false, remove: false } });
  });

  it('uses a custom directive character', () => {
    const text = lines('version: v1.1.0', 'alias:', "  directive: '&'", '  values:', '    img: busybox', 'steps:', '  - cmd: &img echo $ID &Registry');
    assert.deepEqual(firstCmd(text), { type: 'container', image: 'busybox', args: ['echo', '$ID', RUN.Registry], run: { env: [], ports: [], detach: false, remove: false } });
  });

  it("replaces a custom alias used as a cmd step's first word", () => {
    const text = lines('version: v1.1.0', 'alias:', '  values:', '    runner: busybox:1.36', 'steps:', '  - cmd: runner echo hi');
    assert.deepEqual(firstCmd(text), { type: 'container', image: 'busybox:1.36', args: ['echo', 'hi'], run: { env: [], ports: [], detach: false, remove: false } });
  });

  it("warns about ACR's image aliases, which point at an unreachable registry", () => {
    const task = load(lines('version: v1.1.0', 'steps:', '  - cmd: bash -c "echo hi"'));
    assertWarning(task, 3, /'bash' is ACR's alias for mcr\.microsoft\.com\/acr\/bash.*used as written/);
    const step = task.steps[0];
    assert.deepEqual(step?.kind === 'cmd' && step.cmd.type === 'container' && step.cmd.image, 'bash');
  });

  it('renders template actions in alias values', () => {
    const text = lines('version: v1.1.0', 'alias:', '  values:', '    repo: "{{.Values.repo}}"', 'steps:', '  - push: $repo:$ID');
    const step = load(text, { values: { repo: 'reg/app' } }).steps[0];
    assert.deepEqual(step?.kind === 'push' && step.push, ['reg/app:ca1']);
  });

  it('never reads $ in rendered values for aliases', () => {
    const step = load(lines('version: v1.1.0', 'steps:', '  - cmd: busybox {{.Values.word}}'), { values: { word: 'pa$ID' } }).steps[0];
    assert.deepEqual(step?.kind === 'cmd' && step.cmd.type === 'container' && step.cmd.args, ['pa$ID']);
  });

  it('leaves $ alone before v1.1.0 and warns about an alias section there', () => {
    const task = load(lines('version: v1.0.0', 'alias:', '  values:', '    x: y', 'steps:', '  - cmd: busybox $ID'));
    assertWarning(task, 2, /'alias' needs 'version: v1\.1\.0'/);
    const step = task.steps[0];
    assert.deepEqual(step?.kind === 'cmd' && step.cmd.type === 'container' && step.cmd.args, ['$ID']);
  });

  it('reports bad alias names and directives on their lines', () => {
    const error = loadError(lines('version: v1.1.0', 'alias:', '  directive: "ab"', '  values:', '    bad-name: x', '  extra: 1', 'steps:', '  - cmd: busybox'));
    assertIssue(error, 3, /single character/);
    assertIssue(error, 5, /alias name 'bad-name' may contain only letters and digits/);
    assertIssue(error, 6, /unknown property 'extra'/);
    assert.equal(error.issues.length, 3);
  });

  it('refuses a letter as directive', () => {
    assertIssue(loadError(lines('version: v1.1.0', 'alias:', '  directive: a', 'steps:', '  - cmd: busybox')), 3, /cannot be a letter or a digit/);
  });

  it('warns that alias sources are not loaded', () => {
    const task = load(lines('version: v1.1.0', 'alias:', '  src:', '    - https://example.com/aliases.yaml', 'steps:', '  - cmd: busybox'));
    assertWarning(task, 4, /alias source 'https:\/\/example\.com\/aliases\.yaml' is not loaded/);
  });
});
