import { parse } from 'shell-quote';

/** Stands in for `#` while shell-quote splits: it would end a word at a `#` (`repo.git#main`) as a comment. */
const HASH_STAND_IN = '\u{E000}';

/**
 * Splits a command line into words as a POSIX shell would, without expanding anything:
 * `$VAR` stays literal (the line runs in a container, not in Berth's shell), operators and
 * globs are kept as plain words, and `#` is an ordinary character (YAML has already removed
 * comments; git contexts use `#branch`).
 */
export function splitShellWords(line: string): string[] {
  const words: string[] = [];
  for (const entry of parse(line.replaceAll('#', HASH_STAND_IN), (name) => `$${name}`)) {
    if (typeof entry === 'string') words.push(entry);
    else if ('op' in entry) words.push(entry.op === 'glob' ? entry.pattern : entry.op);
  }
  return words.map((word) => word.replaceAll(HASH_STAND_IN, '#'));
}

/** A `build:` or `cmd:` line that cannot be turned into a step. */
export class CommandLineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandLineError';
  }
}
