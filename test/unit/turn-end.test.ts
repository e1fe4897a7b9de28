/**
 * The end of the event loop's turn that small replies wait for: everyone asking during a turn
 * is released together, in that turn's check phase, and the next turn has its own.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { endOfTurn } from '../../src/registry/turn-end.ts';

describe('endOfTurn', () => {
  it('releases every caller of a turn together, after what the turn had queued before them', async () => {
    const order: string[] = [];
    setImmediate(() => order.push('queued before'));
    const first = endOfTurn().then(() => order.push('first'));
    const second = endOfTurn().then(() => order.push('second'));
    assert.equal(endOfTurn(), endOfTurn(), 'one promise per turn');
    await Promise.all([first, second]);
    assert.deepEqual(order, ['queued before', 'first', 'second']);
  });

  it('gives a later turn its own end', async () => {
    const earlier = endOfTurn();
    await earlier;
    const later = endOfTurn();
    assert.notEqual(later, earlier);
    await later;
  });
});
