/**
 * Go's fmt for template values: %v printing (Sprint, Sprintln) and Sprintf with the verbs
 * %v %s %d %q %x %X %o %b %c %f %F %e %E %g %G %t %%, the flags `-+ 0#`, width and precision.
 * Mistakes are written into the output as Go writes them (`%!d(string=x)`, `%!s(MISSING)`).
 * Deviation: since JavaScript has one number type, the float verbs also accept integral numbers.
 */
import { goTypeName, isMap, sortedKeys } from './values.ts';

interface Spec {
  minus: boolean;
  plus: boolean;
  space: boolean;
  zero: boolean;
  sharp: boolean;
  width: number | undefined;
  precision: number | undefined;
}

const PLAIN: Spec = {
  minus: false,
  plus: false,
  space: false,
  zero: false,
  sharp: false,
  width: undefined,
  precision: undefined,
};

/** `%v`. */
export function formatValue(value: unknown): string {
  return format(value, 'v', PLAIN);
}

/** fmt.Sprint: spaces between operands when neither side is a string. */
export function sprint(args: unknown[]): string {
  let out = '';
  args.forEach((arg, i) => {
    if (i > 0 && typeof arg !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += formatValue(arg);
  });
  return out;
}

/** fmt.Sprintln: spaces between all operands and a final newline. */
export function sprintln(args: unknown[]): string {
  return `${args.map(formatValue).join(' ')}\n`;
}

export function sprintf(template: string, args: unknown[]): string {
  let out = '';
  let argIndex = 0;
  let i = 0;
  while (i < template.length) {
    const percent = template.indexOf('%', i);
    if (percent === -1) {
      out += template.slice(i);
      break;
    }
    out += template.slice(i, percent);
    i = percent + 1;
    const spec: Spec = { ...PLAIN };
    for (; i < template.length; i++) {
      const flag = template[i];
      if (flag === '-') spec.minus = true;
      else if (flag === '+') spec.plus = true;
      else if (flag === ' ') spec.space = true;
      else if (flag === '0') spec.zero = true;
      else if (flag === '#') spec.sharp = true;
      else break;
    }
    const width = /^\d+/.exec(template.slice(i))?.[0];
    if (width !== undefined) {
      spec.width = Number(width);
      i += width.length;
    }
    if (template[i] === '.') {
      const precision = /^\d*/.exec(template.slice(i + 1))![0];
      spec.precision = Number(precision || '0');
      i += 1 + precision.length;
    }
    if (i >= template.length) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(template.codePointAt(i)!);
    i += verb.length;
    if (verb === '%') out += '%';
    else if (argIndex >= args.length) out += `%!${verb}(MISSING)`;
    else out += format(args[argIndex++], verb, spec);
  }
  if (argIndex < args.length) {
    const extra = args.slice(argIndex).map((arg) => (arg === null ? '<nil>' : `${goTypeName(arg)}=${formatValue(arg)}`));
    out += `%!(EXTRA ${extra.join(', ')})`;
  }
  return out;
}

/** strconv.Quote (or QuoteRune with `'`): Go's escaped, quoted form of a string. */
export function quoteGo(text: string, quote: '"' | "'" = '"'): string {
  let out = quote;
  for (const char of text) {
    const codePoint = char.codePointAt(0)!;
    if (char === quote || char === '\\') out += `\\${char}`;
    else if (char === ' ' || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(char)) out += char;
    else if (CONTROL_ESCAPES[char] !== undefined) out += CONTROL_ESCAPES[char];
    else if (codePoint < 0x20 || codePoint === 0x7f) out += `\\x${hex(codePoint, 2)}`;
    else if (codePoint >= 0xd800 && codePoint <= 0xdfff) out += '\\ufffd';
    else if (codePoint < 0x10000) out += `\\u${hex(codePoint, 4)}`;
    else out += `\\U${hex(codePoint, 8)}`;
  }
  return out + quote;
}

const CONTROL_ESCAPES: Record<string, string> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
};

function hex(value: number, digits: number): string {
  return value.toString(16).padStart(digits, '0');
}

function format(value: unknown, verb: string, spec: Spec): string {
  if (Array.isArray(value)) return `[${value.map((element) => format(element, verb, spec)).join(' ')}]`;
  if (isMap(value)) {
    const entries = sortedKeys(value).map((key) => `${format(key, verb, spec)}:${format(value[key], verb, spec)}`);
    return `map[${entries.join(' ')}]`;
  }
  if (value === null || value === undefined) return verb === 'v' ? pad('<nil>', spec) : `%!${verb}(<nil>)`;
  if (typeof value === 'string') return formatString(value, verb, spec);
  if (typeof value === 'boolean') return verb === 'v' || verb === 't' ? pad(String(value), spec) : badVerb(value, verb);
  if (typeof value === 'number') return formatNumber(value, verb, spec);
  return pad(String(value), spec);
}

function badVerb(value: unknown, verb: string): string {
  return `%!${verb}(${goTypeName(value)}=${formatValue(value)})`;
}

