/**
 * `WWW-Authenticate` challenges as registries send them (RFC 7235): one or more
 * `<scheme> <param>="<value>", ...`, e.g. `Bearer realm="https://auth.example/token",
 * service="registry.example",scope="repository:app:pull"`. Pure parsing, no I/O.
 */

export interface Challenge {
  /** Lower-cased: `bearer`, `basic`, ... */
  scheme: string;
  /** Parameter names lower-cased; values unquoted. */
  params: Record<string, string>;
}

const tokenChars = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;

/** Every challenge of one or more header values; malformed parts are skipped, never thrown on. */
export function parseChallenges(header: string | string[] | undefined | null): Challenge[] {
  if (header === undefined || header === null) return [];
  const values = Array.isArray(header) ? header : [header];
  return values.flatMap(parseHeaderValue);
}

function parseHeaderValue(value: string): Challenge[] {
  const challenges: Challenge[] = [];
  const reader = new Reader(value);
  let current: Challenge | undefined;
  while (!reader.done()) {
    reader.skipSeparators();
    if (reader.done()) break;
    const word = reader.token();
    if (word === '') {
      // Not a token character: skip it rather than loop forever on garbage.
      reader.advance();
      continue;
    }
    reader.skipSpaces();
    if (reader.peek() === '=' && current) {
      reader.advance();
      reader.skipSpaces();
      current.params[word.toLowerCase()] = reader.peek() === '"' ? reader.quoted() : reader.token();
    } else {
      current = { scheme: word.toLowerCase(), params: {} };
      challenges.push(current);
    }
  }
  return challenges;
}

class Reader {
  private position = 0;

  constructor(private readonly text: string) {}

  done(): boolean {
    return this.position >= this.text.length;
  }

  peek(): string {
    return this.text[this.position] ?? '';
  }

  advance(): void {
    this.position++;
  }

  skipSpaces(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.position++;
  }

  skipSeparators(): void {
    while (this.peek() === ' ' || this.peek() === '\t' || this.peek() === ',') this.position++;
  }

  token(): string {
    const start = this.position;
    while (!this.done() && tokenChars.test(this.peek())) this.position++;
    return this.text.slice(start, this.position);
  }

  /** A quoted-string with backslash escapes; an unterminated one runs to the end. */
  quoted(): string {
    this.position++;
    let result = '';
    while (!this.done() && this.peek() !== '"') {
      if (this.peek() === '\\') this.position++;
      result += this.peek();
      this.position++;
    }
    this.position++;
    return result;
  }
}
