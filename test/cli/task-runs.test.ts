/** Following a run's log: the line the CLI printed itself is not repeated from the log. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withoutPrefix } from '../../src/cli/task-runs.ts';

async function collect(chunks: string[], prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const chunk of withoutPrefix((async function* () {
    yield* chunks;
  })(), prefix)) out.push(chunk);
  return out;
}

describe('withoutPrefix', () => {
  const queued = 'Queued a run with ID: ca1\n';

  it('drops the prefix however the stream is split', async () => {
    assert.equal((await collect([queued, 'Waiting...\n'], queued)).join(''), 'Waiting...\n');
    assert.equal((await collect(['Queued a ', 'run with ID: ca1\nWait', 'ing...\n'], queued)).join(''), 'Waiting...\n');
  });

  it('passes a stream that does not start with it unchanged, also a short one', async () => {
    assert.deepEqual(await collect(['Step ID: build\n', 'done\n'], queued), ['Step ID: build\n', 'done\n']);
    assert.equal((await collect(['Queued'], queued)).join(''), 'Queued');
    assert.equal((await collect(['Queued a run with ID: ca12\n'], queued)).join(''), 'Queued a run with ID: ca12\n');
  });

  it('with an empty prefix passes everything', async () => {
    assert.deepEqual(await collect(['a', 'b'], ''), ['a', 'b']);
  });
});
