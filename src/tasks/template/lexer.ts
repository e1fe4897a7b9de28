/**
 * Splits a template into text and the tokens of its actions, as Go's text/template lexer does:
 * `{{- ` trims the white space before an action, ` -}}` the white space after it, and
 * comments (`/*` ... `*` `/` right inside the delimiters) vanish, with the same trim markers.
 */
import type { TemplateSource } from './errors.ts';

export type TokenType =
  | 'text'
  | 'leftDelim'
  | 'rightDelim'
  | 'pipe'
  | 'leftParen'
  | 'rightParen'
  | 'declare'
  | 'assign'
  | 'comma'
  | 'string'
  | 'rawString'
  | 'char'
  | 'number'
  | 'bool'
  | 'nil'
  | 'dot'
  | 'field'
  | 'variable'
  | 'identifier'
  | 'keyword'
  | 'eof';

export interface Token {
  type: TokenType;
  /** The token's source text; for text tokens, the text after trimming. */
  value: string;
  pos: number;
  end: number;
  /** White space separates this token from the previous one (operands need it). */
  spaceBefore: boolean;
}

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'break', 'continue', 'define', 'template', 'block']);
const DECIMAL = '0123456789_';
const ALPHANUMERIC = /^[\p{L}\p{Nd}_]$/u;

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isAlphanumeric = (c: string | undefined): boolean => c !== undefined && ALPHANUMERIC.test(c);
const isIn = (set: string, c: string | undefined): boolean => c !== undefined && c !== '' && set.includes(c);

/** `U+0023 '#'`, as Go's %#U prints a rune. */
function describeRune(c: string): string {
  const hex = c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
  return `U+${hex} '${c}'`;
}

export function lex(source: TemplateSource): Token[] {
  return new Lexer(source).run();
}

class Lexer {
  private readonly text: string;
  private readonly tokens: Token[] = [];
  private pos = 0;
  private spaceBefore = false;

  constructor(private readonly source: TemplateSource) {
    this.text = source.text;
  }

  run(): Token[] {
    let trimLeading = false;
    while (this.pos < this.text.length) {
      const open = this.text.indexOf('{{', this.pos);
      const textEnd = open === -1 ? this.text.length : open;
      const trimTrailing = open !== -1 && this.text[open + 2] === '-' && isSpace(this.text[open + 3]);
      let chunk = this.text.slice(this.pos, textEnd);
      if (trimLeading) chunk = chunk.replace(/^[ \t\r\n]+/, '');
      if (trimTrailing) chunk = chunk.replace(/[ \t\r\n]+$/, '');
      if (chunk !== '') this.add('text', this.pos, textEnd, chunk);
      if (open === -1) break;
      trimLeading = this.action(open, trimTrailing);
    }
    this.pos = this.text.length;
    this.add('eof', this.pos, this.pos, '');
    return this.tokens;
  }

  /** Lexes the action opened at `open`; returns whether it ends with a right trim marker. */
  private action(open: number, trimLeft: boolean): boolean {
    const inside = open + 2 + (trimLeft ? 2 : 0);
    if (this.text.startsWith('/*', inside)) return this.comment(open, inside);
    this.add('leftDelim', open, inside);
    let parenDepth = 0;
    for (;;) {
      const trimRight = this.atTrimmedRightDelim(this.pos);
      if (trimRight || this.text.startsWith('}}', this.pos)) {
        if (parenDepth > 0) throw this.source.error(this.pos, 'unclosed left paren');
        this.add('rightDelim', this.pos, this.pos + (trimRight ? 4 : 2));
        return trimRight;
      }
      const start = this.pos;
      const c = this.text[start];
      if (c === undefined) throw this.source.error(open, 'unclosed action');
      if (isSpace(c)) {
        this.pos++;
        this.spaceBefore = true;
        continue;
      }
      switch (c) {
        case '|':
          this.add('pipe', start, start + 1);
          break;
        case '(':
          parenDepth++;
          this.add('leftParen', start, start + 1);
          break;
        case ')':
          if (--parenDepth < 0) throw this.source.error(start, 'unexpected right paren');
          this.add('rightParen', start, start + 1);
          break;
        case ',':
          this.add('comma', start, start + 1);
          break;
        case ':':
          if (this.text[start + 1] !== '=') throw this.source.error(start, 'expected :=');
          this.add('declare', start, start + 2);
          break;
        case '=':
          this.add('assign', start, start + 1);
          break;
        case '"':
          this.quoted(start, '"', 'string', 'unterminated quoted string');
          break;
        case "'":
          this.quoted(start, "'", 'char', 'unterminated character constant');
          break;
        case '`': {
          const close = this.text.indexOf('`', start + 1);
          if (close === -1) throw this.source.error(start, 'unterminated raw quoted string');
          this.add('rawString', start, close + 1);
          break;
        }
        case '$':
          this.word(start, start + 1, 'variable');
          break;
        case '.':
          if (isIn('0123456789', this.text[start + 1])) this.number(start);
          else if (isAlphanumeric(this.text[start + 1])) this.word(start, start + 1, 'field');
          else this.add('dot', start, start + 1);
          break;
        default:
          if (c === '+' || c === '-' || isIn('0123456789', c)) this.number(start);
          else if (isAlphanumeric(c)) this.word(start, start, 'identifier');
          else throw this.source.error(start, `unrecognized character in action: ${describeRune(c)}`);
      }
    }
  }

