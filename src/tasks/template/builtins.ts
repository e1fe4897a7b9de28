/** Go text/template's predefined functions (`js` and `slice` are not provided). */
import { callable, FunctionError, type TemplateFunction } from './signature.ts';
import { quoteGo, sprint, sprintf, sprintln } from './printf.ts';
import { goTypeName, isMap, isTrue, Missing } from './values.ts';

type Kind = 'bool' | 'number' | 'string' | 'nil' | 'other';

function kindOf(value: unknown): Kind {
  if (value === null || value === undefined) return 'nil';
  switch (typeof value) {
    case 'boolean':
      return 'bool';
    case 'number':
      return 'number';
    case 'string':
      return 'string';
    default:
      return 'other';
  }
}

/** `eq a b c` is a == b || a == c; nil equals only nil; other mixed kinds are an error. */
function eq(first: unknown, ...others: unknown[]): boolean {
  if (others.length === 0) throw new FunctionError('missing argument for comparison');
  const firstKind = kindOf(first);
  for (const other of others) {
    const otherKind = kindOf(other);
    if (firstKind !== otherKind) {
      if (firstKind !== 'nil' && otherKind !== 'nil') throw new FunctionError('incompatible types for comparison');
      continue;
    }
    if (firstKind === 'other') throw new FunctionError(`non-comparable type ${goTypeName(first)}`);
    if (firstKind === 'nil' || first === other) return true;
  }
  return false;
}

function lt(a: unknown, b: unknown): boolean {
  const kindA = kindOf(a);
  const kindB = kindOf(b);
  if (kindA === 'nil' || kindA === 'other' || kindB === 'nil' || kindB === 'other') {
    throw new FunctionError('invalid type for comparison');
  }
  if (kindA !== kindB) throw new FunctionError('incompatible types for comparison');
  if (kindA === 'bool') throw new FunctionError('invalid type for comparison');
  return (a as string | number) < (b as string | number);
}

const le = (a: unknown, b: unknown): boolean => lt(a, b) || eq(a, b);

function length(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (Array.isArray(value)) return value.length;
  if (isMap(value)) return Object.keys(value).length;
  if (value === null) throw new FunctionError('len of nil');
  throw new FunctionError(`len of type ${goTypeName(value)}`);
}

/** `index m "k" 0`; a key missing from a map is a missing value, like a missing field. */
function index(item: unknown, ...keys: unknown[]): unknown {
  let value = item;
  for (const key of keys) {
    if (value === null) throw new FunctionError('index of untyped nil');
    if (Array.isArray(value) || typeof value === 'string') {
      if (typeof key !== 'number' || !Number.isInteger(key)) {
        throw new FunctionError(`cannot index slice/array with type ${goTypeName(key)}`);
      }
      if (key < 0 || key >= value.length) throw new FunctionError(`index out of range: ${key}`);
      value = typeof value === 'string' ? Buffer.from(value, 'utf8')[key] : (value[key] ?? null);
    } else if (isMap(value)) {
      if (typeof key !== 'string') throw new FunctionError(`value has type ${goTypeName(key)}; should be string`);
      const entry = Object.hasOwn(value, key) ? value[key] : undefined;
      if (entry === undefined || entry === null) return new Missing(`map has no entry for key ${quoteGo(key)}`, undefined);
      value = entry;
    } else {
      throw new FunctionError(`can't index item of type ${goTypeName(value)}`);
    }
  }
  return value;
}

/** Go's `html`, `urlquery`: one string argument as is, several formatted as by print. */
function joined(args: unknown[]): string {
  return args.length === 1 && typeof args[0] === 'string' ? args[0] : sprint(args);
}

const HTML_ESCAPES: Record<string, string> = {
  '"': '&#34;',
  "'": '&#39;',
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '\0': '\uFFFD',
};

/** url.QueryEscape. */
function queryEscape(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((byte) => {
      const char = String.fromCharCode(byte);
      if (/[A-Za-z0-9\-_.~]/.test(char)) return char;
      if (char === ' ') return '+';
      return `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

export const BUILTINS: Record<string, TemplateFunction> = {
  and: { kind: 'shortCircuit', stopWhen: false },
  or: { kind: 'shortCircuit', stopWhen: true },
  not: callable(['any'], ([value]) => !isTrue(value), { lenient: true }),
  eq: callable(['any'], ([first, ...others]) => eq(first, ...others), { variadic: 'any' }),
  ne: callable(['any', 'any'], ([a, b]) => !eq(a, b)),
  lt: callable(['any', 'any'], ([a, b]) => lt(a, b)),
  le: callable(['any', 'any'], ([a, b]) => le(a, b)),
  gt: callable(['any', 'any'], ([a, b]) => !le(a, b)),
  ge: callable(['any', 'any'], ([a, b]) => !lt(a, b)),
  len: callable(['any'], ([value]) => length(value)),
  index: callable(['any'], ([item, ...keys]) => index(item, ...keys), { variadic: 'any' }),
  print: callable([], (args) => sprint(args), { variadic: 'any' }),
  println: callable([], (args) => sprintln(args), { variadic: 'any' }),
  printf: callable(['string'], ([template, ...args]) => sprintf(template as string, args), { variadic: 'any' }),
  html: callable([], (args) => joined(args).replace(/["'&<>\0]/g, (char) => HTML_ESCAPES[char]!), { variadic: 'any' }),
  urlquery: callable([], (args) => queryEscape(joined(args)), { variadic: 'any' }),
};
