/**
 * The Sprig functions task files use, with Sprig's argument order (the subject last, so
 * `{{ .x | replace "a" "b" }}` works). Where Sprig silently returns an error text
 * (`b64dec`) or Go would panic (`substr` out of range), these report an error instead.
 */
import { formatValue, quoteGo } from './printf.ts';
import { callable, FunctionError, type TemplateFunction } from './signature.ts';
import { isMap, isTrue, sortedKeys } from './values.ts';

const GO_SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000';
const LEADING_SPACE = new RegExp(`^[${GO_SPACE}]+`);
const TRAILING_SPACE = new RegExp(`[${GO_SPACE}]+$`);
const ANY_SPACE = new RegExp(`[${GO_SPACE}]`, 'g');

/** Sprig's strval: strings as they are, anything else as %v prints it. */
function strval(value: unknown): string {
  return typeof value === 'string' ? value : formatValue(value);
}

/** Sprig's strslice: the elements of a list as strings (nils dropped), or the value alone. */
function strslice(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((element) => element !== null).map(strval);
  return value === null ? [] : [strval(value)];
}

/** strings.Split: an empty separator splits after each character. */
function split(text: string, separator: string): string[] {
  return separator === '' ? Array.from(text) : text.split(separator);
}

/** strings.Trim: drops leading and trailing characters found in the cut set. */
function trimAll(cutset: string, text: string): string {
  const cut = new Set(cutset);
  const chars = Array.from(text);
  let start = 0;
  let end = chars.length;
  while (start < end && cut.has(chars[start]!)) start++;
  while (end > start && cut.has(chars[end - 1]!)) end--;
  return chars.slice(start, end).join('');
}

/** strings.Title: upper-cases the first letter of each word. */
function title(text: string): string {
  let previous = ' ';
  let out = '';
  for (const char of text) {
    out += isSeparator(previous) ? char.toUpperCase() : char;
    previous = char;
  }
  return out;
}

function isSeparator(char: string): boolean {
  if (/^[A-Za-z0-9_]$/.test(char)) return false;
  if (char.codePointAt(0)! <= 0x7f) return true;
  if (/^[\p{L}\p{Nd}]$/u.test(char)) return false;
  return new RegExp(`^[${GO_SPACE}]$`).test(char);
}

/** Go's s[start:end] on the UTF-8 bytes of a string. */
function sliceBytes(text: string, start: number, end?: number): string {
  const bytes = Buffer.from(text, 'utf8');
  const stop = end ?? bytes.length;
  if (start < 0 || stop < start || stop > bytes.length) {
    throw new FunctionError(`slice bounds out of range [${start}:${stop}] with length ${bytes.length}`);
  }
  return bytes.subarray(start, stop).toString('utf8');
}

function substr(start: number, end: number, text: string): string {
  if (start < 0) return sliceBytes(text, 0, end);
  if (end < 0 || end > Buffer.byteLength(text, 'utf8')) return sliceBytes(text, start);
  return sliceBytes(text, start, end);
}

function trunc(count: number, text: string): string {
  const length = Buffer.byteLength(text, 'utf8');
  if (count < 0 && length + count > 0) return sliceBytes(text, length + count);
  if (count >= 0 && length > count) return sliceBytes(text, 0, count);
  return text;
}

function repeat(count: number, text: string): string {
  if (count < 0) throw new FunctionError('negative repeat count');
  return text.repeat(count);
}

function indent(spaces: number, text: string): string {
  const pad = repeat(spaces, ' ');
  return pad + text.replaceAll('\n', `\n${pad}`);
}

/** json.Marshal: map keys sorted, and <, >, & escaped as Go escapes them. */
function toJson(value: unknown): string {
  return JSON.stringify(sortMaps(value)).replace(
    /[<>&\u2028\u2029]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function sortMaps(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortMaps);
  if (isMap(value)) return Object.fromEntries(sortedKeys(value).map((key) => [key, sortMaps(value[key])]));
  return value;
}

/** base64.StdEncoding: padding required, line breaks ignored. */
function base64Decode(text: string): string {
  const compact = text.replace(/[\r\n]/g, '');
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(compact)) {
    throw new FunctionError('illegal base64 data');
  }
  return Buffer.from(compact, 'base64').toString('utf8');
}

const string1 = (fn: (text: string) => unknown) => callable(['string'], ([text]) => fn(text as string));
const string2 = (fn: (a: string, b: string) => unknown) =>
  callable(['string', 'string'], ([a, b]) => fn(a as string, b as string));
const intString = (fn: (count: number, text: string) => unknown) =>
  callable(['int', 'string'], ([count, text]) => fn(count as number, text as string));

export const SPRIG: Record<string, TemplateFunction> = {
  default: callable(['any'], ([fallback, ...given]) => (isTrue(given[0]) ? given[0] : fallback), {
    variadic: 'any',
    lenient: true,
  }),
  empty: callable(['any'], ([value]) => !isTrue(value), { lenient: true }),
  coalesce: callable([], (values) => values.find(isTrue) ?? null, { variadic: 'any', lenient: true }),
  ternary: callable(['any', 'any', 'bool'], ([ifTrue, ifFalse, condition]) => (condition ? ifTrue : ifFalse)),
  quote: callable([], (values) => values.filter((v) => v !== null).map((v) => quoteGo(strval(v))).join(' '), {
    variadic: 'any',
  }),
  squote: callable([], (values) => values.filter((v) => v !== null).map((v) => `'${strval(v)}'`).join(' '), {
    variadic: 'any',
  }),
  cat: callable([], (values) => values.filter((v) => v !== null).map(formatValue).join(' '), { variadic: 'any' }),
  lower: string1((text) => text.toLowerCase()),
  upper: string1((text) => text.toUpperCase()),
  title: string1(title),
  trim: string1((text) => text.replace(LEADING_SPACE, '').replace(TRAILING_SPACE, '')),
  nospace: string1((text) => text.replace(ANY_SPACE, '')),
  b64enc: string1((text) => Buffer.from(text, 'utf8').toString('base64')),
  b64dec: string1(base64Decode),
  trimAll: string2(trimAll),
  trimPrefix: string2((prefix, text) => (text.startsWith(prefix) ? text.slice(prefix.length) : text)),
  trimSuffix: string2((suffix, text) => (text.endsWith(suffix) ? text.slice(0, text.length - suffix.length) : text)),
  contains: string2((part, text) => text.includes(part)),
  hasPrefix: string2((prefix, text) => text.startsWith(prefix)),
  hasSuffix: string2((suffix, text) => text.endsWith(suffix)),
  splitList: string2((separator, text) => split(text, separator)),
  split: string2((separator, text) => Object.fromEntries(split(text, separator).map((part, i) => [`_${i}`, part]))),
  replace: callable(['string', 'string', 'string'], ([old, replacement, text]) =>
    (text as string).replaceAll(old as string, replacement as string),
  ),
  join: callable(['string', 'any'], ([separator, list]) => strslice(list).join(separator as string)),
  toString: callable(['any'], ([value]) => strval(value)),
  toJson: callable(['any'], ([value]) => toJson(value)),
  repeat: intString(repeat),
  trunc: intString(trunc),
  indent: intString(indent),
  nindent: intString((spaces, text) => `\n${indent(spaces, text)}`),
  substr: callable(['int', 'int', 'string'], ([start, end, text]) =>
    substr(start as number, end as number, text as string),
  ),
};
