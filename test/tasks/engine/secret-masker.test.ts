import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SecretMasker } from '../../../src/tasks/engine/secret-masker.ts';

function streamed(masker: SecretMasker, chunks: string[]): { out: string; releases: string[] } {
  const stream = masker.stream();
  const releases = chunks.map((chunk) => stream.write(chunk));
  releases.push(stream.end());
  return { out: releases.join(''), releases };
}

describe('secret masker', () => {
  it('masks whole values, longest first', () => {
    const masker = new SecretMasker(['abc', 'xabcx']);
    assert.equal(masker.mask('1 xabcx 2 abc'), '1 ***** 2 *****');
  });

  it('masks a secret split over any two chunks', () => {
    const secret = 'p4ssw0rd!';
    const text = `before ${secret} after\n`;
    for (let cut = 0; cut <= text.length; cut++) {
      const { out } = streamed(new SecretMasker([secret]), [text.slice(0, cut), text.slice(cut)]);
      assert.equal(out, 'before ***** after\n', `cut at ${cut}`);
    }
  });

  it('masks a secret written one character at a time', () => {
    const { out } = streamed(new SecretMasker(['s3cr3t']), [...'x s3cr3t y']);
    assert.equal(out, 'x ***** y');
  });

  it('releases text as soon as it cannot be part of a secret', () => {
    const { releases } = streamed(new SecretMasker(['secret']), ['hello se', 'cond line\n']);
    assert.equal(releases[0], 'hello ');
    assert.equal(releases[1], 'second line\n');
  });

  it('keeps an occurrence whole when another secret starts inside it', () => {
    const { out } = streamed(new SecretMasker(['ABC', 'BCDE']), ['xABCD', 'y']);
    assert.doesNotMatch(out, /ABC/);
  });
});
