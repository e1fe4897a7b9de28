import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManifestContentCache } from '../../src/services/manifest-content-cache.ts';

const bytes = (n: number, fill = 1) => Buffer.alloc(n, fill);

describe('ManifestContentCache', () => {
  it('answers the bytes stored for a digest, and nothing for others', () => {
    const cache = new ManifestContentCache(1000);
    const content = bytes(10);
    cache.set('sha256:a', content);
    assert.equal(cache.get('sha256:a'), content);
    assert.equal(cache.get('sha256:b'), undefined);
    assert.equal(cache.bytes, 10);
  });

  it('keeps its total under the bound, dropping first the oldest not read since it was stored', () => {
    const cache = new ManifestContentCache(300, 100);
    cache.set('a', bytes(100));
    cache.set('b', bytes(100));
    cache.set('c', bytes(100));
    assert.ok(cache.get('a'), 'a was read, so it gets a second chance');
    cache.set('d', bytes(100));
    assert.equal(cache.get('b'), undefined, 'b was the oldest not read');
    assert.ok(cache.get('a'));
    assert.ok(cache.get('c'));
    assert.ok(cache.get('d'));
    assert.equal(cache.bytes, 300);
  });

  it('moves an entry read since it was stored to the back once, and drops it when it comes round unread', () => {
    const cache = new ManifestContentCache(300, 100);
    cache.set('a', bytes(100));
    cache.set('b', bytes(100));
    cache.set('c', bytes(100));
    cache.get('a');
    for (const digest of ['d', 'e', 'f', 'g']) cache.set(digest, bytes(100));
    for (const dropped of ['a', 'b', 'c', 'd']) assert.equal(cache.get(dropped), undefined, dropped);
    for (const kept of ['e', 'f', 'g']) assert.ok(cache.get(kept), kept);
    assert.equal(cache.bytes, 300);
  });

  it('does not keep manifests larger than its entry bound', () => {
    const cache = new ManifestContentCache(1600);
    cache.set('small', bytes(100));
    cache.set('large', bytes(101));
    assert.ok(cache.get('small'));
    assert.equal(cache.get('large'), undefined);
    assert.equal(cache.bytes, 100);
  });

  it('counts a digest stored twice once', () => {
    const cache = new ManifestContentCache(1000);
    cache.set('a', bytes(50));
    cache.set('a', bytes(50));
    assert.equal(cache.bytes, 50);
  });

  it('stays bounded under many distinct manifests', () => {
    const cache = new ManifestContentCache(10_000);
    for (let i = 0; i < 5000; i++) cache.set(`sha256:${i}`, bytes(1 + (i % 600)));
    assert.ok(cache.bytes <= 10_000, String(cache.bytes));
    assert.ok(cache.get('sha256:4999'));
  });
});
