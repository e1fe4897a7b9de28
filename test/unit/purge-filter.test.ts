import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_AGO_MS, parseAgo, parseFilter, PurgeInputError, tagMatchers } from '../../src/purge/filter.ts';

describe('purge --filter', () => {
  it('anchors the repository regex and searches the tag regex, as acr purge does', () => {
    const filter = parseFilter('app:v1');
    assert.ok(filter.repositoryRegex.test('app'));
    assert.ok(!filter.repositoryRegex.test('myapp'));
    assert.ok(!filter.repositoryRegex.test('app2'));
    assert.ok(filter.tagRegex.test('v1'));
    assert.ok(filter.tagRegex.test('prev1-rc'));
    assert.ok(!parseFilter('app:^v1$').tagRegex.test('v10'));
  });

  it('matches repository alternatives whole and joins filters of one repository', () => {
    const matchers = tagMatchers([parseFilter('a|b/c:^x'), parseFilter('a:^y')], ['a', 'b/c', 'ab/c', 'd']);
    assert.deepEqual([...matchers.keys()], ['a', 'b/c']);
    assert.ok(matchers.get('a')!('x1') && matchers.get('a')!('y1'));
    assert.ok(!matchers.get('b/c')!('y1'));
  });

  it('refuses filters it cannot split or compile, before anything runs', () => {
    for (const bad of ['app', 'app:v1:x', ':v1', 'app:', 'app:v(1', 'ap[p:.*', 'app:(?i:v)']) {
      assert.throws(() => parseFilter(bad), PurgeInputError, bad);
    }
  });
});

describe('purge --ago', () => {
  const hour = 3_600_000;
  it('reads [N]d plus a Go duration', () => {
    assert.equal(parseAgo('0d'), 0);
    assert.equal(parseAgo('1d'), 24 * hour);
    assert.equal(parseAgo('2d3h6m'), 51 * hour + 6 * 60_000);
    assert.equal(parseAgo('90m'), 90 * 60_000);
    assert.equal(parseAgo('1.5h'), 1.5 * hour);
    assert.equal(parseAgo('1h30m15s'), hour + 30 * 60_000 + 15_000);
  });

  it('caps at 150 years and refuses nonsense', () => {
    assert.equal(parseAgo('100000d'), MAX_AGO_MS);
    for (const bad of ['', 'd', '1x', '1d2', '-1d', '1dh', 'yesterday']) assert.throws(() => parseAgo(bad), PurgeInputError, bad);
  });
});
