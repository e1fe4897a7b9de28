/** Freeing a written chunk's memory at once (`freeChunk`), which uploads of request bodies use. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freeChunk } from '../src/store/free-chunk.ts';

describe('freeChunk', () => {
  it('runs where ArrayBuffer.prototype.transfer exists, as under the berth script (npm test passes --harmony too)', () => {
    assert.equal(typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer, 'function');
  });

  it('frees a chunk that is the whole of its buffer: its length becomes 0', () => {
    const chunk = Buffer.allocUnsafeSlow(64 * 1024).fill(1);
    const buffer = chunk.buffer;
    freeChunk(chunk);
    assert.equal(chunk.length, 0);
    assert.equal(buffer.byteLength, 0);
  });

  it('leaves alone a chunk that is part of a larger buffer, and that buffer', () => {
    const whole = Buffer.alloc(100, 7);
    const part = whole.subarray(10, 20);
    freeChunk(part);
    assert.equal(part.length, 10);
    assert.deepEqual(whole, Buffer.alloc(100, 7));
    const pooled = Buffer.from('a small buffer shares its memory with others');
    freeChunk(pooled);
    assert.equal(pooled.toString(), 'a small buffer shares its memory with others');
  });
});
