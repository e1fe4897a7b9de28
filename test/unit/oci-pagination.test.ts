import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryError } from '../../src/oci/errors.ts';
import { nextLink, parsePagination } from '../../src/oci/pagination.ts';

function assertPaginationInvalid(query: Parameters<typeof parsePagination>[0], maximum = 1000): void {
  assert.throws(() => parsePagination(query, maximum), (error: unknown) => {
    assert.ok(error instanceof RegistryError);
    assert.equal(error.code, 'PAGINATION_NUMBER_INVALID');
    assert.equal(error.status, 400);
    return true;
  });
}

describe('parsePagination', () => {
  it('leaves n and last undefined when absent', () => {
    assert.deepEqual(parsePagination({}, 100), { n: undefined, last: undefined });
  });

  it('reads n and last', () => {
    assert.deepEqual(parsePagination({ n: '10', last: 'team/app' }, 100), { n: 10, last: 'team/app' });
    assert.deepEqual(parsePagination({ n: '100' }, 100), { n: 100, last: undefined });
    assert.deepEqual(parsePagination({ n: '007' }, 100), { n: 7, last: undefined });
    assert.deepEqual(parsePagination({ last: 'v1.0' }, 100), { n: undefined, last: 'v1.0' });
  });

  it('takes n=0 as a request for an empty page', () => {
    assert.deepEqual(parsePagination({ n: '0' }, 100), { n: 0, last: undefined });
  });

  it('rejects n that is not a non-negative integer', () => {
    for (const n of ['', '-1', '1.5', '1e3', 'ten', ' 5', '5 ', '+5', '0x10', 'Infinity']) {
      assertPaginationInvalid({ n });
    }
  });

  it('rejects n above the maximum and repeated n', () => {
    assertPaginationInvalid({ n: '101' }, 100);
    assertPaginationInvalid({ n: '9'.repeat(400) }, 100);
    assertPaginationInvalid({ n: ['1', '2'] });
  });

  it('takes the first of repeated last values', () => {
    assert.deepEqual(parsePagination({ last: ['a', 'b'] }, 10), { n: undefined, last: 'a' });
  });
});

describe('nextLink', () => {
  it('writes the Link header of the next page', () => {
    assert.equal(nextLink('/v2/_catalog', 10, 'app'), '</v2/_catalog?n=10&last=app>; rel="next"');
    assert.equal(nextLink('/v2/team/app/tags/list', 2, 'v1.0'), '</v2/team/app/tags/list?n=2&last=v1.0>; rel="next"');
  });

  it('encodes last and extra query values', () => {
    assert.equal(nextLink('/v2/_catalog', 5, 'team/app'), '</v2/_catalog?n=5&last=team%2Fapp>; rel="next"');
    assert.equal(nextLink('/v2/_catalog', 5, 'a&b=c d'), '</v2/_catalog?n=5&last=a%26b%3Dc%20d>; rel="next"');
    assert.equal(
      nextLink('/v2/r/tags/list', 1, 'x', { orderby: 'timedesc', 'a b': '1/2' }),
      '</v2/r/tags/list?n=1&last=x&orderby=timedesc&a%20b=1%2F2>; rel="next"',
    );
  });

  it('round-trips last through URL parsing', () => {
    const last = 'weird tag+/&?#%';
    const link = nextLink('/v2/_catalog', 3, last);
    const url = new URL(link.slice(1, link.indexOf('>')), 'http://localhost');
    assert.equal(url.searchParams.get('last'), last);
    assert.equal(url.searchParams.get('n'), '3');
  });
});
