import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { secretReferences, TaskFileError } from '../../../src/tasks/taskfile/index.ts';
import { lines, RUN } from './helpers.ts';

describe('secretReferences', () => {
  it('reads the secrets section while the rest of the file holds unrendered templates', () => {
    const text = lines(
      'version: v1.1.0',
      'secrets:',
      '  - id: user',
      '    keyvault: vault://creds/registry-user',
      '  - id: pw',
      '    keyvault: https://creds.vault.azure.net/secrets/registry-password/abc',
      '    clientID: 2d4a4f1c-1b8e-4c3a-9d1e-0f5b6a7c8d9e',
      'steps:',
      '  - cmd: {{.Values.image}} {{.Secrets.pw}}',
    );
    assert.deepEqual(secretReferences(text), [
      { id: 'user', keyvault: 'vault://creds/registry-user' },
      { id: 'pw', keyvault: 'https://creds.vault.azure.net/secrets/registry-password/abc', clientID: '2d4a4f1c-1b8e-4c3a-9d1e-0f5b6a7c8d9e' },
    ]);
  });

  it('returns none for a file without a secrets section', () => {
    assert.deepEqual(secretReferences(lines('steps:', '  - cmd: {{.Values.image}}')), []);
  });

  it('keeps template actions in values as written when no values are given', () => {
    const text = lines('secrets:', '{{ if .Values.prod }}', '  - id: pw', '    keyvault: https://{{.Values.vault}}.vault.azure.net/secrets/pw', '{{ end }}', 'steps:', '  - cmd: busybox');
    assert.deepEqual(secretReferences(text), [{ id: 'pw', keyvault: 'https://{{.Values.vault}}.vault.azure.net/secrets/pw' }]);
  });

  it('renders the section with the run variables and values when given', () => {
    const text = lines('secrets:', '  - id: pw', '    keyvault: vault://{{.Values.vault}}/{{.Run.RegistryName}}-pw', 'steps:', '  - cmd: busybox');
    assert.deepEqual(secretReferences(text, { run: RUN, values: { vault: 'kv' } }), [{ id: 'pw', keyvault: 'vault://kv/contoso-pw' }]);
  });

  it('expands aliases in the section for v1.1.0 files', () => {
    const text = lines('version: v1.1.0', 'alias:', '  values:', '    kv: creds', 'secrets:', '  - id: pw', '    keyvault: vault://$kv/$RegistryName', 'steps:', '  - cmd: busybox');
    assert.deepEqual(secretReferences(text, { run: RUN, values: {} }), [{ id: 'pw', keyvault: 'vault://creds/contoso' }]);
  });

  it('reports problems of the section with their lines', () => {
    const text = lines('steps:', '  - cmd: busybox', 'secrets:', '  - id: pw', '    keyvault: vault://kv/pw', '  - id: pw', '    keyvault: not-a-uri');
    assert.throws(() => secretReferences(text), (error: unknown) => {
      assert.ok(error instanceof TaskFileError);
      assert.deepEqual(error.issues.map((issue) => issue.line), [6, 7]);
      return true;
    });
  });
});
