import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { ParkedWriters } from '../../src/store/parked-writers.ts';

class FakeWriter {
  shuts = 0;
  constructor(readonly name: string) {}
  async shut(): Promise<void> {
    this.shuts += 1;
  }
}

describe('ParkedWriters', () => {
  it('hands a parked writer back once, to whoever asks for its id', () => {
    const parked = new ParkedWriters<FakeWriter>(4, 60_000);
    const writer = new FakeWriter('a');
    assert.equal(parked.park('a', writer), true);
    assert.equal(parked.take('b'), undefined);
    assert.equal(parked.take('a'), writer);
    assert.equal(parked.take('a'), undefined);
    assert.equal(writer.shuts, 0);
  });

  it('shuts the writer a new one of the same id replaces, but not a writer parked twice', () => {
    const parked = new ParkedWriters<FakeWriter>(4, 60_000);
    const first = new FakeWriter('first');
    const second = new FakeWriter('second');
    parked.park('a', first);
    parked.park('a', first);
    assert.equal(first.shuts, 0);
    parked.park('a', second);
    assert.equal(first.shuts, 1);
    assert.equal(parked.take('a'), second);
  });

  it('shuts the oldest writer to stay within its limit', () => {
    const parked = new ParkedWriters<FakeWriter>(2, 60_000);
    const writers = ['a', 'b', 'c'].map((name) => new FakeWriter(name));
    for (const writer of writers) parked.park(writer.name, writer);
    assert.deepEqual(
      writers.map((writer) => writer.shuts),
      [1, 0, 0],
    );
    assert.equal(parked.take('a'), undefined);
    assert.equal(parked.take('c'), writers[2]);
  });

  it('shuts a writer left idle, and keeps none with a limit of 0', async () => {
    const parked = new ParkedWriters<FakeWriter>(2, 20);
    const idle = new FakeWriter('idle');
    parked.park('idle', idle);
    const deadline = Date.now() + 2000;
    while (idle.shuts === 0 && Date.now() < deadline) await sleep(10);
    assert.equal(idle.shuts, 1);
    assert.equal(parked.take('idle'), undefined);
    assert.equal(new ParkedWriters<FakeWriter>(0, 20).park('x', new FakeWriter('x')), false);
  });
});
