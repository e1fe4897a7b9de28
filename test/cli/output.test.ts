import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CliError } from '../../src/cli/errors.ts';
import { applyQuery, render, type TableColumn } from '../../src/cli/output.ts';

const registries = [
  {
    id: '/registries/contoso',
    name: 'contoso',
    loginServer: 'contoso.localhost:5000',
    location: 'westeurope',
    resourceGroup: 'platform',
    sku: { name: 'Premium', tier: 'Premium' },
    adminUserEnabled: true,
    anonymousPullEnabled: false,
    creationDate: '2025-01-02T03:04:05.000Z',
  },
  {
    id: '/registries/baseartifacts',
    name: 'baseartifacts',
    loginServer: 'baseartifacts.localhost:5000',
    location: null,
    resourceGroup: null,
    sku: { name: 'Standard', tier: 'Standard' },
    adminUserEnabled: false,
    anonymousPullEnabled: true,
    creationDate: '2025-01-03T00:00:00.000Z',
  },
];

const manifests = [
  { digest: 'sha256:aaa', tags: ['v1', 'latest'], timestamp: '2025-01-02T00:00:00Z' },
  { digest: 'sha256:bbb', tags: [], timestamp: '2025-01-01T00:00:00Z' },
  { digest: 'sha256:ccc', tags: [], timestamp: '2025-01-01T00:00:01Z' },
];

const registryTable: TableColumn[] = [
  { header: 'NAME', value: (registry) => registry.name },
  { header: 'SKU', value: (registry) => (registry.sku as { name: string }).name },
  { header: 'LOGIN SERVER', value: (registry) => registry.loginServer },
  { header: 'ADMIN ENABLED', value: (registry) => registry.adminUserEnabled },
];

describe('CLI output formats', () => {
  it('json is two-space indented with a final newline', () => {
    assert.equal(render({ name: 'contoso', tags: ['v1'] }, { format: 'json' }), '{\n  "name": "contoso",\n  "tags": [\n    "v1"\n  ]\n}\n');
  });

  it('jsonc is plain JSON off a terminal and coloured on one', () => {
    assert.equal(render({ a: 1 }, { format: 'jsonc', colour: false }), '{\n  "a": 1\n}\n');
    assert.equal(
      render({ a: 1, b: 'x', c: [true, null] }, { format: 'jsonc', colour: true }),
      '{\n  \x1b[94m"a"\x1b[0m: \x1b[36m1\x1b[0m,\n  \x1b[94m"b"\x1b[0m: \x1b[32m"x"\x1b[0m,\n  \x1b[94m"c"\x1b[0m: [\n    \x1b[35mtrue\x1b[0m,\n    \x1b[35mnull\x1b[0m\n  ]\n}\n',
    );
  });

  it('tsv prints the scalar fields of each item in order, one row per item', () => {
    assert.equal(
      render(registries, { format: 'tsv' }),
      '/registries/contoso\tcontoso\tcontoso.localhost:5000\twesteurope\tplatform\ttrue\tfalse\t2025-01-02T03:04:05.000Z\n' +
        '/registries/baseartifacts\tbaseartifacts\tbaseartifacts.localhost:5000\t\t\tfalse\ttrue\t2025-01-03T00:00:00.000Z\n',
    );
    assert.equal(render(['hello-world', 'node'], { format: 'tsv' }), 'hello-world\nnode\n');
    assert.equal(render('sha256:aaa', { format: 'tsv' }), 'sha256:aaa\n');
    assert.equal(render([], { format: 'tsv' }), '');
    assert.equal(render(null, { format: 'tsv' }), '');
  });

  it("table uses a command's columns, az-style: headers, dashes, two spaces between columns", () => {
    assert.equal(
      render(registries, { format: 'table', table: registryTable }),
      [
        'NAME           SKU       LOGIN SERVER                  ADMIN ENABLED',
        '-------------  --------  ----------------------------  -------------',
        'contoso        Premium   contoso.localhost:5000        true',
        'baseartifacts  Standard  baseartifacts.localhost:5000  false',
        '',
      ].join('\n'),
    );
  });

  it('table without columns (or with --query) shows scalar fields with capitalised headers', () => {
    assert.equal(
      render(manifests, { format: 'table' }),
      ['Digest      Timestamp', '----------  --------------------', 'sha256:aaa  2025-01-02T00:00:00Z', 'sha256:bbb  2025-01-01T00:00:00Z', 'sha256:ccc  2025-01-01T00:00:01Z', ''].join('\n'),
    );
    assert.equal(
      render(registries, { format: 'table', table: registryTable, query: '[].{Name: name, Group: resourceGroup}' }),
      ['Name           Group', '-------------  --------', 'contoso        platform', 'baseartifacts', ''].join('\n'),
    );
    assert.equal(render(['v1', 'latest'], { format: 'table' }), 'Result\n------\nv1\nlatest\n');
    assert.equal(render([], { format: 'table', table: registryTable }), '');
  });

  it('--query runs before formatting', () => {
    assert.equal(render(manifests, { format: 'tsv', query: '[?tags[0]==null].digest' }), 'sha256:bbb\nsha256:ccc\n');
    assert.equal(render(registries, { format: 'json', query: '[0].id' }), '"/registries/contoso"\n');
    assert.equal(render(registries, { format: 'tsv', query: '[0].id' }), '/registries/contoso\n');
    const token = { name: 't', credentials: { username: 't', passwords: [{ name: 'password1', value: 's3cret' }, { name: 'password2', value: 'other' }] } };
    assert.equal(render(token, { format: 'tsv', query: 'credentials.passwords[0].value' }), 's3cret\n');
    assert.equal(render(registries, { format: 'json', query: 'length(@)' }), '2\n');
  });

  it('none prints nothing; nothing to print prints nothing', () => {
    assert.equal(render(registries, { format: 'none' }), '');
    assert.equal(render(undefined, { format: 'json' }), '');
  });

  it('a bad --query is a CLI error', () => {
    assert.throws(() => applyQuery({}, '[?'), (error: unknown) => error instanceof CliError && /^--query: /.test(error.message));
  });
});