/** Pads to the width, counting characters as Go counts runes. */
function pad(text: string, spec: Spec, zeroPrefix = ''): string {
  const length = [...text].length;
  if (spec.width === undefined || length >= spec.width) return text;
  const fill = spec.width - length;
  if (spec.minus) return text + ' '.repeat(fill);
  if (spec.zero) return zeroPrefix + '0'.repeat(fill) + text.slice(zeroPrefix.length);
  return ' '.repeat(fill) + text;
}

function formatString(value: string, verb: string, spec: Spec): string {
  const text = spec.precision === undefined ? value : [...value].slice(0, spec.precision).join('');
  switch (verb) {
    case 'v':
    case 's':
      return pad(text, spec);
    case 'q':
      return pad(quoteGo(text), spec);
    case 'x':
    case 'X': {
      const digits = Buffer.from(text, 'utf8').toString('hex');
      return pad((spec.sharp ? '0x' : '') + (verb === 'X' ? digits.toUpperCase() : digits), spec);
    }
    default:
      return badVerb(value, verb);
  }
}

function formatNumber(value: number, verb: string, spec: Spec): string {
  const integral = Number.isInteger(value);
  if ('eEfFgG'.includes(verb) || (verb === 'v' && !integral)) return formatFloat(value, verb, spec);
  if (!integral) return badVerb(value, verb);
  const negative = value < 0;
  const magnitude = BigInt(Math.abs(value));
  const sign = negative ? '-' : spec.plus ? '+' : spec.space ? ' ' : '';
  switch (verb) {
    case 'v':
    case 'd':
      return padNumber(sign, '', magnitude.toString(10), spec);
    case 'b':
      return padNumber(sign, spec.sharp ? '0b' : '', magnitude.toString(2), spec);
    case 'o':
      return padNumber(sign, spec.sharp ? '0' : '', magnitude.toString(8), spec);
    case 'x':
      return padNumber(sign, spec.sharp ? '0x' : '', magnitude.toString(16), spec);
    case 'X':
      return padNumber(sign, spec.sharp ? '0X' : '', magnitude.toString(16).toUpperCase(), spec);
    case 'c':
      return pad(String.fromCodePoint(value), spec);
    case 'q':
      return pad(quoteGo(String.fromCodePoint(value), "'"), spec);
    default:
      return badVerb(value, verb);
  }
}

function padNumber(sign: string, prefix: string, digits: string, spec: Spec): string {
  const precise = spec.precision === undefined ? digits : digits.padStart(spec.precision, '0');
  const zero = spec.zero && spec.precision === undefined;
  return pad(sign + prefix + precise, { ...spec, zero }, sign + prefix);
}

function formatFloat(value: number, verb: string, spec: Spec): string {
  const negative = value < 0;
  const sign = negative ? '-' : spec.plus ? '+' : spec.space ? ' ' : '';
  const magnitude = Math.abs(value);
  if (Number.isNaN(value)) return pad(spec.plus ? '+NaN' : 'NaN', { ...spec, zero: false });
  if (!Number.isFinite(value)) return pad(negative ? '-Inf' : '+Inf', { ...spec, zero: false });
  let body: string;
  switch (verb) {
    case 'e':
    case 'E':
      body = exponential(magnitude, spec.precision ?? 6);
      break;
    case 'f':
    case 'F':
      body = fixed(magnitude, spec.precision ?? 6);
      break;
    default:
      body = general(magnitude, spec.precision);
  }
  if (verb === 'E' || verb === 'G') body = body.toUpperCase();
  return pad(sign + body, spec, sign);
}

function exponential(magnitude: number, precision: number): string {
  return magnitude.toExponential(precision).replace(/e([+-])(\d)$/, 'e$10$2');
}

function fixed(magnitude: number, precision: number): string {
  if (magnitude < 1e21) return magnitude.toFixed(precision);
  return BigInt(magnitude).toString() + (precision > 0 ? `.${'0'.repeat(precision)}` : '');
}

/** %g as strconv.FormatFloat: shortest digits unless a precision is given; %e for large or tiny exponents. */
function general(magnitude: number, precision: number | undefined): string {
  if (magnitude === 0) return '0';
  const significant = precision === 0 ? 1 : precision;
  const [mantissa, exponentText] = (
    significant === undefined ? magnitude.toExponential() : magnitude.toExponential(significant - 1)
  ).split('e') as [string, string];
  const digits = mantissa.replace('.', '').replace(/0+$/, '') || '0';
  const exponent = Number(exponentText);
  const point = exponent + 1;
  let limit = significant ?? 6;
  if (significant !== undefined && limit > digits.length && digits.length >= point) limit = digits.length;
  if (exponent < -4 || exponent >= limit) {
    const fraction = digits.length > 1 ? `.${digits.slice(1)}` : '';
    const exponentDigits = String(Math.abs(exponent)).padStart(2, '0');
    return `${digits[0]}${fraction}e${exponent < 0 ? '-' : '+'}${exponentDigits}`;
  }
  if (point <= 0) return `0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return digits + '0'.repeat(point - digits.length);
  return `${digits.slice(0, point)}.${digits.slice(point)}`;
}