  private comment(open: number, inside: number): boolean {
    const close = this.text.indexOf('*/', inside + 2);
    if (close === -1) throw this.source.error(open, 'unclosed comment');
    const after = close + 2;
    const trimRight = this.atTrimmedRightDelim(after);
    if (!trimRight && !this.text.startsWith('}}', after)) {
      throw this.source.error(open, 'comment ends before closing delimiter');
    }
    this.pos = after + (trimRight ? 4 : 2);
    return trimRight;
  }

  private atTrimmedRightDelim(at: number): boolean {
    return isSpace(this.text[at]) && this.text[at + 1] === '-' && this.text.startsWith('}}', at + 2);
  }

  private quoted(start: number, quote: string, type: TokenType, unterminated: string): void {
    let p = start + 1;
    for (;;) {
      const c = this.text[p];
      if (c === undefined || c === '\n') throw this.source.error(start, unterminated);
      if (c === '\\') {
        const escaped = this.text[p + 1];
        if (escaped === undefined || escaped === '\n') throw this.source.error(start, unterminated);
        p += 2;
        continue;
      }
      p++;
      if (c === quote) break;
    }
    this.add(type, start, p);
  }

  /** Identifiers, keywords, `true`/`false`/`nil`, `.Field` and `$variable`. */
  private word(start: number, from: number, type: 'identifier' | 'field' | 'variable'): void {
    let p = from;
    while (isAlphanumeric(this.text[p])) p++;
    this.checkTerminator(p);
    const value = this.text.slice(start, p);
    if (type !== 'identifier') this.add(type, start, p);
    else if (value === 'true' || value === 'false') this.add('bool', start, p);
    else if (value === 'nil') this.add('nil', start, p);
    else this.add(KEYWORDS.has(value) ? 'keyword' : 'identifier', start, p);
  }

  /** Go's number scanning; the parser decides whether the text is a valid number. */
  private number(start: number): void {
    let p = start;
    if (this.text[p] === '+' || this.text[p] === '-') p++;
    let digits = DECIMAL;
    const prefix = this.text[p + 1];
    if (this.text[p] === '0' && isIn('xXoObB', prefix)) {
      digits = isIn('xX', prefix) ? '0123456789abcdefABCDEF_' : isIn('oO', prefix) ? '01234567_' : '01_';
      p += 2;
    }
    while (isIn(digits, this.text[p])) p++;
    if (this.text[p] === '.') {
      p++;
      while (isIn(digits, this.text[p])) p++;
    }
    if (digits === DECIMAL && isIn('eE', this.text[p])) {
      p++;
      if (isIn('+-', this.text[p])) p++;
      while (isIn(DECIMAL, this.text[p])) p++;
    }
    if (isAlphanumeric(this.text[p])) {
      throw this.source.error(start, `bad number syntax: "${this.text.slice(start, p + 1)}"`);
    }
    this.add('number', start, p);
  }

  /** After a word, Go requires a character that can end it. */
  private checkTerminator(at: number): void {
    const c = this.text[at];
    if (c === undefined || isSpace(c) || isIn('.,|:()', c) || this.text.startsWith('}}', at)) return;
    throw this.source.error(at, `bad character ${describeRune(c)}`);
  }

  private add(type: TokenType, pos: number, end: number, value = this.text.slice(pos, end)): void {
    this.tokens.push({ type, value, pos, end, spaceBefore: this.spaceBefore });
    this.spaceBefore = false;
    this.pos = end;
  }
}
