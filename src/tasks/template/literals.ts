/**
 * Go's literal syntax inside actions: numbers, interpreted ("...") and raw (`...`) strings, and
 * character constants ('a'). Errors are plain SyntaxErrors; the parser adds the location.
 */

const HEX = /^[0-9a-fA-F]+$/;

/** A Go integer or floating-point literal, or undefined when the text is not one. */
export function parseNumber(text: string): number | undefined {
  let body = text.replaceAll('_', '');
  let sign = 1;
  if (body.startsWith('+') || body.startsWith('-')) {
    if (body.startsWith('-')) sign = -1;
    body = body.slice(1);
  }
  let value: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(body)) value = parseInt(body.slice(2), 16);
  else if (/^0[bB][01]+$/.test(body)) value = parseInt(body.slice(2), 2);
  else if (/^0[oO]?[0-7]+$/.test(body)) value = parseInt(body.replace(/^0[oO]?/, ''), 8);
  else if (/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(body)) value = Number(body);
  else return undefined;
  return sign * value;
}

/** A double-quoted Go string literal, quotes included, decoded. */
export function unquoteString(literal: string): string {
  const bytes: number[] = [];
  const body = literal.slice(1, -1);
  for (let i = 0; i < body.length; ) {
    const unit = readUnit(body, i, '"');
    if (unit.isByte) bytes.push(unit.value);
    else pushUtf8(bytes, unit.value);
    i = unit.next;
  }
  return Buffer.from(bytes).toString('utf8');
}

/** A Go character constant ('a', '\n', '\x41'), quotes included: its code point. */
export function unquoteChar(literal: string): number {
  const body = literal.slice(1, -1);
  if (body === '') throw new SyntaxError('empty character constant');
  const unit = readUnit(body, 0, "'");
  if (unit.next !== body.length) throw new SyntaxError(`more than one character in ${literal}`);
  return unit.value;
}

/** A raw string literal: the text between the backquotes, carriage returns dropped (as Go does). */
export function unquoteRaw(literal: string): string {
  return literal.slice(1, -1).replaceAll('\r', '');
}

interface Unit {
  value: number;
  /** A \x or octal escape: one byte rather than a code point. */
  isByte: boolean;
  next: number;
}

const SIMPLE_ESCAPES: Record<string, number> = {
  a: 7,
  b: 8,
  f: 12,
  n: 10,
  r: 13,
  t: 9,
  v: 11,
  '\\': 92,
};

function readUnit(body: string, i: number, quote: '"' | "'"): Unit {
  const codePoint = body.codePointAt(i)!;
  if (codePoint !== 0x5c) return { value: codePoint, isByte: false, next: i + (codePoint > 0xffff ? 2 : 1) };
  const escape = body[i + 1] ?? '';
  const simple = SIMPLE_ESCAPES[escape];
  if (simple !== undefined) return { value: simple, isByte: false, next: i + 2 };
  if (escape === quote) return { value: quote.charCodeAt(0), isByte: false, next: i + 2 };
  const hex = (digits: number): number => {
    const text = body.slice(i + 2, i + 2 + digits);
    if (text.length !== digits || !HEX.test(text)) throw new SyntaxError(`invalid escape sequence \\${escape}${text}`);
    return parseInt(text, 16);
  };
  switch (escape) {
    case 'x':
      return { value: hex(2), isByte: true, next: i + 4 };
    case 'u':
    case 'U': {
      const digits = escape === 'u' ? 4 : 8;
      const value = hex(digits);
      if (value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) {
        throw new SyntaxError(`invalid code point in escape \\${escape}${body.slice(i + 2, i + 2 + digits)}`);
      }
      return { value, isByte: false, next: i + 2 + digits };
    }
  }
  const octal = body.slice(i + 1, i + 4);
  if (/^[0-7]{3}$/.test(octal) && parseInt(octal, 8) <= 255) {
    return { value: parseInt(octal, 8), isByte: true, next: i + 4 };
  }
  throw new SyntaxError(`invalid escape sequence \\${escape}`);
}

function pushUtf8(bytes: number[], codePoint: number): void {
  bytes.push(...Buffer.from(String.fromCodePoint(codePoint), 'utf8'));
}
