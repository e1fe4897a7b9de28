import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertIssue, assertWarning, lines, load, loadError, stepById } from './helpers.ts';

describe('task file validation', () => {
  it('reports an unknown top-level property on its line', () => {
    const error = loadError(lines('version: v1.1.0', 'stepTimout: 10', 'steps:', '  - cmd: busybox'));
    assert.equal(error.issues.length, 1);
    assertIssue(error, 2, /^unknown property 'stepTimout'$/);
    assert.equal(error.message, "acr-task.yaml:2: unknown property 'stepTimout'");
  });

  it('reports an unknown step property, with a hint when only the case differs', () => {
    const error = loadError(lines('steps:', '  - cmd: busybox', '    foo: 1', '    entrypoint: sh'));
    assertIssue(error, 3, /^unknown property 'foo'$/);
    assertIssue(error, 4, /unknown property 'entrypoint' \(did you mean 'entryPoint'\?\)/);
  });

  it('collects every error of the file in one pass, in line order', () => {
    const error = loadError(lines('version: v2', 'steps:', '  - id: a', '    retries: x', '  - id: a', '    cmd: busybox', '    bogus: true'));
    assert.deepEqual(
      error.issues.map((issue) => issue.line),
      [1, 3, 4, 5, 7],
    );
    assert.match(error.message, /^acr-task\.yaml:1: invalid version 'v2'/);
  });

  it('names the file given in the options', () => {
    const error = loadError(lines('steps:', '  - cmd: busybox', '    x: 1'), { options: { fileName: 'ci/build.yaml' } });
    assert.equal(error.message, "ci/build.yaml:3: unknown property 'x'");
  });

  it('requires exactly one of build, cmd and push in a step', () => {
    const none = loadError(lines('steps:', '  - id: nothing', '    env: ["A=1"]'));
    assertIssue(none, 2, /needs one of 'build', 'cmd' or 'push'/);
    const two = loadError(lines('steps:', '  - build: .', '    push: a:1'));
    assertIssue(two, 2, /only contain a single build, cmd, or push property \(found 'build', 'push'\)/);
  });

  it('reports duplicate step ids, also against generated ones', () => {
    const error = loadError(lines('steps:', '  - cmd: busybox', '  - id: acb_step_0', '    cmd: busybox'));
    assertIssue(error, 3, /duplicate step id 'acb_step_0' \(first on line 2\)/);
  });

  it('reserves acb_root and refuses ids with spaces or empty ids', () => {
    const error = loadError(lines('steps:', '  - id: acb_root', '    cmd: a', '  - id: two words', '    cmd: b', '  - id: ""', '    cmd: c'));
    assertIssue(error, 2, /'acb_root' is reserved/);
    assertIssue(error, 4, /'two words' cannot contain spaces/);
    assertIssue(error, 6, /'id' cannot be empty/);
  });

  it("reports a 'when' naming a missing step on the entry's line", () => {
    const error = loadError(lines('steps:', '  - id: a', '    cmd: busybox', '  - id: b', '    when:', '      - a', '      - ghost', '    cmd: busybox'));
    assert.equal(error.issues.length, 1);
    assertIssue(error, 7, /'when' names step 'ghost', which does not exist/);
  });

  it("refuses '-' combined with step ids", () => {
    const error = loadError(lines('steps:', '  - id: a', '    cmd: busybox', '  - when: ["-", "a"]', '    cmd: busybox'));
    assertIssue(error, 4, /cannot combine '-' with step ids/);
  });

  it('names the steps of a cycle in when', () => {
    const error = loadError(lines(
      'steps:',
      '  - id: a',
      '    when: [c]',
      '    cmd: busybox',
      '  - id: b',
      '    when: [a]',
      '    cmd: busybox',
      '  - id: c',
      '    when: [b]',
      '    cmd: busybox',
    ));
    assert.equal(error.issues.length, 1);
    assertIssue(error, 2, /cycle: a → c → b → a/);
  });

  it('refuses a step waiting for itself', () => {
    const error = loadError(lines('steps:', '  - id: a', '    when: [a]', '    cmd: busybox'));
    assertIssue(error, 3, /'a' cannot wait for itself/);
  });

  it('refuses an invalid version', () => {
    assertIssue(loadError(lines('version: 1.0', 'steps:', '  - cmd: busybox')), 1, /invalid version '1\.0' \(valid: 1\.0-preview-1, v1\.0\.0, v1\.1\.0\)/);
  });

  it('accepts each valid version, defaulting to v1.0.0', () => {
    for (const version of ['1.0-preview-1', 'v1.0.0', 'v1.1.0']) {
      assert.equal(load(lines(`version: ${version}`, 'steps:', '  - cmd: busybox')).version, version);
    }
    assert.equal(load(lines('steps:', '  - cmd: busybox')).version, 'v1.0.0');
  });

  it('reports wrong types and negative numbers', () => {
    const error = loadError(lines(
      'stepTimeout: -5',
      'steps:',
      '  - cmd: busybox',
      '    retries: "x"',
      '    repeat: -1',
      '    detach: maybe',
      '    ports: 8080',
      '    timeout: 1.5',
      '    exitedWith: [0, "one"]',
    ));
    assertIssue(error, 1, /'stepTimeout' must be a whole number of at least 0/);
    assertIssue(error, 4, /'retries' must be a whole number/);
    assertIssue(error, 5, /'repeat' must be a whole number/);
    assertIssue(error, 6, /'detach' must be true or false/);
    assertIssue(error, 7, /'ports' must be a list of strings/);
    assertIssue(error, 8, /'timeout' must be a whole number/);
    assertIssue(error, 9, /'exitedWith' must be a list of whole numbers/);
  });

  it("accepts YAML 1.1 booleans and numbers where strings are expected, as ACR's runner does", () => {
    const step = load(lines('steps:', '  - cmd: busybox', '    detach: yes', '    user: 1000', '    cpus: 0.5')).steps[0];
    assert.ok(step && step.kind === 'cmd');
    assert.equal(step.detach, true);
    assert.equal(step.user, '1000');
    assert.equal(step.cpus, '0.5');
  });

  it('requires env entries to be K=V', () => {
    const error = loadError(lines('env:', '  - GOOD=1', '  - BAD', 'steps:', '  - cmd: busybox', '    env: ["=x"]'));
    assertIssue(error, 3, /NAME=value/);
    assertIssue(error, 6, /NAME=value/);
  });

  it('checks volumes and volume mounts', () => {
    const error = loadError(lines(
      'volumes:',
      '  - name: my vol',
      '    secret:',
      '      a.txt: aGk=',
      '  - name: certs',
      '    secret:',
      '      ca.crt: aGk=',
      '  - name: certs',
      '    secret:',
      '      bad/name: aGk=',
      'steps:',
      '  - cmd: busybox',
      '    volumeMounts:',
      '      - name: certs',
      '        mountPath: /etc/certs',
      '      - name: missing',
      '        mountPath: /etc/certs',
    ));
    assertIssue(error, 2, /volume name 'my vol' may contain only letters, digits, '-' and '_'/);
    assertIssue(error, 8, /duplicate volume name 'certs'/);
    assertIssue(error, 10, /file name 'bad\/name'/);
    assertIssue(error, 16, /names volume 'missing', which is not defined/);
    assertIssue(error, 17, /mount path '\/etc\/certs' is used twice/);
  });

  it('requires a volume to hold at least one base64 secret file', () => {
    const error = loadError(lines(
      'volumes:',
      '  - name: none',
      '  - name: empty',
      '    secret: {}',
      '  - name: plain',
      '    secret:',
      '      a.txt: not base64!',
      'steps:',
      '  - cmd: busybox',
    ));
    assertIssue(error, 2, /needs a 'secret' mapping/);
    assertIssue(error, 4, /'secret' needs at least one file/);
    assertIssue(error, 7, /content of 'a\.txt' must be base64-encoded/);
  });

  it('refuses volume mounts on push steps', () => {
    const error = loadError(lines('volumes:', '  - name: v', '    secret: {f: aGk=}', 'steps:', '  - push: [a:1]', '    volumeMounts: [{name: v, mountPath: /v}]'));
    assertIssue(error, 6, /only be used in build and cmd steps/);
  });

  it('checks secrets: duplicate ids, missing keyvault, URI shape, clientID', () => {
    const error = loadError(lines(
      'secrets:',
      '  - id: pw',
      '    keyvault: vault://kv/pw',
      '  - id: pw',
      '    keyvault: https://kv.vault.azure.net/secrets/pw2',
      '  - id: user',
      '  - id: other',
      '    keyvault: ftp://kv/x',
      '    clientID: not-a-guid',
      'steps:',
      '  - cmd: busybox',
    ));
    assertIssue(error, 4, /duplicate secret id 'pw' \(first on line 2\)/);
    assertIssue(error, 6, /'user' needs a 'keyvault'/);
    assertIssue(error, 8, /'keyvault' must be vault:\/\//);
    assertIssue(error, 9, /'clientID' must be a GUID/);
  });

  it("accepts only 'enabled' and 'disabled' for cache", () => {
    assertIssue(loadError(lines('steps:', '  - build: .', '    cache: sometimes')), 3, /'cache' must be 'enabled' or 'disabled'/);
    const step = load(lines('steps:', '  - build: .', '    cache: Disabled')).steps[0];
    assert.ok(step?.kind === 'build');
    assert.equal(step.cache, 'disabled');
  });

  it('reports a bad build or cmd line on its line, prefixed with the property', () => {
    const error = loadError(lines('steps:', '  - build: -t a:1', '  - cmd: docker run -v /:/h busybox', '  - cmd: ""'));
    assertIssue(error, 2, /^build: the build context is missing/);
    assertIssue(error, 3, /^cmd: 'docker run --volume' is not supported/);
    assertIssue(error, 4, /^cmd: 'cmd' is empty/);
  });

  it('refuses an empty build, a push without images and a task without steps', () => {
    assertIssue(loadError(lines('steps:', '  - build:')), 2, /'build' cannot be empty/);
    assertIssue(loadError(lines('steps:', '  - push: []')), 2, /'push' needs at least one image/);
    assertIssue(loadError(lines('version: v1.1.0')), 1, /'steps' is required/);
    assertIssue(loadError(lines('steps: []')), 1, /'steps' needs at least one step/);
  });

  it('refuses a document that is not a mapping', () => {
    assertIssue(loadError('- cmd: busybox\n'), 1, /a task file is a mapping/);
  });

  it('reports a YAML syntax error on its line', () => {
    const error = loadError(lines('version: v1.1.0', 'steps:', '  - id: a', '    cmd: busybox', '   when: [a]', '  - cmd: busybox'));
    assert.ok(error.issues.length >= 1);
    assertIssue(error, 5, /^invalid YAML: /);
  });

  it('reports a duplicate YAML key', () => {
    const error = loadError(lines('steps:', '  - cmd: busybox', '    cmd: other'));
    assertIssue(error, 3, /^invalid YAML: Map keys must be unique/);
  });

  it('turns properties Berth cannot honour into warnings with their lines', () => {
    const task = load(lines(
      'networks:',
      '  - name: overlaynet',
      '    driver: overlay',
      'steps:',
      '  - build: .',
      '    isolation: hyperv',
      '    cache: enabled',
      '    network: overlaynet',
      '    secret: {id: x}',
      '    exitedWith: [0]',
      '  - cmd: busybox',
      '    cache: disabled',
      '    network: acb_default_network',
      '    isolation: default',
      '    cpus: "2"',
      '    retryOnErrors: ["timeout"]',
      '    cmdDownloadRetries: 3',
    ));
    assertWarning(task, 2, /network 'overlaynet' is not used/);
    assertWarning(task, 6, /'isolation: hyperv' is for Windows containers/);
    assertWarning(task, 7, /'cache: enabled'.*not supported/);
    assertWarning(task, 8, /does not join network 'overlaynet'/);
    assertWarning(task, 9, /'secret' is not supported/);
    assertWarning(task, 10, /'exitedWith' applies only to cmd steps/);
    assertWarning(task, 12, /'cache' applies only to build steps/);
    assert.equal(task.warnings.length, 7);
    const cmd = task.steps[1];
    assert.ok(cmd?.kind === 'cmd');
    assert.equal(cmd.cpus, '2');
    assert.deepEqual(cmd.retryOnErrors, ['timeout']);
    assert.equal(cmd.cmdDownloadRetries, 3);
  });

  it('warns about container properties on push steps', () => {
    const task = load(lines('steps:', '  - push: a:1', '    detach: true', '    retries: 2'));
    assertWarning(task, 3, /'detach' has no effect on a push step/);
    assertWarning(task, 4, /'retries' has no effect on a push step/);
  });

  it('keeps a bridge network without warning, with its defaults', () => {
    const task = load(lines('networks:', '  - name: local', '    driver: bridge', 'steps:', '  - cmd: busybox'));
    assert.deepEqual(task.networks, [{ name: 'local', driver: 'bridge', ipv6: false, skipCreation: false, isDefault: false }]);
    assert.deepEqual(task.warnings, []);
  });

  it('reads secret volumes', () => {
    const task = load(lines('volumes:', '  - name: my-certs_1', '    secret:', '      ca.crt: aGVsbG8=', 'steps:', '  - cmd: busybox', '    volumeMounts:', '      - name: my-certs_1', '        mountPath: /certs'));
    assert.deepEqual(task.volumes, [{ name: 'my-certs_1', secret: { 'ca.crt': 'aGVsbG8=' } }]);
    const step = stepById(task, 'acb_step_0');
    assert.ok(step.kind === 'cmd');
    assert.deepEqual(step.volumeMounts, [{ name: 'my-certs_1', mountPath: '/certs' }]);
  });
});
