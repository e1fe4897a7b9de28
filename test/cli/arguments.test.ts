import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from 'commander';
import { acrOrderBy, expandRepositoryActions, expiryFrom, parseBoolean, parseDefaults, parseImage, parsePositiveInt, repositoryPath } from '../../src/cli/arguments.ts';
import { CliError } from '../../src/cli/errors.ts';

describe('CLI argument expansion', () => {
  it('--repository REPO ACTION... groups expand to repositories/<repo>/<action>', () => {
    assert.deepEqual(expandRepositoryActions(['hello-world', 'content/read', 'content/write', 'samples/*', 'content/read', '*', 'metadata/read']), [
      'repositories/hello-world/content/read',
      'repositories/hello-world/content/write',
      'repositories/samples/*/content/read',
      'repositories/*/metadata/read',
    ]);
    assert.deepEqual(expandRepositoryActions(['a/b/c', 'content/delete', 'content/delete', 'metadata/write']), [
      'repositories/a/b/c/content/delete',
      'repositories/a/b/c/metadata/write',
    ]);
  });

  it('rejects a repository without actions, actions without a repository, and unknown actions', () => {
    assert.throws(() => expandRepositoryActions(['hello-world']), /--repository hello-world: no actions given/);
    assert.throws(() => expandRepositoryActions(['content/read', 'hello']), /give the repository before its actions/);
    assert.throws(() => expandRepositoryActions(['hello', 'content/raed']), /unknown action content\/raed/);
    assert.throws(() => expandRepositoryActions(['x', 'content/read', 'y'], '--add-repository'), /--add-repository y: no actions/);
  });

  it('--image takes repo:tag and repo@digest', () => {
    assert.deepEqual(parseImage('hello-world:v1'), { repository: 'hello-world', tag: 'v1' });
    assert.deepEqual(parseImage('samples/app:1.0'), { repository: 'samples/app', tag: '1.0' });
    assert.deepEqual(parseImage(`x@sha256:${'a'.repeat(64)}`), { repository: 'x', digest: `sha256:${'a'.repeat(64)}` });
    assert.throws(() => parseImage('hello-world'), CliError);
    assert.throws(() => parseImage('host:5000/hello'), CliError);
    assert.throws(() => parseImage('x@nodigest'), CliError);
    assert.throws(() => parseImage('x:'), CliError);
  });

  it('repository paths keep slashes and encode the rest', () => {
    assert.equal(repositoryPath('samples/hello-world'), 'samples/hello-world');
    assert.equal(repositoryPath('a b'), 'a%20b');
    assert.throws(() => repositoryPath('/x'), CliError);
  });

  it('booleans, counts, order and defaults', () => {
    assert.equal(parseBoolean('True'), true);
    assert.equal(parseBoolean('false'), false);
    assert.throws(() => parseBoolean('yes'), InvalidArgumentError);
    assert.equal(parsePositiveInt('10'), 10);
    assert.throws(() => parsePositiveInt('0'), InvalidArgumentError);
    assert.throws(() => parsePositiveInt('1.5'), InvalidArgumentError);
    assert.equal(acrOrderBy('time_desc'), 'timedesc');
    assert.equal(acrOrderBy('time_asc'), 'timeasc');
    assert.equal(acrOrderBy(undefined), undefined);
    assert.deepEqual(parseDefaults(['registry=contoso']), { registry: 'contoso' });
    assert.deepEqual(parseDefaults(['registry=']), { registry: '' });
    assert.throws(() => parseDefaults(['group=x']), /expected registry=<name>/);
  });

  it('expiry from days or an ISO time, not both', () => {
    const now = new Date('2025-01-01T00:00:00.000Z');
    assert.equal(expiryFrom({ expirationInDays: 30 }, now), '2025-01-31T00:00:00.000Z');
    assert.equal(expiryFrom({ expiration: '2025-12-31T12:59:59Z' }, now), '2025-12-31T12:59:59.000Z');
    assert.equal(expiryFrom({}, now), undefined);
    assert.throws(() => expiryFrom({ expiration: 'soon' }, now), CliError);
    assert.throws(() => expiryFrom({ expiration: '2025-12-31T12:59:59Z', expirationInDays: 1 }, now), /not both/);
  });
});
